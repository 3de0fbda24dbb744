#include "capsim/sweep/sweep.hpp"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "capsim/common/atomic_file.hpp"
#include "capsim/common/error.hpp"
#include "capsim/sweep/aggregate.hpp"
#include "capsim/sweep/manifest.hpp"
#include "capsim/sweep/point_store.hpp"
#include "capsim/sweep/process.hpp"
#include "capsim/sweep/runner.hpp"

namespace capsim::sweep {
namespace {

namespace fs = std::filesystem;

// A temporary directory removed on scope exit (model traces live here until validation passes).
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "capsim-sweep-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("cannot create a temporary directory");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Installs a file atomically (copy beside, rename); the copy is removed when either step fails.
void copy_file_atomic(const std::string& from, const std::string& to) {
  fs::create_directories(fs::path(to).parent_path());
  const std::string temp = to + ".tmp." + std::to_string(::getpid());
  try {
    fs::copy_file(from, temp, fs::copy_options::overwrite_existing);
    fs::rename(temp, to);
  } catch (...) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    throw;
  }
}

// Copies the accuracy curves into DIR/accuracy/ so that a sweep directory is self-contained.
std::vector<std::string> install_accuracy_curves(const SweepSpec& spec, const std::string& out) {
  std::vector<std::string> inside;
  for (const auto& curve : spec.accuracy_curves) {
    const fs::path name = fs::path(curve.text).filename();
    std::string relative = "accuracy/" + name.string();
    for (int n = 2; std::find(inside.begin(), inside.end(), relative) != inside.end(); ++n)
      relative = "accuracy/" + name.stem().string() + "-" + std::to_string(n) + name.extension().string();
    copy_file_atomic(curve.text, out + "/" + relative);
    inside.push_back(relative);
  }
  return inside;
}

// CPUs this process may run on (sched_getaffinity: honours Slurm allocations and taskset).
int available_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

void print_dry_run(const PreparedSweep& sweep, const Manifest& manifest) {
  std::printf("%zu points (sweep %s)\n", sweep.points.size(), sweep.spec.name.c_str());
  for (const auto& p : manifest.points) {
    if (!manifest.covers(p)) continue;
    std::string command;
    for (const auto& arg : simulate_command(sweep, p, "capsim", "DIR/points/" + p.id)) command += " " + arg;
    std::printf("%s\n   %s\n", p.id.c_str(), command.c_str() + 1);
  }
}

void open_output_dir(const SweepOptions& options) {
  if (fs::exists(options.out) && !fs::is_directory(options.out))
    throw InputError({options.out, 0}, "--out must name a directory (it is a file)");
  check_output_dir(options.out, "--out");
  std::error_code ec;
  fs::create_directories(options.out, ec);
  if (ec) throw InputError({"--out " + options.out, 0}, "cannot create the directory: " + ec.message());
}

// Under the lock, before anything is written: what a killed run left behind goes. Temporaries of
// atomic writes (NAME.tmp.PID) are removed, and so are the tables: they are rebuilt at the end of
// this run, so that points.csv and results.csv exist only complete and from the same run as the
// manifest (a run killed while writing them leaves neither or a matching pair, never a mixture).
void clear_interrupted_run(const std::string& out) {
  for (const char* sub : {"", "/traces", "/accuracy"}) remove_stale_temporaries(out + sub);
  std::error_code ec;
  fs::remove(out + "/points.csv", ec);
  fs::remove(out + "/results.csv", ec);
}

// Reusing a directory is how resuming works, but a shard directory must stay that one shard.
void check_same_shard(const SweepOptions& options) {
  if (!fs::exists(options.out + "/manifest.json")) return;
  const Manifest previous = read_manifest(options.out);
  const int index = options.shard ? options.shard->first : 0;
  const int count = options.shard ? options.shard->second : 1;
  if (previous.shard_index != index || previous.shard_count != count)
    throw InputError({options.out + "/manifest.json", 0},
                     "this directory holds another shard selection of a sweep; use one --out per shard");
}

// The points of this run's shard that are not finished (all of them with --force).
std::vector<const Point*> points_to_run(const Manifest& manifest, const SweepOptions& options,
                                        std::size_t& covered) {
  std::vector<const Point*> todo;
  for (const auto& p : manifest.points) {
    if (!manifest.covers(p)) continue;
    ++covered;
    if (options.force || point_status(options.out, p).state != PointState::Finished) todo.push_back(&p);
  }
  return todo;
}

void announce(const PreparedSweep& sweep, const SweepOptions& options, std::size_t covered, std::size_t todo,
              int jobs) {
  std::fprintf(stderr, "capsim sweep: %s: %zu points", sweep.spec.name.c_str(), sweep.points.size());
  if (options.shard)
    std::fprintf(stderr, ", shard %d/%d has %zu", options.shard->first, options.shard->second, covered);
  std::fprintf(stderr, "; %zu already finished (skipped), %zu to run with %d jobs\n", covered - todo, todo,
               jobs);
}

int finish_message(const std::string& out, const AggregateSummary& a) {
  std::fprintf(stderr,
               "capsim sweep: %zu finished, %zu failed, %zu missing; wrote %s/points.csv, results.csv, "
               "manifest.json\n",
               a.finished, a.failed, a.missing, out.c_str());
  if (a.failed)
    std::fprintf(stderr, "capsim sweep: failed points and their errors are listed in %s/points.csv\n",
                 out.c_str());
  return a.failed || a.missing ? kExitIncomplete : 0;
}

// Everything a run does while it holds the directory.
int run_locked(const PreparedSweep& sweep, const SweepOptions& options, const std::string& exe,
               const std::string& git_commit) {
  clear_staging(options.out);
  clear_interrupted_run(options.out);
  for (const auto& w : sweep.workloads)
    if (!w.generated_from.empty()) copy_file_atomic(w.generated_from, w.trace);
  const Manifest manifest =
      make_manifest(sweep, options.shard, install_accuracy_curves(sweep.spec, options.out), git_commit);
  write_manifest(options.out, manifest);

  std::size_t covered = 0;
  const std::vector<const Point*> todo = points_to_run(manifest, options, covered);
  RunOptions run;
  // More simulations than CPUs gain nothing (each is one busy thread) and cost memory and
  // processes: --jobs above the CPUs this process may use (its affinity: a Slurm allocation,
  // taskset) is capped, and so is --jobs above the number of points to run.
  const int cpus = available_cpus();
  run.jobs = options.jobs > 0 ? options.jobs : cpus;
  if (run.jobs > cpus) {
    std::fprintf(
        stderr,
        "capsim sweep: --jobs %d is more than the %d CPUs this process may use: running %d at a time\n",
        run.jobs, cpus, cpus);
    run.jobs = cpus;
  }
  run.jobs = static_cast<int>(std::clamp<std::size_t>(todo.size(), 1, static_cast<std::size_t>(run.jobs)));
  run.progress = options.progress;
  run.capsim_exe = exe;
  announce(sweep, options, covered, todo.size(), run.jobs);
  const RunSummary summary = run_points(options.out, sweep, todo, run);
  clear_staging(options.out);
  if (!todo.empty())
    std::fprintf(stderr, "capsim sweep: ran %zu points in %.1f s (%.2f points/s)\n", todo.size(),
                 summary.seconds,
                 summary.seconds > 0 ? static_cast<double>(todo.size()) / summary.seconds : 0.0);
  return finish_message(options.out, write_aggregates(options.out, manifest));
}

[[noreturn]] void throw_cannot_write(const std::string& out, const std::string& why) {
  std::error_code ec;
  try {
    clear_staging(out);
  } catch (const std::exception&) {
    // Cleared by the next run.
  }
  fs::remove(out + "/points.csv", ec);
  fs::remove(out + "/results.csv", ec);
  remove_stale_temporaries(out);
  throw InputError({"--out " + out, 0},
                   "cannot write the sweep's results (" + why +
                       "); finished points are kept: free space (or make the directory writable) and "
                       "rerun to resume");
}

}  // namespace

int run_sweep(const SweepOptions& options) {
  const std::string exe = self_executable();
  TempDir temp;
  // Everything is validated before the output directory is touched.
  const PreparedSweep sweep = prepare_sweep(options.spec, {exe, options.out, temp.path()});
  const std::string git_commit = source_git_commit();
  if (options.dry_run) {
    print_dry_run(sweep, make_manifest(sweep, options.shard, {}, git_commit));
    return 0;
  }
  open_output_dir(options);
  DirectoryLock lock(options.out);
  check_same_shard(options);
  try {
    return run_locked(sweep, options, exe, git_commit);
  } catch (const OutputError& e) {
    throw_cannot_write(options.out, e.what());
  } catch (const fs::filesystem_error& e) {
    if (!is_output_full_or_read_only(e.code().message())) throw;
    throw_cannot_write(options.out, e.what());
  }
}

}  // namespace capsim::sweep
