#include "capsim/common/yaml_view.hpp"

#include <gtest/gtest.h>

#include "input_error.hpp"

namespace capsim {
namespace {

using testing::error_of;

const char* kSpec = R"(buffer:
  capacity_kib: 256
  banks: 8
pe_array: {rows: 16, cols: 16}
name: edge
)";

TEST(YamlView, ReadsTypedValuesWithDefaults) {
  auto doc = YamlDocument::parse(kSpec, "arch.yaml");
  auto buffer = doc.root().child("buffer");
  EXPECT_EQ(buffer.integer("capacity_kib", 1), 256);
  EXPECT_EQ(buffer.integer_or("width_bits", 64, 1), 64);
  EXPECT_EQ(doc.root().string("name"), "edge");
  EXPECT_EQ(buffer.path(), "buffer");
  EXPECT_EQ(buffer.key_path("banks"), "buffer.banks");
}

TEST(YamlView, RangeErrorNamesFileLineKeyAndExpectation) {
  auto doc = YamlDocument::parse(kSpec, "arch.yaml");
  auto msg = error_of([&] { doc.root().child("buffer").integer("banks", 16, 64); });
  EXPECT_EQ(msg, "arch.yaml:3: key 'buffer.banks': expected an integer in [16, 64], got '8'");
}

TEST(YamlView, WrongTypeIsReported) {
  auto doc = YamlDocument::parse("rows: sixteen\n", "a.yaml");
  EXPECT_EQ(error_of([&] { doc.root().integer("rows", 1); }),
            "a.yaml:1: key 'rows': expected a positive integer, got 'sixteen'");
}

TEST(YamlView, MissingKeyPointsAtTheParentMap) {
  auto doc = YamlDocument::parse(kSpec, "arch.yaml");
  auto msg = error_of([&] { doc.root().child("pe_array").integer("dataflow_rows", 1); });
  EXPECT_NE(msg.find("arch.yaml:4: key 'pe_array.dataflow_rows'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("the key is required"), std::string::npos) << msg;
}

TEST(YamlView, UnknownKeySuggestsClosestKnownKey) {
  auto doc = YamlDocument::parse("buffer:\n  capacity_kb: 4\n", "arch.yaml");
  auto msg = error_of([&] {
    doc.root().child("buffer").allow_keys({"capacity_kib", "banks", "width_bits"});
  });
  EXPECT_NE(msg.find("arch.yaml:2: key 'buffer.capacity_kb'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'capacity_kib'?"), std::string::npos) << msg;
}

TEST(YamlView, SyntaxErrorReportsLine) {
  auto msg = error_of([] { YamlDocument::parse("a: 1\nb: [1, 2\nc: 3\n", "bad.yaml"); });
  EXPECT_EQ(msg.rfind("bad.yaml:", 0), 0u) << msg;
  EXPECT_NE(msg.find("invalid YAML"), std::string::npos) << msg;
}

TEST(YamlView, MissingFileIsAnInputError) {
  auto msg = error_of([] { YamlDocument::load_file("/nonexistent/arch.yaml"); });
  EXPECT_EQ(msg, "/nonexistent/arch.yaml: cannot open file (does it exist and is it readable?)");
}

TEST(YamlOverride, SetReplacesAndCreatesValues) {
  auto doc = YamlDocument::parse(kSpec, "arch.yaml");
  doc.apply_override("buffer.capacity_kib=512");
  doc.apply_override("controller.policy=spill_when_needed");
  EXPECT_EQ(doc.root().child("buffer").integer("capacity_kib", 1), 512);
  EXPECT_EQ(doc.root().child("controller").string("policy"), "spill_when_needed");
}

TEST(YamlOverride, ErrorsOnOverriddenValuesNameTheSetArgument) {
  auto doc = YamlDocument::parse(kSpec, "arch.yaml");
  doc.apply_override("buffer.capacity_kib=0");
  EXPECT_EQ(error_of([&] { doc.root().child("buffer").integer("capacity_kib", 1); }),
            "--set buffer.capacity_kib=0: key 'buffer.capacity_kib': expected a positive integer, got '0'");
  doc.apply_override("buffer.capcity_kib=4");
  auto msg = error_of([&] { doc.root().child("buffer").allow_keys({"capacity_kib", "banks"}); });
  EXPECT_EQ(msg.rfind("--set buffer.capcity_kib=4: key 'buffer.capcity_kib'", 0), 0u) << msg;
  EXPECT_NE(msg.find("did you mean 'capacity_kib'?"), std::string::npos) << msg;
}

TEST(YamlOverride, MalformedAssignmentAndScalarOnPathAreRejected) {
  auto doc = YamlDocument::parse(kSpec, "arch.yaml");
  EXPECT_NE(error_of([&] { doc.apply_override("buffer.capacity_kib"); }).find("expected KEY.PATH=VALUE"),
            std::string::npos);
  EXPECT_NE(error_of([&] { doc.apply_override("name.inner=1"); }).find("key 'name': expected a section"),
            std::string::npos);
}

TEST(YamlView, BaseLayerSuppliesMissingKeysAndLocalKeysWin) {
  auto preset = YamlDocument::parse("channels: 2\nbanks: 8\n", "dram/lpddr4.yaml");
  auto arch = YamlDocument::parse("dram: {preset: lpddr4, channels: 4}\n", "arch.yaml");
  auto view = arch.root().child("dram").with_base(preset.root());
  EXPECT_EQ(view.integer("channels", 1), 4);
  EXPECT_EQ(view.integer("banks", 1), 8);
  auto msg = error_of([&] { view.integer("banks", 16); });
  EXPECT_EQ(msg.rfind("dram/lpddr4.yaml:2: key 'banks'", 0), 0u) << msg;
}

TEST(ClosestMatch, FindsNearWordsOnly) {
  EXPECT_EQ(closest_match("capacty_kib", {"capacity_kib", "banks"}), "capacity_kib");
  EXPECT_EQ(closest_match("zzzzzz", {"capacity_kib", "banks"}), "");
}

}  // namespace
}  // namespace capsim
