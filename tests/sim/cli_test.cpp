// `capsim simulate` and `capsim recost` as a user runs them: outputs, units, bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "capsim/trace/trace.hpp"
#include "run_command.hpp"
#include "trace_builder.hpp"

namespace capsim {
namespace {

using testing::read_text;
using testing::run_command;
using testing::TempDir;
using testing::write_text;

const std::string kCapsim = CAPSIM_BINARY;
const std::string kEdge = std::string(CAPSIM_SOURCE_DIR) + "/configs/arch/edge.yaml";

std::string write_network(const TempDir& dir) {
  const std::string path = dir / "net.trace";
  trace::write_trace(testing::small_residual_network(16, 16), path);
  return path;
}

std::string simulate(const std::string& trace, const std::string& out, const std::string& extra = "") {
  return kCapsim + " simulate --quiet --arch " + kEdge + " --trace " + trace + " --out " + out + " " + extra;
}

TEST(SimulateCli, WritesSummaryLayersCountsAndEnergyTable) {
  TempDir dir("capsim_cli");
  auto r = run_command(simulate(write_network(dir), dir / "run"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* file : {"summary.json", "layers.csv", "counts.json", "energy_table.yaml"})
    EXPECT_TRUE(std::filesystem::exists(dir / ("run/" + std::string(file)))) << file;
  const auto s = nlohmann::json::parse(read_text(dir / "run/summary.json"));
  for (const char* key : {"cycles", "dram_read_bytes", "dram_write_bytes", "energy_pj"})
    EXPECT_TRUE(s["total"].contains(key)) << key;
  double parts = 0;
  for (const char* c : {"dram", "sram", "pe", "projection", "quantization"})
    parts += s["energy_pj"][c].get<double>();
  EXPECT_NEAR(parts, s["total"]["energy_pj"].get<double>(), 1e-6 * parts);
  // Hand count of small_residual_network(16, 16) under always_spill, plan none, 8-bit activations;
  // every layer fits one tile of 256 KiB, so each activation is written once and read once per
  // consumer. Reads: input 3x16x16 (768), stem 16x16x16 twice (main, shortcut: 8192), main,
  // shortcut, join, depthwise 32x8x8 once each (4 x 2048), pool 32 = 17184. Writes: stem 4096,
  // main, shortcut, join, depthwise 4 x 2048, pool 32, fc 10 = 12330. Weights: 8-bit weights and
  // 32-bit biases: stem 432 + 64, main 4608 + 128, shortcut 512 + 128, depthwise 288 + 128, fc
  // 320 + 40 = 6648.
  const auto& d = s["dram_bytes"];
  EXPECT_EQ(d["activation_read_bytes"].get<std::int64_t>(), 17184);
  EXPECT_EQ(d["weight_read_bytes"].get<std::int64_t>(), 6648);
  EXPECT_EQ(d["projection_matrix_read_bytes"].get<std::int64_t>(), 0);
  EXPECT_EQ(s["total"]["dram_read_bytes"].get<std::int64_t>(), 17184 + 6648);
  EXPECT_EQ(s["total"]["dram_write_bytes"].get<std::int64_t>(), 12330);
  // PE energy at 45 nm: 0.6 pJ per MAC, 0.1 pJ per vector op. MACs: stem 16x27x256 = 110592,
  // main 32x144x64 = 294912, shortcut 32x16x64 = 32768, depthwise 32x9x64 = 18432, fc 320:
  // 457024. Vector ops: join adds 2048, the 8x8 average pool 32 x 64 = 2048.
  EXPECT_NEAR(s["energy_pj"]["pe"].get<double>(), 0.6 * 457024 + 0.1 * (2048 + 2048), 1e-6);
  const std::string csv = read_text(dir / "run/layers.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 7) << "header and one row per layer";
}

TEST(SimulateCli, PrintsATableWithUnits) {
  TempDir dir("capsim_cli");
  auto r = run_command(kCapsim + " simulate --arch " + kEdge + " --trace " + write_network(dir) + " --out " +
                       (dir / "run") + " --plan uniform:0.5");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("plan uniform:0.5"), std::string::npos) << r.out;
  // Every total of summary.json, its DRAM parts and energy components, on its own line with its
  // value (integers exactly) and unit.
  const auto s = nlohmann::json::parse(read_text(dir / "run/summary.json"));
  auto line_of = [&](const std::string& name) {
    const auto at = r.out.find("  " + name + " ");
    if (at == std::string::npos) return std::string();
    return r.out.substr(at, r.out.find('\n', at) - at);
  };
  for (const char* section : {"total", "dram_bytes"})
    for (const auto& [name, value] : s[section].items()) {
      const std::string line = line_of(name);
      ASSERT_FALSE(line.empty()) << name << " missing from\n" << r.out;
      if (value.is_number_integer())
        EXPECT_NE(line.find(" " + value.dump() + " "), std::string::npos) << line;
    }
  EXPECT_NE(line_of("dram_bytes").find(" bytes"), std::string::npos);
  EXPECT_NE(line_of("cycles").find(" cycles"), std::string::npos);
  EXPECT_NE(line_of("energy_pj").find(" pJ"), std::string::npos);
  for (const auto& [component, pj] : s["energy_pj"].items())
    EXPECT_FALSE(line_of(component).empty()) << component;
}

struct BadInput {
  const char* what;
  std::string arch_text;   // empty: use the shipped edge.yaml
  std::string set;         // --set argument
  std::string trace_edit;  // replacement applied to the trace text: "from=>to"
  std::string expected;    // substring of the single error line
};

void PrintTo(const BadInput& c, std::ostream* os) { *os << c.what; }

class SimulateBadInput : public ::testing::TestWithParam<BadInput> {};

std::string edited(std::string text, const std::string& edit) {
  if (edit.empty()) return text;
  const auto arrow = edit.find("=>");
  const std::string from = edit.substr(0, arrow), to = edit.substr(arrow + 2);
  const auto at = text.find(from);
  if (at == std::string::npos)
    ADD_FAILURE() << "fixture lacks " << from;
  else
    text.replace(at, from.size(), to);
  return text;
}

TEST_P(SimulateBadInput, OneClearErrorExitTwoAndNoOutput) {
  const BadInput& c = GetParam();
  TempDir dir("capsim_bad");
  std::string arch = kEdge;
  if (!c.arch_text.empty()) {
    std::filesystem::create_directories(dir / "configs/arch");
    std::filesystem::copy(std::string(CAPSIM_SOURCE_DIR) + "/configs/dram", dir / "configs/dram");
    std::filesystem::copy(std::string(CAPSIM_SOURCE_DIR) + "/configs/energy", dir / "configs/energy");
    arch = dir / "configs/arch/bad.yaml";
    write_text(arch, c.arch_text);
  }
  const std::string trace = dir / "net.trace";
  write_text(trace, edited(trace::format_trace(testing::small_residual_network(16, 16)), c.trace_edit));
  auto r = run_command(kCapsim + " simulate --arch " + arch + " --trace " + trace + " --out " +
                       (dir / "run") + (c.set.empty() ? "" : " --set " + c.set));
  EXPECT_EQ(r.exit_code, 2) << c.what << "\n" << r.err;
  EXPECT_NE(r.err.find(c.expected), std::string::npos) << c.what << "\nstderr: " << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << c.what << ": one line\n" << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "run")) << c.what << ": no partial output";
}

const std::string kArchHead = "name: t\nclock_mhz: 800\npe_array: {rows: 16, cols: 16}\n";
const std::string kArchTail = "dram: {preset: lpddr4-3200}\nenergy: {table: 45nm}\n";

INSTANTIATE_TEST_SUITE_P(
    Cases, SimulateBadInput,
    ::testing::Values(
        BadInput{"malformed yaml", kArchHead + "buffer: {capacity_kib: 64\n" + kArchTail, "", "",
                 "bad.yaml:"},
        BadInput{"misspelled key", kArchHead + "buffer: {capacity_kb: 64}\n" + kArchTail, "", "",
                 "bad.yaml:4: key 'buffer.capacity_kb': unknown key"},
        BadInput{"wrong type", kArchHead + "buffer: {capacity_kib: lots}\n" + kArchTail, "", "",
                 "bad.yaml:4: key 'buffer.capacity_kib': expected an integer"},
        BadInput{"negative size", kArchHead + "buffer: {capacity_kib: -4}\n" + kArchTail, "", "",
                 "bad.yaml:4: key 'buffer.capacity_kib'"},
        BadInput{"zero PE rows",
                 "name: t\nclock_mhz: 800\npe_array: {rows: 0, cols: 16}\nbuffer: {capacity_kib: 64}\n" +
                     kArchTail,
                 "", "", "bad.yaml:3: key 'pe_array.rows'"},
        BadInput{"unknown preset",
                 kArchHead + "buffer: {capacity_kib: 64}\ndram: {preset: lpddr9}\nenergy: {table: 45nm}\n",
                 "", "", "key 'dram.preset'"},
        BadInput{
            "unknown energy table",
            kArchHead + "buffer: {capacity_kib: 64}\ndram: {preset: lpddr4-3200}\nenergy: {table: 5nm}\n", "",
            "", "bad.yaml:6: key 'energy.table': expected an energy table name, a file 5nm.yaml in one of "},
        BadInput{"misspelled --set key", "", "buffer.capcity_kib=64", "", "--set buffer.capcity_kib=64"},
        BadInput{"bad --set value", "", "controller.spill_policy=sometimes", "",
                 "key 'controller.spill_policy': expected one of 'always_spill' or 'spill_when_needed'"},
        BadInput{"negative batch", "", "workload.batch=-1", "", "key 'workload.batch'"},
        BadInput{"fold_decoders not a boolean", "", "projection.fold_decoders=sometimes", "",
                 "key 'projection.fold_decoders'"},
        BadInput{"buffer too small for a tile", "", "buffer.capacity_kib=1", "",
                 "--set buffer.capacity_kib=1: key 'buffer.capacity_kib': expected a buffer large enough for "
                 "the smallest tile of layer 'main' (1848 bytes needed"},
        BadInput{"trace version", "", "", "version: 1=>version: 7",
                 "net.trace:3: key 'version': expected 1 (this capsim reads trace format version 1)"},
        BadInput{"inconsistent trace shape", "", "", "out_shape: [32, 8, 8]=>out_shape: [32, 9, 8]",
                 "key 'layers[1].out_shape'"}),
    [](const ::testing::TestParamInfo<BadInput>& info) {
      std::string name = info.param.what;
      for (char& ch : name) ch = std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
      return name;
    });

TEST(SimulateCli, MissingFilesAreNamed) {
  TempDir dir("capsim_bad");
  auto r = run_command(kCapsim + " simulate --arch " + kEdge + " --trace " + (dir / "nope.trace") +
                       " --out " + (dir / "run"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("nope.trace: cannot open file"), std::string::npos) << r.err;
  r = run_command(kCapsim + " simulate --arch " + (dir / "nope.yaml") + " --trace x --out " + (dir / "run"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("nope.yaml: cannot open file"), std::string::npos) << r.err;
  r = run_command(kCapsim + " simulate --arch " + kEdge);
  EXPECT_EQ(r.exit_code, 2) << "missing required options";
  EXPECT_NE(r.err.find("--trace"), std::string::npos) << r.err;
}

TEST(SimulateCli, PrintConfigShowsResolvedValuesThatReadBackAndSimulateTheSame) {
  TempDir dir("capsim_print_config");
  auto r = run_command(kCapsim + " simulate --arch " + kEdge + " --print-config --set buffer.banks=8");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("  banks: 8\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("capacity_bytes: 262144"), std::string::npos) << r.out;  // edge: 256 KiB
  EXPECT_NE(r.out.find("# KiB"), std::string::npos) << r.out;
  // The printed file is an architecture: simulating with it equals simulating with --set.
  write_text(dir / "printed.yaml", r.out);
  const std::string trace = write_network(dir);
  ASSERT_EQ(run_command(simulate(trace, dir / "a", "--set buffer.banks=8")).exit_code, 0);
  auto b = run_command(kCapsim + " simulate --quiet --arch " + (dir / "printed.yaml") + " --trace " + trace +
                       " --out " + (dir / "b"));
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(read_text(dir / "a/layers.csv"), read_text(dir / "b/layers.csv"));
}

TEST(RecostCli, SameTableReproducesEnergyAndAPriceChangeMovesOnlyItsComponent) {
  TempDir dir("capsim_recost");
  ASSERT_EQ(run_command(simulate(write_network(dir), dir / "run")).exit_code, 0);
  auto same = run_command(kCapsim + " recost " + (dir / "run") + " --out " + (dir / "same"));
  ASSERT_EQ(same.exit_code, 0) << same.err;
  const auto original = nlohmann::json::parse(read_text(dir / "run/summary.json"));
  const auto repriced = nlohmann::json::parse(read_text(dir / "same/summary.json"));
  EXPECT_EQ(original["energy_pj"], repriced["energy_pj"]);
  EXPECT_EQ(original["total"], repriced["total"]);

  const auto counts = nlohmann::json::parse(read_text(dir / "run/counts.json"));
  double read_bursts = 0;
  for (const auto& layer : counts["run"]["layers"])
    read_bursts += layer["actions"]["dram"]["read_burst"].get<double>();
  auto cheaper =
      run_command(kCapsim + " recost " + (dir / "run") + " --price dram.read_burst=0 --out " + (dir / "c"));
  ASSERT_EQ(cheaper.exit_code, 0) << cheaper.err;
  const auto c = nlohmann::json::parse(read_text(dir / "c/summary.json"));
  const std::string table = read_text(dir / "run/energy_table.yaml");
  const auto at = table.find("read_burst: ");
  const double price = std::stod(table.substr(at + 12));
  EXPECT_NEAR(original["energy_pj"]["dram"].get<double>() - c["energy_pj"]["dram"].get<double>(),
              read_bursts * price, 1e-6 * read_bursts * price);
  EXPECT_EQ(original["energy_pj"]["sram"], c["energy_pj"]["sram"]);

  // Another energy table on the run's own architecture is fine; another buffer is not.
  auto same_arch =
      run_command(kCapsim + " recost " + (dir / "run") + " --set energy.table=45nm --out " + (dir / "t"));
  EXPECT_EQ(same_arch.exit_code, 0) << same_arch.err;
  auto other = run_command(kCapsim + " recost " + (dir / "run") + " --set buffer.capacity_kib=512");
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_NE(other.err.find("counts re-price only on the hardware that produced them"), std::string::npos)
      << other.err;

  auto bad = run_command(kCapsim + " recost " + (dir / "run") + " --price dram.read_bursts=1");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("did you mean 'dram.read_burst'?"), std::string::npos) << bad.err;
}

// Actions summed over the layers of a run's counts.json: component -> action -> count.
std::map<std::string, std::map<std::string, double>> total_actions(const nlohmann::json& counts) {
  std::map<std::string, std::map<std::string, double>> total;
  for (const auto& layer : counts["run"]["layers"])
    for (const auto& [component, actions] : layer["actions"].items())
      for (const auto& [action, count] : actions.items()) total[component][action] += count.get<double>();
  return total;
}

TEST(RecostCli, EachNodeTableRepricesATinyRunAsComputedByHand) {
  TempDir dir("capsim_recost");
  const std::string trace = write_network(dir);
  ASSERT_EQ(run_command(simulate(trace, dir / "run", "--plan uniform:0.5")).exit_code, 0);
  const auto original = nlohmann::json::parse(read_text(dir / "run/summary.json"));
  auto n = total_actions(nlohmann::json::parse(read_text(dir / "run/counts.json")));
  for (const auto& [component, action] :
       std::vector<std::pair<std::string, std::string>>{{"pe", "mac"},
                                                        {"pe", "vector_op"},
                                                        {"sram", "read_access"},
                                                        {"projection", "mac"},
                                                        {"quantization", "value"}})
    ASSERT_GT(n[component][action], 0)
        << component << "." << action << ": the fixture must exercise every price";

  // pJ per action as configs/energy/<node>.yaml derive them; SRAM: edge.yaml's 16 KiB banks of 128
  // bits, halfway (log scale) between the 8 KB and 32 KB points, i.e. two 64-bit geometric means.
  struct Node {
    const char* table;
    double mac, vector_op, sram_access, projection_mac, quant_value;
  };
  double previous_on_chip = INFINITY;
  for (const Node& node : {Node{"45nm", 0.6, 0.1, 2 * std::sqrt(10.0 * 20.0), 0.8, 1.0},
                           Node{"16nm", 0.28, 0.043, 2 * std::sqrt(8.2 * 11.0), 0.37, 0.47},
                           Node{"7nm", 0.2, 0.03, 2 * std::sqrt(7.5 * 8.5), 0.27, 0.34}}) {
    SCOPED_TRACE(node.table);
    const std::string out = dir / (std::string("recost-") + node.table);
    auto r = run_command(kCapsim + " recost " + (dir / "run") + " --set energy.table=" + node.table +
                         " --out " + out);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto e = nlohmann::json::parse(read_text(out + "/summary.json"))["energy_pj"];
    const std::map<std::string, double> expected = {
        {"pe", n["pe"]["mac"] * node.mac + n["pe"]["vector_op"] * node.vector_op},
        {"sram", (n["sram"]["read_access"] + n["sram"]["write_access"]) * node.sram_access},
        {"projection", n["projection"]["mac"] * node.projection_mac},
        {"quantization", n["quantization"]["value"] * node.quant_value},
        {"dram", original["energy_pj"]["dram"].get<double>()},  // the preset's prices, any node
    };
    double on_chip = 0;
    for (const auto& [component, pj] : expected) {
      EXPECT_NEAR(e[component].get<double>(), pj, 1e-9 * pj) << component;
      if (component != "dram") on_chip += pj;
    }
    EXPECT_LT(on_chip, previous_on_chip);
    previous_on_chip = on_chip;

    // Simulating with the table prices the run the same way as re-costing it.
    ASSERT_EQ(run_command(simulate(trace, out + "-sim",
                                   std::string("--plan uniform:0.5 --set energy.table=") + node.table))
                  .exit_code,
              0);
    const auto simulated = nlohmann::json::parse(read_text(out + "-sim/summary.json"));
    for (const auto& [component, pj] : expected)
      EXPECT_NEAR(simulated["energy_pj"][component].get<double>(), e[component].get<double>(), 1e-9 * pj)
          << component;
  }
}

TEST(InstallCli, AnInstalledCapsimRunsFromPathWithItsOwnConfigs) {
  TempDir dir("capsim_install");
  const std::string prefix = dir / "prefix";
  auto r = run_command(std::string(CAPSIM_CMAKE_COMMAND) + " --install " + CAPSIM_BUILD_DIR + " --prefix " +
                       prefix);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* file :
       {"bin/capsim", "share/capsim/configs/arch/edge.yaml", "share/capsim/configs/dram/hbm2.yaml",
        "share/capsim/configs/energy/7nm.yaml", "share/capsim/report.py", "share/doc/capsim/README.md",
        "share/doc/capsim/docs/energy.md"})
    EXPECT_TRUE(std::filesystem::exists(prefix + "/" + file)) << file;

  // An arch file copied out of any configs directory, run by name from PATH elsewhere: the presets
  // come from the installed configs, ahead of the source tree's.
  std::filesystem::create_directories(dir / "work");
  write_text(dir / "work/my-arch.yaml", read_text(kEdge));
  trace::write_trace(testing::small_residual_network(16, 16), dir / "work/net.trace");
  r = run_command(
      "cd " + (dir / "work") + " && PATH=" + prefix +
      "/bin:/usr/bin:/bin capsim simulate --quiet --arch my-arch.yaml --trace net.trace --out run "
      "--set energy.table=7nm --set dram.preset=hbm2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string table = read_text(dir / "work/run/energy_table.yaml");
  EXPECT_NE(table.find("source: \"" + prefix + "/share/capsim/configs/energy/7nm.yaml\""), std::string::npos)
      << table;
  const auto summary = nlohmann::json::parse(read_text(dir / "work/run/summary.json"));
  EXPECT_NE(summary.dump().find(prefix + "/share/capsim/configs/dram/hbm2.yaml"), std::string::npos);
}

// ---- a read-only or full output (issue 12, item 7) ------------------------------------------
// Each case runs capsim in a private mount namespace over a tmpfs (run_in_private_tmpfs): one
// error line naming --out and the reason, exit 2, nothing left behind, an earlier result intact.

std::string one_line(const std::string& err) {
  return std::count(err.begin(), err.end(), '\n') == 1 ? "" : err;
}

TEST(SimulateCli, ReadOnlyOutputIsOneClearErrorBeforeSimulating) {
  std::string why;
  if (!testing::private_tmpfs_available(why)) GTEST_SKIP() << why;
  TempDir dir("capsim_ro");
  const std::string trace = write_network(dir);
  std::filesystem::create_directory(dir / "mnt");
  const auto r = testing::run_in_private_tmpfs(
      dir / "mnt", "ro", simulate(trace, "\"$M/run\"") + "; rc=$?; ls -A \"$M\"; exit $rc");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("error: --out " + (dir / "mnt/run") + ": cannot write in '" + (dir / "mnt") +
                       "': Read-only file system"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(one_line(r.err), "");
  EXPECT_EQ(r.out, "") << "nothing may be created";
}

TEST(SimulateCli, FullOutputIsOneClearErrorAndLeavesAnEarlierResultIntact) {
#ifdef CAPSIM_SANITIZED
  // The write error is thrown after SystemC ran its processes on QuickThreads coroutine stacks,
  // which Debian's SystemC does not announce to ASan; ASan's no-return handler then reports a
  // false stack-use-after-scope (google/sanitizers#189). The unsanitized suite runs this test.
  GTEST_SKIP() << "ASan cannot follow SystemC's coroutine stacks across this throw (google/sanitizers#189)";
#endif
  std::string why;
  if (!testing::private_tmpfs_available(why)) GTEST_SKIP() << why;
  TempDir dir("capsim_full");
  const std::string trace = write_network(dir);
  std::filesystem::create_directory(dir / "mnt");
  // A new directory on a full disk: no directory, no temporaries left.
  auto r = testing::run_in_private_tmpfs(
      dir / "mnt", "size=256k",
      std::string(testing::fill_tmpfs()) + simulate(trace, "\"$M/run\"") + "; rc=$?; ls -A \"$M\"; exit $rc");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("error: --out " + (dir / "mnt/run") + ": cannot write the results"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
  EXPECT_EQ(one_line(r.err), "");
  EXPECT_EQ(r.out, "fill\n") << "only the filler may be left";

  // An earlier complete result in --out stays as it was (no mixture of two runs).
  r = testing::run_in_private_tmpfs(
      dir / "mnt", "size=256k",
      simulate(trace, "\"$M/run\"") + " && cp \"$M/run/summary.json\" " + (dir / "before.json") + " && " +
          testing::fill_tmpfs() + simulate(trace, "\"$M/run\"", "--plan uniform:0.5") +
          "; rc=$?; ls -A \"$M/run\"; cat \"$M/run/summary.json\" > " + (dir / "after.json") + "; exit $rc");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "counts.json\nenergy_table.yaml\nlayers.csv\nsummary.json\n");
  EXPECT_FALSE(read_text(dir / "before.json").empty());
  EXPECT_EQ(read_text(dir / "after.json"), read_text(dir / "before.json"));
}

}  // namespace
}  // namespace capsim
