// capsim sweep and capsim merge as users run them: the real binary, real child processes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "capsim/common/csv.hpp"
#include "capsim/sweep/point_store.hpp"
#include "capsim/sweep/process.hpp"
#include "sweep_test_support.hpp"

namespace capsim::sweep {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::read_text;
using testing::run_capsim;
using testing::Scratch;

class SweepCliTest : public ::testing::Test {
 protected:
  // A sweep file in the scratch directory; `body` follows the header and the base arch.
  std::string write_sweep(const std::string& name, const std::string& body) {
    return scratch_.write(name,
                          "format: capsim-sweep\nversion: 1\narch: " + testing::edge_arch() + "\n" + body);
  }
  std::string out(const std::string& name) const { return scratch_.path(name); }

  Scratch scratch_;
};

std::vector<std::string> finished_ids(const std::string& sweep_dir) {
  std::vector<std::string> ids;
  if (!fs::exists(sweep_dir + "/points")) return ids;
  for (const auto& entry : fs::directory_iterator(sweep_dir + "/points")) {
    const std::string name = entry.path().filename().string();
    if (name[0] != '.' && fs::exists(entry.path() / "summary.json")) ids.push_back(name);
  }
  return ids;
}

// ---- validation ---------------------------------------------------------------------------

TEST_F(SweepCliTest, UnknownAxisKeyIsReportedAtItsLineBeforeAnythingRuns) {
  scratch_.write_trace("net.trace", 8, 8, "net");
  const std::string spec = write_sweep("bad.yaml",                             // lines 1-3: header and arch
                                       "plans: [none]\n"                       // 4
                                       "workloads: [{trace: net.trace}]\n"     // 5
                                       "axes:\n"                               // 6
                                       "  dram.preset: [lpddr4-3200, hbm2]\n"  // 7
                                       "  buffer.capcity_kib: [64, 128]\n");   // 8
  const auto r = run_capsim({"sweep", spec, "--out", out("result")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err,
              HasSubstr("bad.yaml:8: axis buffer.capcity_kib = 64: key 'buffer.capcity_kib': unknown key"));
  EXPECT_THAT(r.err, HasSubstr("did you mean 'capacity_kib'?"));
  EXPECT_FALSE(fs::exists(out("result")));
}

TEST_F(SweepCliTest, RejectedAxisValueIsReportedAtTheValuesLine) {
  scratch_.write_trace("net.trace", 8, 8, "net");
  const std::string spec = write_sweep("bad.yaml",
                                       "plans: [none]\n"                         // 4
                                       "workloads: [{trace: net.trace}]\n"       // 5
                                       "axes:\n"                                 // 6
                                       "  buffer.capacity_kib:\n"                // 7
                                       "    - 64\n"                              // 8
                                       "    - 0\n"                               // 9
                                       "  dram.preset: [lpddr4-3200, hbm2]\n");  // 10
  const auto r = run_capsim({"sweep", spec, "--out", out("result")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err,
              HasSubstr("bad.yaml:9: axis buffer.capacity_kib = 0: key 'buffer.capacity_kib': expected an "
                        "integer in [1, "));
  EXPECT_FALSE(fs::exists(out("result")));

  const std::string fixed_preset = write_sweep("bad2.yaml",
                                               "plans: [none]\n"
                                               "workloads: [{trace: net.trace}]\n"
                                               "axes: {dram.preset: [lpddr4-3200, hbm3]}\n");  // 6
  const auto r2 = run_capsim({"sweep", fixed_preset, "--out", out("result")});
  EXPECT_EQ(r2.exit_code, 2);
  EXPECT_THAT(r2.err, HasSubstr("bad2.yaml:6: axis dram.preset = hbm3: key 'dram.preset'"));
  EXPECT_THAT(r2.err, HasSubstr("did you mean 'hbm2'?"));
}

TEST_F(SweepCliTest, PlansAreCheckedAgainstTheirTracesBeforeAnythingRuns) {
  scratch_.write_trace("net.trace", 8, 8, "net");
  scratch_.write("bad-plan.yaml",
                 "format: capsim-plan\nversion: 1\nname: bad\nlayers:\n  stemm: {channels: 8, k: 2}\n");
  const std::string spec = write_sweep("bad.yaml",
                                       "workloads:\n"                                       // 4
                                       "  - trace: net.trace\n"                             // 5
                                       "    plans: [none, uniform:0.5, bad-plan.yaml]\n");  // 6
  const auto r = run_capsim({"sweep", spec, "--out", out("result")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("bad.yaml:6: plan 'bad-plan.yaml' on trace net: key 'layers.stemm'"));
  EXPECT_THAT(r.err, HasSubstr("did you mean 'stem'?"));
  EXPECT_FALSE(fs::exists(out("result")));
}

// ---- running -------------------------------------------------------------------------------

TEST_F(SweepCliTest, FailingPointIsRecordedAndTheOthersFinish) {
  scratch_.write_trace("net.trace", 64, 32, "net");
  const std::string spec = write_sweep("sweep.yaml",
                                       "plans: [none, uniform:0.5]\n"
                                       "workloads: [{trace: net.trace}]\n"
                                       "axes: {buffer.capacity_kib: [1, 256]}\n");
  const auto r = run_capsim({"sweep", spec, "--out", out("result"), "--jobs", "2"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.err, HasSubstr("2 finished, 2 failed"));
  const std::string points = read_text(out("result") + "/points.csv");
  EXPECT_THAT(points, HasSubstr(",failed,net,none,1,"));
  EXPECT_THAT(points, HasSubstr(",finished,net,none,256,"));
  EXPECT_THAT(points, HasSubstr("exit code 2: error: "));
  EXPECT_THAT(points, HasSubstr("buffer.capacity_kib"));
  EXPECT_EQ(finished_ids(out("result")).size(), 2u);
}

TEST_F(SweepCliTest, RerunSkipsUnchangedPointsAndRerunsChangedOnes) {
  scratch_.write_trace("a.trace", 8, 8, "a");
  scratch_.write_trace("b.trace", 8, 8, "b");
  const std::string spec = write_sweep("sweep.yaml",
                                       "plans: [none, uniform:0.5]\n"
                                       "workloads: [{trace: a.trace}, {trace: b.trace}]\n"
                                       "axes: {buffer.capacity_kib: [128, 256]}\n");
  ASSERT_EQ(run_capsim({"sweep", spec, "--out", out("result")}).exit_code, 0);
  const auto again = run_capsim({"sweep", spec, "--out", out("result")});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_THAT(again.err, HasSubstr("8 already finished (skipped), 0 to run"));

  // Same network, different contents: the trace's points have new keys.
  scratch_.write_trace("b.trace", 16, 8, "b");
  const auto changed = run_capsim({"sweep", spec, "--out", out("result")});
  EXPECT_EQ(changed.exit_code, 0);
  EXPECT_THAT(changed.err, HasSubstr("4 already finished (skipped), 4 to run"));

  const auto forced = run_capsim({"sweep", spec, "--out", out("result"), "--force"});
  EXPECT_THAT(forced.err, HasSubstr("0 already finished (skipped), 8 to run"));
}

// Reordering the axes of a sweep changes neither the points nor their keys: everything is kept.
TEST_F(SweepCliTest, ReorderedAxesKeepEveryFinishedPoint) {
  scratch_.write_trace("a.trace", 8, 8, "a");
  const std::string first =
      write_sweep("first.yaml",
                  "plans: [none]\nworkloads: [{trace: a.trace}]\n"
                  "axes:\n  buffer.capacity_kib: [128, 256]\n  dram.preset: [lpddr4-3200, hbm2]\n");
  const std::string second =
      write_sweep("second.yaml",
                  "plans: [none]\nworkloads: [{trace: a.trace}]\n"
                  "axes:\n  dram.preset: [hbm2, lpddr4-3200]\n  buffer.capacity_kib: [256, 128]\n");
  ASSERT_EQ(run_capsim({"sweep", first, "--out", out("result")}).exit_code, 0);
  const auto again = run_capsim({"sweep", second, "--out", out("result")});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.err, HasSubstr("4 already finished (skipped), 0 to run"));
}

TEST_F(SweepCliTest, ResumeAfterSigkillSkipsFinishedPointsAndEqualsAnUninterruptedRun) {
  scratch_.write_trace("net.trace", 64, 56, "net");
  const std::string spec =
      write_sweep("sweep.yaml",
                  "plans: [none, uniform:0.5, uniform:0.25, uniform:0.125]\n"
                  "workloads: [{trace: net.trace}]\n"
                  "axes: {buffer.capacity_kib: [128, 160, 192, 224, 256, 320, 384, 448, 512, 640]}\n");
  const std::size_t total = 40;

  ChildSpec child;
  child.argv = {CAPSIM_EXE, "sweep", spec, "--out", out("killed"), "--jobs", "1", "--no-progress"};
  const pid_t pid = spawn_child(child);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (finished_ids(out("killed")).size() < 3 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));

  std::map<std::string, fs::file_time_type> finished;
  for (const auto& id : finished_ids(out("killed")))
    finished[id] = fs::last_write_time(out("killed") + "/points/" + id + "/summary.json");
  ASSERT_GE(finished.size(), 3u);
  ASSERT_LT(finished.size(), total) << "the sweep ended before it could be killed";
  EXPECT_FALSE(fs::exists(out("killed") + "/points.csv"));  // written at the end only

  const auto resumed = run_capsim({"sweep", spec, "--out", out("killed"), "--jobs", "2"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_THAT(resumed.err, HasSubstr(std::to_string(finished.size()) + " already finished (skipped), " +
                                     std::to_string(total - finished.size()) + " to run"));
  for (const auto& [id, mtime] : finished)
    EXPECT_EQ(fs::last_write_time(out("killed") + "/points/" + id + "/summary.json"), mtime) << id;
  EXPECT_FALSE(fs::exists(out("killed") + "/points/.staging"));

  ASSERT_EQ(run_capsim({"sweep", spec, "--out", out("whole"), "--jobs", "2"}).exit_code, 0);
  EXPECT_EQ(read_text(out("killed") + "/results.csv"), read_text(out("whole") + "/results.csv"));
  EXPECT_EQ(read_text(out("killed") + "/points.csv"), read_text(out("whole") + "/points.csv"));
  EXPECT_EQ(read_text(out("killed") + "/manifest.json"), read_text(out("whole") + "/manifest.json"));
}

// ---- shards and merge ------------------------------------------------------------------------

TEST_F(SweepCliTest, ShardsMergedEqualTheUnshardedSweep) {
  scratch_.write_trace("a.trace", 8, 8, "a");
  scratch_.write_trace("b.trace", 16, 8, "b");
  const std::string spec =
      write_sweep("sweep.yaml",
                  "plans: [none, uniform:0.5]\n"
                  "workloads: [{trace: a.trace}, {trace: b.trace}]\n"
                  "axes: {buffer.capacity_kib: [64, 128, 256]}\n"
                  "zip:\n  - {dram.preset: [lpddr4-3200, hbm2], dram.controller.queue_depth: [8, 32]}\n");
  ASSERT_EQ(run_capsim({"sweep", spec, "--out", out("whole")}).exit_code, 0);
  for (const char* shard : {"1/3", "2/3", "3/3"}) {
    const auto r =
        run_capsim({"sweep", spec, "--out", out(std::string("shard") + shard[0]), "--shard", shard});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.err, HasSubstr("shard " + std::string(shard) + " has 8"));
  }
  const auto merged =
      run_capsim({"merge", out("shard1"), out("shard2"), out("shard3"), "--out", out("merged")});
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  EXPECT_THAT(merged.err, HasSubstr("24 finished, 0 failed, 0 missing"));
  for (const char* file : {"/results.csv", "/points.csv", "/manifest.json"})
    EXPECT_EQ(read_text(out("merged") + file), read_text(out("whole") + file)) << file;

  // An incomplete merge says so, and lists what is missing.
  const auto partial = run_capsim({"merge", out("shard1"), out("shard3"), "--out", out("partial")});
  EXPECT_EQ(partial.exit_code, 3);
  EXPECT_THAT(partial.err, HasSubstr("16 finished, 0 failed, 8 missing"));
  EXPECT_THAT(read_text(out("partial") + "/points.csv"), HasSubstr(",missing,"));
}

TEST_F(SweepCliTest, MergeRefusesDirectoriesOfDifferentSweeps) {
  scratch_.write_trace("a.trace", 8, 8, "a");
  const std::string one = write_sweep("one.yaml",
                                      "plans: [none]\nworkloads: [{trace: a.trace}]\n"
                                      "axes: {buffer.capacity_kib: [64, 128]}\n");
  const std::string two = write_sweep("two.yaml",
                                      "plans: [none]\nworkloads: [{trace: a.trace}]\n"
                                      "axes: {buffer.capacity_kib: [64, 256]}\n");
  ASSERT_EQ(run_capsim({"sweep", one, "--out", out("one")}).exit_code, 0);
  ASSERT_EQ(run_capsim({"sweep", two, "--out", out("two")}).exit_code, 0);
  const auto r = run_capsim({"merge", out("one"), out("two"), "--out", out("merged")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("a different sweep than"));
  EXPECT_FALSE(fs::exists(out("merged")));
}

TEST_F(SweepCliTest, OutputsAreTidyAndComparePlansWithTheirBaseline) {
  scratch_.write_trace("net.trace", 16, 16, "net");
  const std::string spec = write_sweep("sweep.yaml",
                                       "set: {controller.spill_policy: spill_when_needed}\n"
                                       "plans: [none, uniform:0.25]\n"
                                       "workloads: [{trace: net.trace}]\n"
                                       "axes: {buffer.capacity_kib: [8, 4096]}\n");
  ASSERT_EQ(run_capsim({"sweep", spec, "--out", out("result")}).exit_code, 0);
  const std::string results = read_text(out("result") + "/results.csv");
  EXPECT_THAT(results, ::testing::StartsWith("point,network,plan,layer,metric,value,unit\n"));
  EXPECT_THAT(results, HasSubstr(",net,uniform:0.25,stem,dram_write_bytes,"));
  EXPECT_THAT(results, HasSubstr(",net,none,total,energy_pj,"));
  EXPECT_THAT(results, HasSubstr(",total,projection_energy_pj,"));
  EXPECT_THAT(results, HasSubstr(",total,dram_row_hits,"));
  const std::string points = read_text(out("result") + "/points.csv");
  EXPECT_THAT(points, HasSubstr("point,status,network,plan,buffer.capacity_kib,cycles,"));
  EXPECT_THAT(points, HasSubstr("plan_effect,dram_bytes_vs_none,activation_bytes_vs_none,energy_vs_none,"));
  // 8 KiB: activations spill and the plan compresses them (activation bytes fall; the total may
  // not, as the matrices and the tighter buffer cost bytes); 4 MiB: everything stays on chip.
  EXPECT_THAT(points,
              ::testing::ContainsRegex(",finished,net,uniform:0.25,8,[^\n]*,compressed,[0-9.]+,0\\.[0-9]"));
  EXPECT_THAT(points, ::testing::ContainsRegex(",finished,net,uniform:0.25,4096,[^\n]*,no_effect,1,1,1,1,"));
  const std::string manifest = read_text(out("result") + "/manifest.json");
  EXPECT_THAT(manifest, HasSubstr("\"capsim_version\""));
  EXPECT_THAT(manifest, HasSubstr("\"role\": \"trace\""));
  EXPECT_THAT(manifest, HasSubstr("\"sha256\""));
}

TEST_F(SweepCliTest, EnergyTableAxisPricesTheSameRunsAtEachNode) {
  scratch_.write_trace("net.trace", 16, 16, "net");
  const std::string spec = write_sweep("sweep.yaml",
                                       "plans: [none, uniform:0.5]\n"
                                       "workloads: [{trace: net.trace}]\n"
                                       "axes: {energy.table: [45nm, 16nm, 7nm]}\n");
  const auto r = run_capsim({"sweep", spec, "--out", out("result"), "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const CsvTable points = parse_csv(read_text(out("result") + "/points.csv"), "points.csv");
  ASSERT_EQ(points.rows.size(), 6u);
  const int plan = points.column("plan"), table = points.column("energy.table");
  ASSERT_GE(plan, 0);
  ASSERT_GE(table, 0);
  auto value = [&](const std::vector<std::string>& row, const char* column) {
    const int at = points.column(column);
    EXPECT_GE(at, 0) << column;
    return std::stod(row.at(at));
  };
  for (const char* p : {"none", "uniform:0.5"}) {
    std::map<std::string, std::vector<std::string>> by_node;
    for (const auto& row : points.rows)
      if (row[plan] == p) by_node[row[table]] = row;
    ASSERT_EQ(by_node.size(), 3u) << p;
    const auto &n45 = by_node["45nm"], &n16 = by_node["16nm"], &n7 = by_node["7nm"];
    // The same hardware ran: counts, time and the DRAM (priced by its preset) agree.
    for (const char* same : {"cycles", "dram_bytes", "dram_energy_pj"}) {
      EXPECT_EQ(value(n45, same), value(n16, same)) << p << " " << same;
      EXPECT_EQ(value(n45, same), value(n7, same)) << p << " " << same;
    }
    // On-chip energy falls with the node.
    for (const char* falls : {"energy_pj", "pe_energy_pj", "sram_energy_pj"}) {
      EXPECT_GT(value(n45, falls), value(n16, falls)) << p << " " << falls;
      EXPECT_GT(value(n16, falls), value(n7, falls)) << p << " " << falls;
    }
    // PE energy: 0.2 pJ per MAC and 0.03 per vector op at 7 nm, 0.6 and 0.1 at 45 nm.
    const double pe_ratio = value(n7, "pe_energy_pj") / value(n45, "pe_energy_pj");
    EXPECT_GT(pe_ratio, 0.03 / 0.1 - 1e-9) << p;
    EXPECT_LE(pe_ratio, 0.2 / 0.6 + 1e-9) << p;
    // Compressed runs project and quantize; those prices fall too.
    if (std::string(p) == "uniform:0.5") {
      EXPECT_GT(value(n45, "projection_energy_pj"), value(n16, "projection_energy_pj"));
      EXPECT_GT(value(n16, "projection_energy_pj"), value(n7, "projection_energy_pj"));
      EXPECT_GT(value(n16, "quantization_energy_pj"), value(n7, "quantization_energy_pj"));
      EXPECT_NEAR(value(n7, "projection_energy_pj") / value(n45, "projection_energy_pj"), 0.27 / 0.8, 1e-9);
      EXPECT_NEAR(value(n7, "quantization_energy_pj") / value(n45, "quantization_energy_pj"), 0.34 / 1.0,
                  1e-9);
    }
  }
}

// ---- lock, shards, failed points, dry run, cleanup after a failure ---------------------------

std::vector<std::string> leftovers(const std::string& dir) {
  std::vector<std::string> found;
  if (!fs::exists(dir)) return found;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.find(".tmp.") != std::string::npos) found.push_back(entry.path().string());
  }
  return found;
}

// DIR/.lock is held with flock: a second holder (even in this process) is refused, and a sweep
// meeting a held lock stops with exit 1 before it writes anything; once released, it runs.
TEST_F(SweepCliTest, HeldLockStopsASweepBeforeItWritesAndReleasesWithItsHolder) {
  scratch_.write_trace("net.trace", 8, 8, "net");
  const std::string spec = write_sweep("sweep.yaml", "plans: [none]\nworkloads: [{trace: net.trace}]\n");
  fs::create_directories(out("result"));
  {
    DirectoryLock held(out("result"));
    EXPECT_THROW(DirectoryLock second(out("result")), std::runtime_error);
    const auto r = run_capsim({"sweep", spec, "--out", out("result")});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_THAT(r.err, HasSubstr("another capsim sweep or merge (pid "));
    EXPECT_THAT(r.err, HasSubstr(") is writing " + out("result")));
    EXPECT_FALSE(fs::exists(out("result") + "/manifest.json"));
    EXPECT_FALSE(fs::exists(out("result") + "/points"));
  }
  EXPECT_NO_THROW(DirectoryLock again(out("result")));
  const auto r = run_capsim({"sweep", spec, "--out", out("result")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(finished_ids(out("result")).size(), 1u);
}

// A shard directory stays that shard: another selection (another shard, or the whole sweep) into
// it is refused with exit 2 and touches nothing; the same shard resumes. Points are dealt
// round-robin: of 6 points, shard 1/2 has points 0, 2, 4 and shard 2/2 points 1, 3, 5.
TEST_F(SweepCliTest, AnotherShardSelectionIntoAShardDirectoryIsRefused) {
  scratch_.write_trace("net.trace", 8, 8, "net");
  const std::string spec = write_sweep("sweep.yaml",
                                       "plans: [none, uniform:0.5]\nworkloads: [{trace: net.trace}]\n"
                                       "axes: {buffer.capacity_kib: [64, 128, 256]}\n");
  const auto first = run_capsim({"sweep", spec, "--out", out("shard"), "--shard", "1/2"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_THAT(first.err, HasSubstr("shard 1/2 has 3"));
  const auto ids = finished_ids(out("shard"));
  ASSERT_EQ(ids.size(), 3u);
  const std::string manifest = read_text(out("shard") + "/manifest.json");
  const auto manifest_time = fs::last_write_time(out("shard") + "/manifest.json");
  for (const std::vector<std::string>& other :
       {std::vector<std::string>{"--shard", "2/2"}, std::vector<std::string>{"--shard", "1/3"},
        std::vector<std::string>{}}) {
    std::vector<std::string> args = {"sweep", spec, "--out", out("shard")};
    args.insert(args.end(), other.begin(), other.end());
    const auto r = run_capsim(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_THAT(r.err, HasSubstr("manifest.json: this directory holds another shard selection of a sweep"));
    EXPECT_EQ(read_text(out("shard") + "/manifest.json"), manifest);
    EXPECT_EQ(fs::last_write_time(out("shard") + "/manifest.json"), manifest_time);
    EXPECT_EQ(finished_ids(out("shard")), ids);
  }
  const auto same = run_capsim({"sweep", spec, "--out", out("shard"), "--shard", "1/2"});
  EXPECT_EQ(same.exit_code, 0) << same.err;
  EXPECT_THAT(same.err, HasSubstr("3 already finished (skipped), 0 to run"));
}

// A rerun runs the failed points again (and only those): genuinely failing points fail again;
// a point whose record says failed (a simulation killed by the OOM killer, say) with an unchanged
// key runs and finishes.
TEST_F(SweepCliTest, RerunRunsFailedPointsAgainAndKeepsFinishedOnes) {
  scratch_.write_trace("net.trace", 64, 32, "net");
  const std::string spec = write_sweep("sweep.yaml",
                                       "plans: [none, uniform:0.5]\n"
                                       "workloads: [{trace: net.trace}]\n"
                                       "axes: {buffer.capacity_kib: [1, 256]}\n");
  ASSERT_EQ(run_capsim({"sweep", spec, "--out", out("result")}).exit_code, 3);
  const auto finished = finished_ids(out("result"));
  ASSERT_EQ(finished.size(), 2u);
  std::map<std::string, fs::file_time_type> kept;
  for (const auto& id : finished)
    kept[id] = fs::last_write_time(out("result") + "/points/" + id + "/summary.json");

  const auto again = run_capsim({"sweep", spec, "--out", out("result")});
  EXPECT_EQ(again.exit_code, 3) << again.err;
  EXPECT_THAT(again.err, HasSubstr("2 already finished (skipped), 2 to run"));
  EXPECT_THAT(again.err, HasSubstr("2 finished, 2 failed"));

  // Mark one finished point failed, as a killed simulation would have left it.
  const std::string victim = finished[0];
  const std::string record_path = out("result") + "/points/" + victim + "/point.json";
  nlohmann::json record = nlohmann::json::parse(read_text(record_path));
  ASSERT_EQ(record.at("status"), "finished");
  record["status"] = "failed";
  record["error"] = "killed by signal 9";
  scratch_.write("record.json", record.dump(1));
  fs::rename(scratch_.path("record.json"), record_path);
  const auto rerun = run_capsim({"sweep", spec, "--out", out("result")});
  EXPECT_EQ(rerun.exit_code, 3) << rerun.err;
  EXPECT_THAT(rerun.err, HasSubstr("1 already finished (skipped), 3 to run"));
  EXPECT_THAT(rerun.err, HasSubstr("2 finished, 2 failed"));
  EXPECT_EQ(nlohmann::json::parse(read_text(record_path)).at("status"), "finished");
  EXPECT_GT(fs::last_write_time(out("result") + "/points/" + victim + "/summary.json"), kept[victim]);
  EXPECT_EQ(fs::last_write_time(out("result") + "/points/" + finished[1] + "/summary.json"),
            kept[finished[1]]);
  EXPECT_THAT(read_text(out("result") + "/points.csv"), Not(HasSubstr("killed by signal 9")));
}

// --dry-run validates, prints "N points (sweep NAME)" and per point of the selection its id and
// command, and writes nothing. 2 plans x 2 workloads x 3 buffer sizes = 12 points; shard 2/3 has
// points 1, 4, 7, 10. The ids are those a real run creates.
TEST_F(SweepCliTest, DryRunListsEveryPointAndItsCommandAndWritesNothing) {
  scratch_.write_trace("a.trace", 8, 8, "a");
  scratch_.write_trace("b.trace", 8, 8, "b");
  const std::string spec = write_sweep("sweep.yaml",
                                       "name: dry\nplans: [none, uniform:0.5]\n"
                                       "workloads: [{trace: a.trace}, {trace: b.trace}]\n"
                                       "axes: {buffer.capacity_kib: [64, 128, 256]}\n");
  auto listed_ids = [](const std::string& stdout_text) {
    std::vector<std::string> ids;
    std::istringstream lines(stdout_text);
    std::string line;
    std::getline(lines, line);  // the header
    while (std::getline(lines, line))
      if (!line.empty() && line[0] != ' ') ids.push_back(line);
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  const auto dry = run_capsim({"sweep", spec, "--out", out("result"), "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_THAT(dry.out, ::testing::StartsWith("12 points (sweep dry)\n"));
  const auto ids = listed_ids(dry.out);
  EXPECT_EQ(ids.size(), 12u);
  EXPECT_EQ(std::count(dry.out.begin(), dry.out.end(), '\n'), 1 + 2 * 12);
  EXPECT_THAT(dry.out, HasSubstr("simulate"));
  EXPECT_THAT(dry.out, HasSubstr("buffer.capacity_kib=128"));
  EXPECT_THAT(dry.out, HasSubstr("--plan uniform:0.5"));
  EXPECT_FALSE(fs::exists(out("result"))) << "a dry run writes nothing";

  const auto shard = run_capsim({"sweep", spec, "--out", out("result"), "--dry-run", "--shard", "2/3"});
  ASSERT_EQ(shard.exit_code, 0) << shard.err;
  EXPECT_THAT(shard.out, ::testing::StartsWith("12 points (sweep dry)\n"));
  const auto shard_ids = listed_ids(shard.out);
  EXPECT_EQ(shard_ids.size(), 4u);
  EXPECT_FALSE(fs::exists(out("result")));

  ASSERT_EQ(run_capsim({"sweep", spec, "--out", out("result"), "--shard", "2/3"}).exit_code, 0);
  auto ran = finished_ids(out("result"));
  std::sort(ran.begin(), ran.end());
  EXPECT_EQ(ran, shard_ids);
  for (const auto& id : ran) EXPECT_TRUE(std::binary_search(ids.begin(), ids.end(), id)) << id;

  // A dry run validates like a real one.
  const std::string bad = write_sweep("bad.yaml", "plans: [none]\nworkloads: [{trace: missing.trace}]\n");
  const auto invalid = run_capsim({"sweep", bad, "--out", out("bad"), "--dry-run"});
  EXPECT_EQ(invalid.exit_code, 2);
  EXPECT_FALSE(fs::exists(out("bad")));
}

// Files a sweep installs atomically (a temporary beside the target, then rename) leave no
// temporary behind when the rename fails: here the targets are non-empty directories.
TEST_F(SweepCliTest, FailedAtomicWritesLeaveNoTemporaryFiles) {
  scratch_.write_trace("net.trace", 8, 8, "net");
  const std::string curves = std::string(CAPSIM_TEST_SOURCE_DIR) + "/tests/cli/data/accuracy_curves.csv";
  const std::string spec = write_sweep("sweep.yaml",
                                       "plans: [none]\nworkloads: [{trace: net.trace}]\n"
                                       "accuracy_curves: [" +
                                           curves + "]\n");
  // The sweep's table points.csv.
  fs::create_directories(out("tables") + "/points.csv/inside");
  const auto tables = run_capsim({"sweep", spec, "--out", out("tables")});
  EXPECT_NE(tables.exit_code, 0);
  EXPECT_NE(tables.exit_code, 3) << "not a failed point: the sweep itself failed\n" << tables.err;
  EXPECT_TRUE(fs::is_directory(out("tables") + "/points.csv/inside"));
  EXPECT_EQ(leftovers(out("tables")), std::vector<std::string>{});

  // The copy of an accuracy curve into DIR/accuracy/.
  fs::create_directories(out("curves") + "/accuracy/accuracy_curves.csv/inside");
  const auto copied = run_capsim({"sweep", spec, "--out", out("curves")});
  EXPECT_NE(copied.exit_code, 0);
  EXPECT_NE(copied.exit_code, 3) << copied.err;
  EXPECT_EQ(leftovers(out("curves")), std::vector<std::string>{});
}

// ---- reliability probes (issue 12, item 7): concurrency, kills, full and read-only outputs -----

// Spawns `capsim sweep` in the background and waits until it holds the directory (its manifest
// is written under the lock); returns its pid.
pid_t start_sweep_and_wait_for_lock(const std::vector<std::string>& args, const std::string& out) {
  ChildSpec child;
  child.argv = {CAPSIM_EXE, "sweep"};
  child.argv.insert(child.argv.end(), args.begin(), args.end());
  child.argv.insert(child.argv.end(), {"--out", out, "--no-progress"});
  const pid_t pid = spawn_child(child);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!fs::exists(out + "/manifest.json") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return pid;
}

ExitStatus wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return decode_wait_status(status);
}

// Every file below `dir` whose name holds ".tmp." (what an interrupted atomic write leaves).
std::vector<std::string> temporaries(const std::string& dir) {
  std::vector<std::string> found;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().filename().string().find(".tmp.") != std::string::npos) found.push_back(e.path().string());
  return found;
}

std::string long_sweep(SweepCliTest& t, Scratch& scratch) {
  scratch.write_trace("net.trace", 64, 56, "net");
  (void)t;
  return scratch.write("long.yaml", "format: capsim-sweep\nversion: 1\narch: " + testing::edge_arch() +
                                        "\nplans: [none, uniform:0.5, uniform:0.25, uniform:0.125]\n"
                                        "workloads: [{trace: net.trace}]\n"
                                        "axes: {buffer.capacity_kib: [128, 160, 192, 224, 256, 320]}\n");
}

TEST_F(SweepCliTest, SecondSweepIntoTheSameDirectoryIsRefusedWhileTheFirstFinishes) {
  const std::string spec = long_sweep(*this, scratch_);
  const pid_t first = start_sweep_and_wait_for_lock({spec, "--jobs", "1"}, out("shared"));
  const auto second = run_capsim({"sweep", spec, "--out", out("shared"), "--jobs", "1", "--no-progress"});
  EXPECT_EQ(second.exit_code, 1) << second.err;
  EXPECT_THAT(second.err,
              HasSubstr("error: another capsim sweep or merge (pid " + std::to_string(first) +
                        ") is writing " + out("shared") + " (it holds " + out("shared") + "/.lock)"));
  EXPECT_EQ(std::count(second.err.begin(), second.err.end(), '\n'), 1) << second.err;
  const ExitStatus status = wait_for(first);
  EXPECT_TRUE(status.ok()) << status.describe();
  EXPECT_EQ(finished_ids(out("shared")).size(), 24u);
  EXPECT_EQ(parse_csv(read_text(out("shared") + "/points.csv"), "points.csv").rows.size(), 24u);
  EXPECT_THAT(temporaries(out("shared")), ::testing::IsEmpty());
}

// flock(2) locks die with their process: the .lock file a SIGKILLed sweep leaves blocks nothing.
TEST_F(SweepCliTest, LockLeftByAKilledSweepDoesNotBlockTheNextRun) {
  const std::string spec = long_sweep(*this, scratch_);
  const pid_t first = start_sweep_and_wait_for_lock({spec, "--jobs", "1"}, out("dir"));
  ::kill(first, SIGKILL);
  ASSERT_EQ(wait_for(first).signal, SIGKILL);
  ASSERT_TRUE(fs::exists(out("dir") + "/.lock"));
  const auto again = run_capsim({"sweep", spec, "--out", out("dir"), "--jobs", "2", "--no-progress"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.err, HasSubstr("24 finished, 0 failed"));
}

// SIGKILL while the final tables are written (at the creation of results.csv's temporary, seen
// through inotify): the tables are complete or absent, and a rerun resumes and leaves no
// temporaries behind (before: results.csv.tmp.PID stayed in the directory for good).
TEST_F(SweepCliTest, KilledWhileWritingTheTablesLeavesThemCompleteOrAbsentAndARerunResumes) {
  scratch_.write_trace("net.trace", 32, 16, "net");
  const std::string spec = write_sweep("sweep.yaml",
                                       "plans: [none, uniform:0.5]\n"
                                       "workloads: [{trace: net.trace}]\n"
                                       "axes: {buffer.capacity_kib: [128, 256]}\n");
  ASSERT_EQ(run_capsim({"sweep", spec, "--out", out("whole"), "--no-progress"}).exit_code, 0);
  const std::string dir = out("killed");
  fs::create_directories(dir);
  const int watch = ::inotify_init1(IN_CLOEXEC);
  ASSERT_GE(watch, 0);
  ASSERT_GE(::inotify_add_watch(watch, dir.c_str(), IN_CREATE), 0);
  ChildSpec child;
  child.argv = {CAPSIM_EXE, "sweep", spec, "--out", dir, "--no-progress"};
  const pid_t pid = spawn_child(child);
  bool killed = false;
  alignas(inotify_event) char buffer[4096];
  while (!killed) {
    pollfd p{watch, POLLIN, 0};
    if (::poll(&p, 1, 60000) <= 0) break;
    const ssize_t n = ::read(watch, buffer, sizeof buffer);
    for (ssize_t at = 0; at < n && !killed;) {
      const auto* e = reinterpret_cast<const inotify_event*>(buffer + at);
      if (e->len > 0 && std::string(e->name).rfind("results.csv.tmp.", 0) == 0)
        killed = ::kill(pid, SIGKILL) == 0;
      at += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
    }
  }
  ::close(watch);
  const ExitStatus status = wait_for(pid);
  ASSERT_TRUE(killed);
  ASSERT_EQ(status.signal, SIGKILL) << "the sweep ended before the kill landed: " << status.describe();
  for (const char* table : {"/results.csv", "/points.csv"}) {
    if (fs::exists(dir + table)) {
      EXPECT_EQ(read_text(dir + table), read_text(out("whole") + table)) << table;
    }
  }

  const auto resumed = run_capsim({"sweep", spec, "--out", dir, "--no-progress"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_THAT(resumed.err, HasSubstr("4 already finished (skipped), 0 to run"));
  EXPECT_EQ(read_text(dir + "/results.csv"), read_text(out("whole") + "/results.csv"));
  EXPECT_EQ(read_text(dir + "/points.csv"), read_text(out("whole") + "/points.csv"));
  EXPECT_THAT(temporaries(dir), ::testing::IsEmpty());
}

TEST_F(SweepCliTest, ReadOnlyOutputIsRefusedBeforeAnythingRuns) {
  std::string why;
  if (!capsim::testing::private_tmpfs_available(why)) GTEST_SKIP() << why;
  scratch_.write_trace("net.trace", 8, 8, "net");
  const std::string spec = write_sweep("sweep.yaml", "plans: [none]\nworkloads: [{trace: net.trace}]\n");
  fs::create_directories(out("mnt"));
  const auto r = capsim::testing::run_in_private_tmpfs(
      out("mnt"), "ro",
      std::string(CAPSIM_EXE) + " sweep " + spec + " --out \"$M/sw\"; rc=$?; ls -A \"$M\"; exit $rc");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("error: --out " + out("mnt") + "/sw: cannot write in '" + out("mnt") +
                               "': Read-only file system"));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.out, "");
}

// A full disk: the sweep stops at the first write that fails (its own, or a point's), with one
// error line and exit 2, records no point as failed, leaves no table or temporary; once there is
// space again the same command resumes and finishes. Before: every point was run, recorded as
// failed ("No space left on device" in points.csv) and the sweep exited 3.
TEST_F(SweepCliTest, FullOutputStopsWithOneErrorAndTheSameCommandResumesWithSpace) {
  std::string why;
  if (!capsim::testing::private_tmpfs_available(why)) GTEST_SKIP() << why;
  scratch_.write_trace("net.trace", 32, 16, "net");
  const std::string spec = write_sweep("sweep.yaml",
                                       "plans: [none, uniform:0.5]\n"
                                       "workloads: [{trace: net.trace}]\n"
                                       "axes: {buffer.capacity_kib: [128, 256]}\n");
  fs::create_directories(out("mnt"));
  const std::string sweep =
      std::string(CAPSIM_EXE) + " sweep " + spec + " --no-progress --jobs 2 --out \"$M/sw\"";
  // Full from the start, then with room for the manifest but not for a point's results.
  for (const std::string free_kib : {"0", "12"}) {
    const std::string log = out("log-" + free_kib);
    const auto r = capsim::testing::run_in_private_tmpfs(
        out("mnt"), "size=1m",
        std::string(capsim::testing::fill_tmpfs()) + "truncate -s -" + free_kib + "K \"$M/fill\"; " + sweep +
            " 2>" + log + "-1; echo rc1=$?; (cd \"$M\" && find . | sort); rm \"$M/fill\"; " + sweep + " 2>" +
            log + "-2; echo rc2=$?; ls -A \"$M/sw\"");
    SCOPED_TRACE("free KiB: " + free_kib);
    const std::string first = read_text(log + "-1");
    EXPECT_THAT(r.out, HasSubstr("rc1=2\n")) << first;
    EXPECT_THAT(first, HasSubstr("error: --out " + out("mnt") + "/sw: cannot write the sweep's results ("));
    EXPECT_THAT(first, HasSubstr("No space left on device"));
    EXPECT_THAT(first, HasSubstr("rerun to resume"));
    EXPECT_THAT(first, ::testing::Not(HasSubstr("failed")));
    const std::string listing = r.out.substr(0, r.out.find("rc2="));
    EXPECT_THAT(listing, ::testing::Not(HasSubstr(".tmp."))) << listing;
    EXPECT_THAT(listing, ::testing::Not(HasSubstr(".csv"))) << listing;
    EXPECT_THAT(listing, ::testing::Not(HasSubstr(".staging/"))) << listing;
    EXPECT_THAT(r.out, HasSubstr("rc2=0\n")) << read_text(log + "-2");
    EXPECT_THAT(read_text(log + "-2"), HasSubstr("4 finished, 0 failed"));
    EXPECT_THAT(r.out, HasSubstr("points.csv\nresults.csv\n"));
  }
}

TEST_F(SweepCliTest, JobsMustBeAPositiveWholeNumberAndAreCappedAtTheCpus) {
  scratch_.write_trace("net.trace", 8, 8, "net");
  const std::string spec =
      write_sweep("sweep.yaml", "plans: [none, uniform:0.5]\nworkloads: [{trace: net.trace}]\n");
  for (const std::string jobs : {"0", "-3", "abc", "2.5"}) {
    const auto r = run_capsim({"sweep", spec, "--out", out("bad"), "--jobs", jobs});
    EXPECT_EQ(r.exit_code, 2) << jobs;
    EXPECT_THAT(r.err,
                HasSubstr("--jobs: expected a whole number of parallel simulations, at least 1 (default: "
                          "one per CPU), got '" +
                          jobs + "'"));
    EXPECT_THAT(r.err,
                ::testing::Not(HasSubstr("179769313486231570814527423731704356798070567525844996598917")));
    EXPECT_FALSE(fs::exists(out("bad")));
  }
  const auto r = run_capsim({"sweep", spec, "--out", out("many"), "--jobs", "10000", "--no-progress"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err,
              ::testing::ContainsRegex("--jobs 10000 is more than the [0-9]+ CPUs this process may use"));
  EXPECT_THAT(r.err, ::testing::ContainsRegex("2 to run with [12] jobs"));
  EXPECT_THAT(r.err, HasSubstr("2 finished, 0 failed"));
}

}  // namespace
}  // namespace capsim::sweep
