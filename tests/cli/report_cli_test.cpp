// capsim report on a small sweep. matplotlib is a declared dependency (scripts/setup installs
// python3-matplotlib): without it the test fails rather than skipping.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "sweep_test_support.hpp"

namespace capsim::sweep {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::read_text;
using testing::run_capsim;
using testing::Scratch;

bool have_matplotlib() {
  return std::system("/usr/bin/python3 -c 'import matplotlib, numpy' >/dev/null 2>&1") == 0;
}

TEST(ReportCliTest, SmallSweepGivesFiguresAndTables) {
  ASSERT_TRUE(have_matplotlib()) << "/usr/bin/python3 cannot import matplotlib and numpy: run scripts/setup "
                                    "(python3-matplotlib, python3-numpy)";
  Scratch scratch;
  scratch.write_trace("a.trace", 16, 16, "neta");
  scratch.write_trace("b.trace", 8, 16, "netb");
  const std::string curves = std::string(CAPSIM_TEST_SOURCE_DIR) + "/tests/cli/data/accuracy_curves.csv";
  const std::string spec = scratch.write(
      "sweep.yaml", "format: capsim-sweep\nversion: 1\narch: " + testing::edge_arch() +
                        "\nplans: [none, uniform:0.5, uniform:0.25]\n"
                        "workloads: [{trace: a.trace}, {trace: b.trace}]\n"
                        "axes:\n  buffer.capacity_kib: [8, 64, 4096]\n  dram.preset: [lpddr4-3200, hbm2]\n"
                        "  controller.spill_policy: [always_spill, spill_when_needed]\n"
                        "accuracy_curves: [" +
                        curves + "]\n");
  ASSERT_EQ(run_capsim({"sweep", spec, "--out", scratch.path("sweep")}).exit_code, 0);
  const auto r = run_capsim({"report", scratch.path("sweep")});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string dir = scratch.path("sweep/report");
  for (const char* figure :
       {"accuracy_vs_reduction", "layer_traffic", "energy_breakdown", "energy_reduction"})
    for (const char* ext : {".pdf", ".png"})
      EXPECT_TRUE(fs::exists(dir + "/" + figure + ext)) << figure << ext;
  // TrueType fonts are embedded (pdf.fonttype 42), not Type 3.
  const std::string pdf = read_text(dir + "/energy_breakdown.pdf");
  EXPECT_THAT(pdf, HasSubstr("/FontFile2"));
  EXPECT_THAT(pdf, ::testing::Not(HasSubstr("/Type3")));
  const std::string md = read_text(dir + "/report.md");
  EXPECT_THAT(md, HasSubstr("![Energy breakdown](energy_breakdown.png)"));
  EXPECT_THAT(md, HasSubstr("| neta | uniform:0.25 |"));
  // At 4 MiB under spill_when_needed every activation stays on chip: a result, shown as such.
  EXPECT_THAT(md, HasSubstr("Where compression buys nothing"));
  EXPECT_THAT(md, HasSubstr("| neta | uniform:0.5 | 4096 |"));
}

TEST(ReportCliTest, NotASweepDirectoryIsBadInput) {
  Scratch scratch;
  const auto r = run_capsim({"report", scratch.dir()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("not a sweep directory"));
}

// A read-only or full report directory (issue 12, item 7), in a private mount namespace over a
// tmpfs: one error line, exit 2, no partial report; an earlier report stays as it was. Before: a
// Python traceback and exit 1, and figures of a half-written report left behind.
TEST(ReportCliTest, ReadOnlyOrFullReportDirectoryIsOneClearErrorAndLeavesNothing) {
  if (!have_matplotlib()) GTEST_SKIP() << "/usr/bin/python3 has no matplotlib";
  std::string why;
  if (!capsim::testing::private_tmpfs_available(why)) GTEST_SKIP() << why;
  Scratch scratch;
  scratch.write_trace("a.trace", 16, 16, "neta");
  const std::string spec =
      scratch.write("sweep.yaml", "format: capsim-sweep\nversion: 1\narch: " + testing::edge_arch() +
                                      "\nplans: [none, uniform:0.5]\nworkloads: [{trace: a.trace}]\n"
                                      "axes: {buffer.capacity_kib: [64, 256]}\n");
  ASSERT_EQ(run_capsim({"sweep", spec, "--out", scratch.path("sweep"), "--no-progress"}).exit_code, 0);
  const std::string report =
      std::string(CAPSIM_EXE) + " report " + scratch.path("sweep") + " --out \"$M/rep\"";
  fs::create_directories(scratch.path("mnt"));

  auto r = capsim::testing::run_in_private_tmpfs(scratch.path("mnt"), "ro",
                                                 report + "; rc=$?; ls -A \"$M\"; exit $rc");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("error: --out " + scratch.path("mnt") + "/rep: cannot write in '" +
                               scratch.path("mnt") + "': Read-only file system"));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.out, "");

  // Full: first with no report yet, then over an earlier complete one (its checksums kept).
  r = capsim::testing::run_in_private_tmpfs(
      scratch.path("mnt"), "size=4m",
      std::string(capsim::testing::fill_tmpfs()) + "truncate -s -48K \"$M/fill\"; " + report +
          "; echo rc1=$?; ls -A \"$M\"; rm \"$M/fill\"; " + report +
          " >/dev/null && (cd \"$M/rep\" && md5sum *) > " + scratch.path("before") + " && " +
          capsim::testing::fill_tmpfs() + report + "; echo rc2=$?; (cd \"$M/rep\" && md5sum *) > " +
          scratch.path("after") + "; ls -A \"$M\"");
  EXPECT_EQ(r.out, "rc1=2\nfill\nrc2=2\nfill\nrep\n") << r.err;
  EXPECT_THAT(r.err, HasSubstr("error: --out " + scratch.path("mnt") +
                               "/rep: cannot write the report: No space left "
                               "on device"));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 2) << r.err;
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("Traceback")));
  EXPECT_THAT(read_text(scratch.path("before")), HasSubstr("report.md"));
  EXPECT_EQ(read_text(scratch.path("after")), read_text(scratch.path("before")));
}

}  // namespace
}  // namespace capsim::sweep
