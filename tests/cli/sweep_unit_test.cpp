// Sweep files, point expansion, ids and hashes, without running anything.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "capsim/common/csv.hpp"
#include "capsim/common/error.hpp"
#include "capsim/sweep/aggregate.hpp"
#include "capsim/sweep/points.hpp"
#include "capsim/sweep/sha256.hpp"
#include "capsim/sweep/sweep_spec.hpp"
#include "sweep_test_support.hpp"

namespace capsim::sweep {
namespace {

using ::testing::HasSubstr;
using testing::Scratch;

TEST(Sha256, MatchesFips180Vectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, IncrementalUpdatesEqualOneShot) {
  const std::string text(200, 'x');
  Sha256 h;
  for (std::size_t i = 0; i < text.size(); i += 7) h.update(std::string_view(text).substr(i, 7));
  EXPECT_EQ(h.hex_digest(), sha256_hex(text));
}

// A sweep file in a scratch directory, beside two small traces.
class SweepSpecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    scratch_.write_trace("a.trace", 8, 8, "neta");
    scratch_.write_trace("b.trace", 8, 8, "netb");
  }

  SweepSpec parse(const std::string& body) {
    const std::string text = "format: capsim-sweep\nversion: 1\narch: " + testing::edge_arch() +
                             "\nplans: [none, uniform:0.5]\n" + body;
    return parse_sweep_spec(text, scratch_.path("sweep.yaml"));
  }

  // Resolved workloads as prepare_sweep would make them, without reading the traces.
  static std::vector<ResolvedWorkload> workloads(const SweepSpec& spec) {
    std::vector<ResolvedWorkload> out;
    for (const auto& w : spec.workloads) {
      ResolvedWorkload r;
      r.network = w.name.empty() ? w.trace.substr(w.trace.size() - 7, 1) : w.name;
      r.trace = w.trace;
      for (const auto& p : w.plans) r.plans.push_back({p.arg, p.arg, ""});
      out.push_back(r);
    }
    return out;
  }

  std::string message_of(const std::string& body) {
    try {
      parse(body);
    } catch (const InputError& e) {
      return e.what();
    }
    return "no error";
  }

  Scratch scratch_;
};

std::string axes_of(const Point& p) {
  std::string out;
  for (const auto& v : p.axis_values) out += (out.empty() ? "" : ",") + v;
  return out;
}

TEST_F(SweepSpecTest, GridCrossesAxesLastFastestWithinPlansWithinWorkloads) {
  const SweepSpec spec = parse(
      "workloads:\n  - {trace: a.trace, name: A}\n  - {trace: b.trace, name: B, plans: [none]}\n"
      "axes:\n  buffer.capacity_kib: [64, 128, 256]\n  dram.preset: [lpddr4-3200, hbm2]\n");
  const auto points = expand_points(spec, workloads(spec));
  ASSERT_EQ(points.size(), (2u + 1u) * 3u * 2u);
  EXPECT_EQ(spec.axis_keys(), (std::vector<std::string>{"buffer.capacity_kib", "dram.preset"}));
  EXPECT_EQ(axes_of(points[0]), "64,lpddr4-3200");
  EXPECT_EQ(axes_of(points[1]), "64,hbm2");
  EXPECT_EQ(axes_of(points[2]), "128,lpddr4-3200");
  EXPECT_EQ(axes_of(points[5]), "256,hbm2");
  EXPECT_EQ(points[0].plan_label, "none");
  EXPECT_EQ(points[6].plan_label, "uniform:0.5");
  EXPECT_EQ(points[12].network, "B");
  EXPECT_EQ(points[17].network, "B");
  EXPECT_EQ(points[3].overrides, (std::vector<std::string>{"buffer.capacity_kib=128", "dram.preset=hbm2"}));
  for (std::size_t i = 0; i < points.size(); ++i) EXPECT_EQ(points[i].index, i);
}

