// The shipped energy tables (configs/energy/*.yaml, docs/energy.md): they load, they are validated,
// and the three technology nodes order their prices as the sources say.
#include "capsim/sim/energy.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "capsim/sim/arch_spec.hpp"
#include "capsim/sim/dram_actions.hpp"
#include "input_error.hpp"
#include "run_command.hpp"

namespace capsim::sim {
namespace {

using capsim::testing::error_of;
using capsim::testing::TempDir;
using capsim::testing::write_text;

const std::string kEdge = std::string(CAPSIM_SOURCE_DIR) + "/configs/arch/edge.yaml";
const std::vector<std::string> kNodes = {"45nm", "16nm", "7nm"};  // oldest first

EnergyTable table_of(const std::string& table, std::vector<std::string> overrides = {}) {
  overrides.push_back("energy.table=" + table);
  return resolve_energy_table(load_arch_spec(kEdge, overrides));
}

double price(const EnergyTable& t, const std::string& component, const std::string& action) {
  return t.pj_per_action.at(component).at(action);
}

TEST(EnergyTables, EveryShippedNodeLoadsAndPricesEveryOnChipAction) {
  for (const auto& node : kNodes) {
    SCOPED_TRACE(node);
    const EnergyTable t = table_of(node);
    EXPECT_EQ(t.source, std::filesystem::path(CAPSIM_SOURCE_DIR "/configs/energy/" + node + ".yaml")
                            .lexically_normal()
                            .string());
    EXPECT_NE(t.name.find(node), std::string::npos) << t.name;
    for (const auto& [component, action] :
         std::vector<std::pair<std::string, std::string>>{{"pe", "mac"},
                                                          {"pe", "vector_op"},
                                                          {"sram", "read_access"},
                                                          {"sram", "write_access"},
                                                          {"projection", "mac"},
                                                          {"quantization", "value"},
                                                          {"dram", "read_burst"},
                                                          {"dram", "activate"}})
      EXPECT_GT(price(t, component, action), 0.0) << component << "." << action;
  }
}

TEST(EnergyTables, NewerNodesCostLessForLogicAndSram) {
  const std::vector<std::pair<std::string, std::string>> logic = {
      {"pe", "mac"}, {"pe", "vector_op"}, {"projection", "mac"}, {"quantization", "value"}};
  for (std::size_t i = 1; i < kNodes.size(); ++i) {
    const EnergyTable older = table_of(kNodes[i - 1]), newer = table_of(kNodes[i]);
    for (const auto& [component, action] : logic)
      EXPECT_LT(price(newer, component, action), price(older, component, action))
          << kNodes[i] << " vs " << kNodes[i - 1] << ": " << component << "." << action;
  }
  // SRAM at bank sizes below, at, between and above the tables' points (16 banks each).
  for (const char* capacity_kib : {"64", "128", "256", "512", "4096", "16384", "65536"}) {
    const std::vector<std::string> buffer = {std::string("buffer.capacity_kib=") + capacity_kib};
    for (std::size_t i = 1; i < kNodes.size(); ++i) {
      const EnergyTable older = table_of(kNodes[i - 1], buffer), newer = table_of(kNodes[i], buffer);
      EXPECT_LT(price(newer, "sram", "read_access"), price(older, "sram", "read_access"))
          << kNodes[i] << " vs " << kNodes[i - 1] << " at " << capacity_kib << " KiB";
    }
  }
}

TEST(EnergyTables, SramPricesAreTheSourcesFiguresAtTheEdgeBank) {
  // edge.yaml: 256 KiB in 16 banks of 128 bits. A 16 KiB bank lies halfway (log scale) between the
  // 8 KB and 32 KB points: the geometric mean of their 64-bit energies, twice for 128 bits.
  EXPECT_NEAR(price(table_of("45nm"), "sram", "read_access"), 2 * std::sqrt(10.0 * 20.0), 1e-9);  // Horowitz
  EXPECT_NEAR(price(table_of("7nm"), "sram", "read_access"), 2 * std::sqrt(7.5 * 8.5), 1e-9);     // Jouppi
  EXPECT_NEAR(price(table_of("16nm"), "sram", "read_access"), 2 * std::sqrt(8.2 * 11.0), 1e-9);
  // 1 MiB banks: the last point itself.
  EXPECT_NEAR(price(table_of("7nm", {"buffer.capacity_kib=16384"}), "sram", "read_access"), 2 * 14.0, 1e-9);
}

TEST(EnergyTables, DramPricesComeFromThePresetWhateverTheNode) {
  // The DRAM is another chip: no node table overrides it (docs/energy.md).
  for (const char* preset : {"lpddr4-3200", "lpddr5-6400", "ddr4-3200", "hbm2"}) {
    const std::vector<std::string> dram = {std::string("dram.preset=") + preset};
    const auto reference = table_of("45nm", dram).pj_per_action.at("dram");
    for (const auto& node : kNodes)
      EXPECT_EQ(table_of(node, dram).pj_per_action.at("dram"), reference) << preset;
  }
  EXPECT_NE(table_of("7nm", {"dram.preset=hbm2"}).pj_per_action.at("dram"),
            table_of("7nm", {"dram.preset=ddr4-3200"}).pj_per_action.at("dram"));
}

// The DRAM prices a run writes to energy_table.yaml read back exactly: `capsim recost` re-prices a
// run from that file without simulating again, so no digit may be lost on the way.
TEST(EnergyTables, DramPricesRoundTripThroughTheResolvedTable) {
  TempDir dir("capsim_energy_round_trip");
  for (const char* preset : {"lpddr4-3200", "lpddr5-6400", "ddr4-3200", "hbm2"}) {
    SCOPED_TRACE(preset);
    const ArchSpec arch = load_arch_spec(kEdge, {std::string("dram.preset=") + preset});
    const EnergyTable table = resolve_energy_table(arch);
    EXPECT_EQ(table.pj_per_action.at("dram"), dram_energy_per_action(arch.dram));
    const std::string path = dir / (std::string(preset) + ".yaml");
    write_text(path, format_energy_table(table));
    EXPECT_EQ(read_resolved_energy_table(path).pj_per_action, table.pj_per_action);
  }
  write_text(dir / "bad.yaml",
             "format: capsim-energy-resolved\nversion: 1\nname: x\n"
             "pj_per_action:\n  dram:\n    read_burst: lots\n");
  EXPECT_THAT(error_of([&] { read_resolved_energy_table(dir / "bad.yaml"); }),
              ::testing::HasSubstr("bad.yaml:6: key 'pj_per_action.dram.read_burst'"));
}

// Log-log interpolation between the table's points, the nearest point's energy outside them.
// Between 32 KiB (20 pJ) and 1 MiB (100 pJ), 64 KiB is 1/5 of the way on the log axis:
// 20 x (100 / 20)^(1/5); 256 KiB is 3/5 of the way.
TEST(SramEnergy, InterpolatesLogLogAndHoldsTheEndPointsOutside) {
  const std::map<double, double> points = {{8, 10}, {32, 20}, {1024, 100}};
  auto at_kib = [&](double kib) { return sram_pj_per_64_bits(points, kib * 1024); };
  EXPECT_DOUBLE_EQ(at_kib(1), 10);
  EXPECT_DOUBLE_EQ(at_kib(8), 10);
  EXPECT_NEAR(at_kib(16), std::sqrt(10.0 * 20.0), 1e-12);
  EXPECT_NEAR(at_kib(32), 20, 1e-12);
  EXPECT_NEAR(at_kib(64), 20 * std::pow(5.0, 0.2), 1e-12);
  EXPECT_NEAR(at_kib(256), 20 * std::pow(5.0, 0.6), 1e-12);
  EXPECT_DOUBLE_EQ(at_kib(1024), 100);
  EXPECT_DOUBLE_EQ(at_kib(64 * 1024 * 1024), 100) << "no extrapolation above the last point";
}

// The resolved price of one bank access: the 64-bit energy at the bank size (capacity / banks),
// scaled linearly to the access width.
TEST(SramEnergy, ResolvedPriceFollowsBankSizeAndAccessWidth) {
  const double at_64_kib = 20 * std::pow(5.0, 0.2), at_256_kib = 20 * std::pow(5.0, 0.6);
  // 1 MiB in 16 banks of 128 bits: 64 KiB banks, two 64-bit words per access.
  EXPECT_NEAR(price(table_of("45nm", {"buffer.capacity_kib=1024"}), "sram", "read_access"), 2 * at_64_kib,
              1e-9);
  // The same banks 256 bits wide: four words.
  EXPECT_NEAR(
      price(table_of("45nm", {"buffer.capacity_kib=1024", "buffer.width_bits=256"}), "sram", "read_access"),
      4 * at_64_kib, 1e-9);
  // Four banks of 256 KiB, 64 bits wide.
  EXPECT_NEAR(price(table_of("45nm", {"buffer.capacity_kib=1024", "buffer.banks=4", "buffer.width_bits=64"}),
                    "sram", "read_access"),
              at_256_kib, 1e-9);
  // 45nm.yaml: write_factor 1.0.
  const EnergyTable t = table_of("45nm", {"buffer.capacity_kib=1024"});
  EXPECT_DOUBLE_EQ(price(t, "sram", "write_access"), price(t, "sram", "read_access"));
}

class BadEnergyTable : public ::testing::Test {
 protected:
  // Writes a valid table changed by replacing `from` with `to`; returns its path.
  std::string write_table(const std::string& from, const std::string& to) {
    std::string text =
        "format: capsim-energy\nversion: 1\nname: t\n"  // 1-3
        "pe: {mac: 0.2, vector_op: 0.03}\n"             // 4
        "sram:\n"                                       // 5
        "  access_pj_per_64_bits:\n"                    // 6
        "    - {bank_kib: 8, pj: 7.5}\n"                // 7
        "    - {bank_kib: 32, pj: 8.5}\n"               // 8
        "projection: {mac: 0.27}\n"                     // 9
        "quantization: {value: 0.34}\n";                // 10
    const auto at = text.find(from);
    if (at == std::string::npos)
      ADD_FAILURE() << "fixture lacks " << from;
    else
      text.replace(at, from.size(), to);
    const std::string path = dir_ / "bad.yaml";
    write_text(path, text);
    return path;
  }
  std::string error_with(const std::string& from, const std::string& to) {
    const std::string path = write_table(from, to);
    return error_of([&] { table_of(path); });
  }
  TempDir dir_{"capsim_energy"};
};

TEST_F(BadEnergyTable, TheUneditedFixtureResolves) {
  const EnergyTable t = table_of(write_table("", ""));
  EXPECT_EQ(price(t, "pe", "mac"), 0.2);
  EXPECT_NEAR(price(t, "sram", "read_access"), 2 * std::sqrt(7.5 * 8.5), 1e-9);
}

// write_factor scales the write price; a `dram:` section overrides only the DRAM actions it names
// (the others stay the preset's, from its IDD currents); an unknown DRAM action is an error.
TEST_F(BadEnergyTable, WriteFactorAndDramOverrides) {
  const EnergyTable base = table_of(write_table("", ""));
  const double read = 2 * std::sqrt(7.5 * 8.5);
  EXPECT_NEAR(price(base, "sram", "write_access"), read, 1e-9) << "write_factor defaults to 1";
  const EnergyTable t =
      table_of(write_table("quantization: {value: 0.34}\n",
                           "quantization: {value: 0.34}\ndram: {read_burst: 1234.5, activate: 0}\n"));
  EXPECT_DOUBLE_EQ(price(t, "dram", "read_burst"), 1234.5);
  EXPECT_DOUBLE_EQ(price(t, "dram", "activate"), 0.0);
  const auto& preset = base.pj_per_action.at("dram");
  EXPECT_GT(preset.at("read_burst"), 0.0);
  EXPECT_NE(preset.at("read_burst"), 1234.5);
  for (const char* action : {"write_burst", "refresh", "active_standby_ns", "precharge_standby_ns"})
    EXPECT_DOUBLE_EQ(price(t, "dram", action), preset.at(action)) << action;
  EXPECT_EQ(t.pj_per_action.at("dram").size(), preset.size());

  const EnergyTable w = table_of(
      write_table("    - {bank_kib: 32, pj: 8.5}\n", "    - {bank_kib: 32, pj: 8.5}\n  write_factor: 1.5\n"));
  EXPECT_NEAR(price(w, "sram", "read_access"), read, 1e-9);
  EXPECT_NEAR(price(w, "sram", "write_access"), 1.5 * read, 1e-9);

  EXPECT_THAT(
      error_with("quantization: {value: 0.34}\n", "quantization: {value: 0.34}\ndram: {read_bursts: 1}\n"),
      ::testing::HasSubstr("key 'dram.read_bursts'"));
}

TEST_F(BadEnergyTable, ErrorsNameFileLineKeyAndExpectation) {
  using ::testing::HasSubstr;
  EXPECT_THAT(
      error_with("pe: {mac: 0.2, vector_op: 0.03}", "pe: {mac: 0.2}"),
      HasSubstr("bad.yaml:4: key 'pe.vector_op': expected a non-negative number (the key is required)"));
  EXPECT_THAT(error_with("mac: 0.27", "mac: -1"),
              HasSubstr("bad.yaml:9: key 'projection.mac': expected a non-negative number, got '-1'"));
  EXPECT_THAT(error_with("vector_op: 0.03", "vectorop: 0.03"), HasSubstr("did you mean 'vector_op'?"));
  EXPECT_THAT(error_with("format: capsim-energy", "format: capsim-energies"),
              HasSubstr("bad.yaml:1: key 'format': expected 'capsim-energy'"));
  EXPECT_THAT(
      error_with("{bank_kib: 32, pj: 8.5}", "{bank_kib: 32, pj: 6}"),
      HasSubstr("bad.yaml:8: key 'sram.access_pj_per_64_bits[1].pj': expected an energy at least the next "
                "smaller bank's (7.5 pJ at 8 KiB)"));
  // Order in the file does not matter; the sizes do.
  EXPECT_THAT(
      error_with("    - {bank_kib: 8, pj: 7.5}\n    - {bank_kib: 32, pj: 8.5}\n",
                 "    - {bank_kib: 32, pj: 8.5}\n    - {bank_kib: 8, pj: 9}\n"),
      HasSubstr("bad.yaml:7: key 'sram.access_pj_per_64_bits[0].pj': expected an energy at least the next "
                "smaller bank's (9 pJ at 8 KiB)"));
}

}  // namespace
}  // namespace capsim::sim
