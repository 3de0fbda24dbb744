// Declared parameters (capsim/common/params.hpp) on a toy spec: parsing with defaults, ranges,
// required keys and unknown-key hints; the key table; values that read back to the same spec.
#include "capsim/common/params.hpp"

#include <gtest/gtest.h>

#include "capsim/common/yaml_view.hpp"
#include "input_error.hpp"

namespace capsim {
namespace {

using testing::error_of;

enum class Mode { Fast, Exact };

struct Inner {
  int lanes = 4;
  bool enabled = false;
};

struct Toy {
  std::string name;
  std::int64_t size_bytes = 64 * 1024;
  double ratio = 0.5;
  Mode mode = Mode::Fast;
  Inner inner;
};

const ParamSet<Toy>& toy_params() {
  static const ParamSet<Inner> inner =
      ParamSet<Inner>()
          .integer("lanes", &Inner::lanes, 1, 64, {"lanes", "vector lanes", "a guess"})
          .boolean("enabled", &Inner::enabled, {"", "switch", "off"});
  static const ParamSet<Toy> params =
      ParamSet<Toy>()
          .text("name", &Toy::name, {"", "a name", ""}, true)
          .integer("size_kib", &Toy::size_bytes, 1, 1024, {"KiB", "a size | with a bar", "64 KiB"}, false,
                   1024)
          .number("ratio", &Toy::ratio, 0.0, 1.0, {"", "a share", "half"})
          .choice("mode", &Toy::mode, {{"fast", Mode::Fast}, {"exact", Mode::Exact}}, {"", "how", "fast"})
          .section("inner", &Toy::inner, inner);
  return params;
}

Toy parse(const std::string& text) {
  auto doc = YamlDocument::parse(text, "toy.yaml");
  return toy_params().parse(doc.root());
}

TEST(Params, AbsentKeysKeepTheStructDefaultsAndPresentOnesAreReadScaled) {
  const Toy t = parse("name: a\nsize_kib: 2\ninner: {lanes: 8}\n");
  EXPECT_EQ(t.name, "a");
  EXPECT_EQ(t.size_bytes, 2048);  // KiB key, bytes field
  EXPECT_DOUBLE_EQ(t.ratio, 0.5);
  EXPECT_EQ(t.mode, Mode::Fast);
  EXPECT_EQ(t.inner.lanes, 8);
  EXPECT_FALSE(t.inner.enabled);
}

TEST(Params, ErrorsNameFileLineKeyAndTheDeclaredRange) {
  EXPECT_EQ(error_of([] { parse("name: a\nsize_kib: 4096\n"); }),
            "toy.yaml:2: key 'size_kib': expected an integer in [1, 1024], got '4096'");
  EXPECT_EQ(error_of([] { parse("name: a\ninner:\n  lanes: 0\n"); }),
            "toy.yaml:3: key 'inner.lanes': expected an integer in [1, 64], got '0'");
  EXPECT_EQ(error_of([] { parse("name: a\nmode: slow\n"); }),
            "toy.yaml:2: key 'mode': expected one of 'fast' or 'exact', got 'slow'");
  const std::string unknown = error_of([] { parse("name: a\nrattio: 0.1\n"); });
  EXPECT_NE(unknown.find("toy.yaml:2"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("did you mean 'ratio'"), std::string::npos) << unknown;
  const std::string missing = error_of([] { parse("ratio: 0.1\n"); });
  EXPECT_NE(missing.find("'name'"), std::string::npos) << missing;
  EXPECT_NE(missing.find("required"), std::string::npos) << missing;
}

TEST(Params, RowsCarryDefaultsFromADefaultConstructedSpecAndDottedKeys) {
  const auto rows = toy_params().rows();
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(rows[0].key, "name");
  EXPECT_EQ(rows[0].default_text, "required");
  EXPECT_EQ(rows[1].default_text, "64");  // in the key's unit, KiB
  EXPECT_EQ(rows[1].range_text, "1..1024");
  EXPECT_EQ(rows[2].default_text, "0.5");
  EXPECT_EQ(rows[3].default_text, "fast");
  EXPECT_EQ(rows[3].range_text, "`fast`, `exact`");
  EXPECT_EQ(rows[4].key, "inner.lanes");
  EXPECT_EQ(rows[4].default_text, "4");
  EXPECT_EQ(rows[5].key, "inner.enabled");
  EXPECT_EQ(rows[5].default_text, "false");
}

TEST(Params, MarkdownEscapesBarsSoEveryRowHasSevenCells) {
  const std::string table = params_markdown(toy_params().rows());
  EXPECT_NE(table.find("| `size_kib` | integer | KiB | `64` | 1..1024 | a size \\| with a bar | 64 KiB |"),
            std::string::npos)
      << table;
}

TEST(Params, PrintedValuesReadBackToTheSameSpec) {
  const Toy t =
      parse("name: \"x: y\"\nsize_kib: 3\nratio: 0.1\nmode: exact\ninner: {lanes: 2, enabled: true}\n");
  const std::string yaml = params_yaml(toy_params().values(t), toy_params().rows());
  const Toy back = parse(yaml);
  EXPECT_EQ(back.name, "x: y");
  EXPECT_EQ(back.size_bytes, 3 * 1024);
  EXPECT_DOUBLE_EQ(back.ratio, 0.1);  // shortest text that reads back exactly
  EXPECT_EQ(back.mode, Mode::Exact);
  EXPECT_EQ(back.inner.lanes, 2);
  EXPECT_TRUE(back.inner.enabled);
  EXPECT_NE(yaml.find("size_kib: 3"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("# KiB"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("inner:\n  lanes: 2"), std::string::npos) << yaml;
}

TEST(Params, NumbersKeepADecimalPointSoTheyStayNumbers) {
  EXPECT_EQ(param_detail::format_number(800.0), "800.0");
  EXPECT_EQ(param_detail::format_number(0.1), "0.1");
  EXPECT_EQ(param_detail::format_number(1e-20), "1e-20");
}

// A power-of-two key: the range says so, a non-power names the reason; a default given in words
// is documented as written, and the check that fills it in runs after every key is read.
struct Banks {
  int banks = 8;
  int spare = 0;  // 0: not given, the check makes it banks / 2
};

const ParamSet<Banks>& bank_params() {
  static const ParamSet<Banks> params =
      ParamSet<Banks>()
          .power_of_two("banks", &Banks::banks, 2, 64, {"", "banks", "8"}, "bank bits of the address")
          .integer("spare", &Banks::spare, 1, 64, {"", "spare banks", ""})
          .default_text("half of `banks`")
          .check([](const YamlView& view, Banks& b) {
            if (!view.has("spare")) b.spare = b.banks / 2;
          });
  return params;
}

TEST(Params, PowerOfTwoAndDefaultsInWords) {
  const auto read = [](const std::string& text) {
    auto doc = YamlDocument::parse(text, "banks.yaml");
    return bank_params().parse(doc.root());
  };
  EXPECT_EQ(read("banks: 16\n").spare, 8);
  EXPECT_EQ(read("banks: 16\nspare: 3\n").spare, 3);
  EXPECT_EQ(read("{}\n").banks, 8);
  EXPECT_EQ(error_of([&] { read("banks: 12\n"); }),
            "banks.yaml:1: key 'banks': expected a power of two (bank bits of the address), got '12'");
  EXPECT_EQ(error_of([&] { read("banks: 1\n"); }),
            "banks.yaml:1: key 'banks': expected an integer in [2, 64], got '1'");
  const auto rows = bank_params().rows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].range_text, "power of two, 2..64");
  EXPECT_EQ(rows[0].default_text, "8");
  EXPECT_EQ(rows[1].default_text, "half of `banks`");
}

}  // namespace
}  // namespace capsim