TEST_F(SweepSpecTest, ZipGroupsAdvanceTogetherAfterTheGridAxes) {
  const SweepSpec spec = parse(
      "workloads: [{trace: a.trace, plans: [none]}]\n"
      "axes: {controller.spill_policy: [always_spill, spill_when_needed]}\n"
      "zip:\n  - buffer.capacity_kib: [64, 128, 256]\n    dram.preset: [lpddr4-3200, ddr4-3200, hbm2]\n");
  const auto points = expand_points(spec, workloads(spec));
  ASSERT_EQ(points.size(), 2u * 3u);
  EXPECT_EQ(axes_of(points[0]), "always_spill,64,lpddr4-3200");
  EXPECT_EQ(axes_of(points[1]), "always_spill,128,ddr4-3200");
  EXPECT_EQ(axes_of(points[2]), "always_spill,256,hbm2");
  EXPECT_EQ(axes_of(points[3]), "spill_when_needed,64,lpddr4-3200");
}

TEST_F(SweepSpecTest, SeveralZipGroupsAreCrossedWithEachOther) {
  const SweepSpec spec = parse(
      "workloads: [{trace: a.trace, plans: [none]}]\n"
      "zip:\n  - {buffer.capacity_kib: [64, 128], buffer.banks: [8, 16]}\n"
      "  - {dram.preset: [lpddr4-3200, ddr4-3200, hbm2], energy.table: [45nm, 45nm, 45nm]}\n");
  EXPECT_EQ(expand_points(spec, workloads(spec)).size(), 2u * 3u);
}

TEST_F(SweepSpecTest, NoAxesGivesOnePointPerWorkloadAndPlan) {
  const SweepSpec spec =
      parse("set: {controller.spill_policy: spill_when_needed}\nworkloads: [{trace: a.trace}]\n");
  const auto points = expand_points(spec, workloads(spec));
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(points[0].overrides, std::vector<std::string>{"controller.spill_policy=spill_when_needed"});
}

TEST_F(SweepSpecTest, IdsAreDistinctAndDoNotDependOnAxisOrder) {
  const SweepSpec one = parse(
      "workloads: [{trace: a.trace}]\naxes:\n  buffer.capacity_kib: [64, 128]\n  dram.preset: [hbm2, "
      "ddr4-3200]\n");
  const SweepSpec two = parse(
      "workloads: [{trace: a.trace}]\naxes:\n  dram.preset: [ddr4-3200, hbm2]\n  buffer.capacity_kib: [128, "
      "64]\n");
  const auto a = expand_points(one, workloads(one));
  const auto b = expand_points(two, workloads(two));
  std::set<std::string> ids_a, ids_b;
  for (const auto& p : a) ids_a.insert(p.id);
  for (const auto& p : b) ids_b.insert(p.id);
  EXPECT_EQ(ids_a.size(), a.size());
  EXPECT_EQ(ids_a, ids_b);
  EXPECT_THAT(a[0].id, ::testing::StartsWith("a-none-"));
}

TEST_F(SweepSpecTest, RecordsLinesOfKeysAndValues) {
  const SweepSpec spec =
      parse("workloads: [{trace: a.trace}]\naxes:\n  buffer.capacity_kib:\n    - 64\n    - 128\n");
  const Axis& axis = spec.dimensions.at(0).axes.at(0);
  EXPECT_EQ(axis.key_line, 7);  // after format, version, arch, plans, workloads, axes
  EXPECT_EQ(axis.values.at(0).line, 8);
  EXPECT_EQ(axis.values.at(1).line, 9);
}

