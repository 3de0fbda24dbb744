// `capsim dram` and the --out checks of `capsim simulate`, as a user runs them: hand-counted
// summaries, one clear error line and exit code 2 for bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "run_command.hpp"

namespace capsim {
namespace {

using testing::read_text;
using testing::run_command;
using testing::TempDir;
using testing::write_text;

const std::string kCapsim = CAPSIM_BINARY;

std::string dram(const std::string& trace, const std::string& out, const std::string& extra = "") {
  return kCapsim + " dram --quiet --preset ddr4-3200 --trace " + trace + " --out " + out + " " + extra;
}

// ddr4-3200 (tCK 0.625 ns, RoBaRaCoBgCh): 0x0 is bank group 0, 0x40 bank group 1, same bank.
// Read 1: ACT at 0, RD at tRCD = 22, data ends 22 + CL 22 + burst 4 = 48 cycles (30 ns).
// Read 2: ACT at tRRD_S = 9, RD at 9 + 22 = 31 (tCCD_S and the bus allow 26), data ends 57 cycles.
TEST(DramCli, TwoReadsToTwoBankGroupsMatchTheHandCount) {
  TempDir dir("capsim_dram");
  write_text(dir / "t.trace", "0x0 READ 0\n0x40 READ 0\n");
  auto r = run_command(dram(dir / "t.trace", dir / "run", "--set controller.refresh=false"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto s = nlohmann::json::parse(read_text(dir / "run/summary.json"));
  EXPECT_EQ(s["requests"], 2);
  EXPECT_EQ(s["read_requests"], 2);
  EXPECT_EQ(s["write_requests"], 0);
  EXPECT_DOUBLE_EQ(s["elapsed_ns"].get<double>(), 57 * 0.625);
  EXPECT_DOUBLE_EQ(s["avg_read_latency_ns"].get<double>(), (48 + 57) * 0.625 / 2);
  EXPECT_DOUBLE_EQ(s["read_latency_p50_ns"].get<double>(), 48 * 0.625);
  EXPECT_DOUBLE_EQ(s["read_latency_p99_ns"].get<double>(), 57 * 0.625);
  EXPECT_DOUBLE_EQ(s["bandwidth_bytes_per_s"].get<double>(), 128 / (57 * 0.625e-9));
  EXPECT_DOUBLE_EQ(s["row_hit_ratio"].get<double>(), 0.0);
  EXPECT_EQ(s["dram"]["scheduler"], "frfcfs");
  EXPECT_GT(s["energy_pj"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(s["energy_pj_per_bit"].get<double>(), s["energy_pj"].get<double>() / (128 * 8));
  bool found = false;
  for (const auto& stat : s["dram_stats"])
    if (stat["name"] == "dram_activates") found = stat["value"] == 2;
  EXPECT_TRUE(found) << "the DRAM stats list with two activates";
  EXPECT_TRUE(std::filesystem::exists(dir / "run/dram_spec.yaml"));
}

// A later arrival of the same row is a hit: RD at max(arrival 100, tCCD_L after 22) = 100.
TEST(DramCli, LatencyRunsFromArrivalAndInOrderIsSelectable) {
  TempDir dir("capsim_dram");
  write_text(dir / "t.trace", "0x0 READ 0\n0x0 WRITE 100\n0x0 READ 200\n");
  for (const char* scheduler : {"frfcfs", "in_order"}) {
    const std::string out = dir / scheduler;
    auto r = run_command(
        dram(dir / "t.trace", out,
             std::string("--set controller.refresh=false --set controller.scheduler=") + scheduler));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto s = nlohmann::json::parse(read_text(out + "/summary.json"));
    EXPECT_EQ(s["dram"]["scheduler"], scheduler);
    EXPECT_EQ(s["write_requests"], 1);
    // Read at 200: RD at 200 (tWTR_L after the write's data end 100 + 16 + 4 is long past), data at 226.
    EXPECT_DOUBLE_EQ(s["avg_read_latency_ns"].get<double>(), (48 + 26) * 0.625 / 2) << scheduler;
    EXPECT_DOUBLE_EQ(s["row_hit_ratio"].get<double>(), 2.0 / 3.0) << scheduler;
  }
}

struct BadDram {
  const char* what;
  std::string trace;  // file contents
  std::string extra;  // more arguments
  std::string expected;
};

void PrintTo(const BadDram& c, std::ostream* os) { *os << c.what; }

class DramBadInput : public ::testing::TestWithParam<BadDram> {};

TEST_P(DramBadInput, OneClearErrorExitTwoAndNoOutput) {
  const BadDram& c = GetParam();
  TempDir dir("capsim_dram_bad");
  write_text(dir / "t.trace", c.trace);
  auto r = run_command(kCapsim + " dram --trace " + (dir / "t.trace") + " --out " + (dir / "run") + " " +
                       (c.extra.empty() ? "--preset ddr4-3200" : c.extra));
  EXPECT_EQ(r.exit_code, 2) << c.what << "\n" << r.err;
  EXPECT_NE(r.err.find(c.expected), std::string::npos) << c.what << "\nstderr: " << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << c.what << ": one line\n" << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "run")) << c.what << ": no partial output";
}

const std::string kFormat = "expected '0xADDRESS READ|WRITE CYCLE'";

INSTANTIATE_TEST_SUITE_P(
    Cases, DramBadInput,
    ::testing::Values(
        BadDram{"missing cycle", "0x0 READ 0\n0x40 READ\n", "", "t.trace:2: " + kFormat},
        BadDram{"bad hex", "0xZZ READ 0\n", "", "t.trace:1: " + kFormat},
        BadDram{"unknown operation", "0x0 READ 0\n\n0x0 FETCH 3\n", "", "t.trace:3: " + kFormat},
        BadDram{"negative cycle", "0x0 READ -1\n", "", "t.trace:1: " + kFormat},
        BadDram{"extra field", "0x0 READ 1 64\n", "", "t.trace:1: " + kFormat},
        BadDram{"cycle going back", "0x0 READ 10\n0x40 READ 9\n", "",
                "t.trace:2: key 'cycle': expected a cycle of at least the previous request's (10)"},
        BadDram{"unknown preset", "0x0 READ 0\n", "--preset ddr9", "key 'preset': expected a DRAM preset of"},
        BadDram{"bad override", "0x0 READ 0\n", "--preset ddr4-3200 --set controller.scheduler=fifo",
                "key 'controller.scheduler'"},
        BadDram{"watermark above depth", "0x0 READ 0\n",
                "--preset ddr4-3200 --set controller.write_high_watermark=40",
                "controller.write_high_watermark"},
        BadDram{
            "adaptive page in order", "0x0 READ 0\n",
            "--preset ddr4-3200 --set controller.scheduler=in_order --set controller.page_policy=adaptive",
            "key 'controller.page_policy'"},
        BadDram{"pipeline cycles out of range", "0x0 READ 0\n",
                "--preset ddr4-3200 --set controller.pipeline_cycles=65",
                "key 'controller.pipeline_cycles'"}));

TEST(DramCli, MissingTraceIsNamed) {
  TempDir dir("capsim_dram");
  auto r = run_command(dram(dir / "none.trace", dir / "run"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(dir / "none.trace"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "run"));
}

TEST(DramCli, OutIsAnExistingFile) {
  TempDir dir("capsim_dram");
  write_text(dir / "t.trace", "0x0 READ 0\n");
  write_text(dir / "file", "keep");
  auto r = run_command(dram(dir / "t.trace", dir / "file"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("exists and is not a directory"), std::string::npos) << r.err;
  EXPECT_EQ(read_text(dir / "file"), "keep");
}

TEST(SimulateCli, OutIsAnExistingFileOrBelowOne) {
  TempDir dir("capsim_sim_out");
  write_text(dir / "file", "keep");
  for (const std::string& out : {dir / "file", dir / "file/run"}) {
    auto r = run_command(kCapsim + " simulate --arch " + std::string(CAPSIM_SOURCE_DIR) +
                         "/configs/arch/edge.yaml --trace " + CAPSIM_SOURCE_DIR +
                         "/results/traces/mobilenetv2_imagenet_3x224x224.trace --out " + out);
    EXPECT_EQ(r.exit_code, 2) << out << "\n" << r.err;
    EXPECT_NE(r.err.find("error: --out " + out + ": '" + (dir / "file") + "' exists and is not a directory"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_EQ(read_text(dir / "file"), "keep");
}

// A read-only or full --out (issue 12, item 7), in a private mount namespace over a tmpfs: one
// error line, exit 2, and nothing left (dram_spec.yaml used to stay behind on a full disk).
TEST(DramCli, ReadOnlyOrFullOutputIsOneClearErrorAndLeavesNothing) {
  std::string why;
  if (!testing::private_tmpfs_available(why)) GTEST_SKIP() << why;
  TempDir dir("capsim_dram_out");
  write_text(dir / "t.trace", "0x0 READ 0\n0x40 READ 1\n0x1000 WRITE 2\n");
  std::filesystem::create_directory(dir / "mnt");
  auto r = testing::run_in_private_tmpfs(
      dir / "mnt", "ro", dram(dir / "t.trace", "\"$M/d\"") + "; rc=$?; ls -A \"$M\"; exit $rc");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("error: --out " + (dir / "mnt/d") + ": cannot write in '" + (dir / "mnt") +
                       "': Read-only file system"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.out, "");

  r = testing::run_in_private_tmpfs(dir / "mnt", "size=256k",
                                    std::string(testing::fill_tmpfs()) + dram(dir / "t.trace", "\"$M/d\"") +
                                        "; rc=$?; ls -A \"$M\"; exit $rc");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("error: --out " + (dir / "mnt/d") + ": cannot write the results"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.out, "fill\n") << "no partial result (dram_spec.yaml without summary.json) may be left";
}

}  // namespace
}  // namespace capsim