TEST_F(SweepSpecTest, RejectsBadStructureWithFileLineAndKey) {
  EXPECT_THAT(
      message_of(
          "workloads: [{trace: a.trace}]\nzip:\n  - {buffer.capacity_kib: [64, 128], dram.preset: [hbm2]}\n"),
      HasSubstr(
          "sweep.yaml:7: key 'zip[0].dram.preset': expected as many values as 'buffer.capacity_kib' (2)"));
  EXPECT_THAT(
      message_of("workloads: [{trace: a.trace}]\nset: {dram.preset: hbm2}\naxes: {dram.preset: [hbm2]}\n"),
      HasSubstr("sweep.yaml:7: key 'axes.dram.preset': expected a key path not already given"));
  EXPECT_THAT(message_of("workloads: [{trace: a.trace}]\naxes: {buffer.capacity_kib: []}\n"),
              HasSubstr("sweep.yaml:6: key 'axes.buffer.capacity_kib': expected a non-empty list"));
  EXPECT_THAT(message_of("workloads: [{trace: a.trace}]\naxes: {buffer.capacity_kib: [64, 64]}\n"),
              HasSubstr("64 (repeated)"));
  EXPECT_THAT(message_of("workloads: [{trace: missing.trace}]\n"),
              HasSubstr("sweep.yaml:5: key 'workloads[0].trace': expected a trace file"));
  EXPECT_THAT(message_of("workloads: [{trace: a.trace, model: resnet18}]\n"),
              HasSubstr("exactly one of 'trace'"));
  EXPECT_THAT(message_of("workloads: [{trace: a.trace, plan: [none]}]\n"),
              HasSubstr("did you mean 'plans'?"));
  EXPECT_THAT(message_of("workload: []\n"), HasSubstr("did you mean 'workloads'?"));
  EXPECT_THAT(message_of("workloads: [{trace: a.trace, plans: [none, none]}]\n"),
              HasSubstr("each plan once"));
  EXPECT_THAT(message_of("workloads: [{trace: a.trace, plans: [none, gone.yaml]}]\n"),
              HasSubstr("sweep.yaml:5: key 'workloads[0].plans[1]': expected a plan file"));
  EXPECT_THAT(
      message_of("workloads: [{trace: a.trace}]\nzip: [{buffer.banks: [8, 8], dram.preset: [hbm2, hbm2]}]\n"),
      HasSubstr("expected distinct combinations of values (entry 2 repeats an earlier one)"));
  EXPECT_THAT(message_of("workloads: [{trace: a.trace}]\naxes: {Buffer.Capacity: [1]}\n"),
              HasSubstr("expected an architecture key path"));
}

TEST(Shard, ParsesIOfNAndDealsRoundRobin) {
  EXPECT_EQ(parse_shard("2/8"), std::make_pair(2, 8));
  EXPECT_EQ(parse_shard("1/1"), std::make_pair(1, 1));
  for (const char* bad : {"0/2", "3/2", "1", "a/b", "1/2x", "-1/2"})
    EXPECT_THROW(parse_shard(bad), InputError) << bad;
  EXPECT_EQ(shard_of(0, 3), 1);
  EXPECT_EQ(shard_of(4, 3), 2);
  EXPECT_EQ(shard_of(5, 3), 3);
}

TEST(Csv, QuotesWhatNeedsQuotingAndParsesItBack) {
  const std::vector<std::string> fields = {"plain", "a,b", "say \"hi\"", "two\nlines", ""};
  const CsvTable table = parse_csv("h1,h2,h3,h4,h5\n" + csv_row(fields), "test");
  ASSERT_EQ(table.rows.size(), 1u);
  EXPECT_EQ(table.rows[0], fields);
  EXPECT_EQ(table.column("h3"), 2);
  EXPECT_EQ(table.column("nope"), -1);
  EXPECT_THROW(parse_csv("a,b\n1\n", "test"), std::runtime_error);
}

// The points.csv table of docs/sweeps.md is the one generated from the declared columns, and every
// numeric total carries its unit.
TEST(PointColumns, DocsTableIsTheGeneratedOne) {
  std::ifstream in(std::string(CAPSIM_TEST_SOURCE_DIR) + "/docs/sweeps.md");
  std::stringstream text;
  text << in.rdbuf();
  const std::string docs = text.str();
  const std::string begin = "<!-- generated by `capsim params --point-columns`: begin -->\n";
  const auto a = docs.find(begin);
  const auto b = docs.find("<!-- generated by `capsim params --point-columns`: end -->");
  ASSERT_TRUE(a != std::string::npos && b != std::string::npos) << "docs/sweeps.md lacks the markers";
  EXPECT_EQ(docs.substr(a + begin.size(), b - a - begin.size()), point_columns_markdown())
      << "docs/sweeps.md is stale: replace the table between its markers with `capsim params "
         "--point-columns`";
}

TEST(PointColumns, NamesAreUniqueAndTotalsCarryUnits) {
  std::set<std::string> names;
  for (const auto& c : point_columns()) {
    EXPECT_TRUE(names.insert(c.name).second) << c.name;
    EXPECT_FALSE(c.description.empty()) << c.name;
  }
  EXPECT_EQ(names.count("energy_pj"), 1u);
  EXPECT_EQ(point_columns().front().unit, "cycles");
  EXPECT_EQ(point_columns().back().name, "error");
}

}  // namespace
}  // namespace capsim::sweep
