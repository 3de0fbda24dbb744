#include "capsim/sweep/runner.hpp"

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "capsim/common/atomic_file.hpp"
#include "capsim/sweep/point_store.hpp"
#include "capsim/sweep/process.hpp"

namespace capsim::sweep {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kStderrTailBytes = 4000;

double now_seconds() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

std::string clock_text(double seconds) {
  const auto s = static_cast<long>(seconds + 0.5);
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
                   : fmt::format("{}:{:02}", s / 60, s % 60);
}

struct Running {
  const Point* point = nullptr;
  std::string staging;
  std::vector<std::string> command;
  double start = 0.0;
};

class PointPool {
 public:
  PointPool(const std::string& sweep_dir, const PreparedSweep& sweep, const RunOptions& options)
      : sweep_dir_(sweep_dir), sweep_(sweep), options_(options) {}
  // Left early (an exception): the simulations still running are stopped and reaped before the
  // caller cleans their staging directories.
  ~PointPool() {
    for (const auto& [pid, r] : running_) ::kill(pid, SIGKILL);
    for (const auto& [pid, r] : running_) {
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }
  PointPool(const PointPool&) = delete;
  PointPool& operator=(const PointPool&) = delete;

  RunSummary run(const std::vector<const Point*>& todo) {
    const double start = now_seconds();
    ProgressBar progress(todo.size(), options_.progress);
    std::size_t next = 0;
    while (next < todo.size() || !running_.empty()) {
      while (running_.size() < static_cast<std::size_t>(options_.jobs) && next < todo.size())
        start_point(*todo[next++]);
      if (!reap_one()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
      progress.update(summary_.finished + summary_.failed, summary_.failed);
    }
    progress.finish(summary_.finished + summary_.failed, summary_.failed);
    summary_.seconds = now_seconds() - start;
    return summary_;
  }

 private:
  void start_point(const Point& point) {
    Running r;
    r.point = &point;
    r.staging = staging_dir(sweep_dir_, point.id);
    fs::remove_all(r.staging);
    fs::create_directories(r.staging);
    r.command = simulate_command(sweep_, point, options_.capsim_exe, r.staging);
    r.start = now_seconds();
    ChildSpec child{r.command, "", r.staging + "/stderr.log"};
    running_[spawn_child(child)] = std::move(r);
  }

  // Collects one ended child, if any; false when none has ended yet.
  bool reap_one() {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid == 0 || (pid < 0 && errno == EINTR)) return false;
    if (pid < 0) throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
    auto it = running_.find(pid);
    if (it == running_.end()) return true;
    record(it->second, decode_wait_status(status));
    running_.erase(it);
    return true;
  }

  void record(const Running& r, const ExitStatus& status) {
    const Point& p = *r.point;
    const bool finished = status.ok() && fs::exists(r.staging + "/summary.json");
    std::string stderr_tail;
    if (!finished) {
      stderr_tail = file_tail(r.staging + "/stderr.log", kStderrTailBytes);
      while (!stderr_tail.empty() && stderr_tail.back() == '\n') stderr_tail.pop_back();
      // A full or read-only output is not the point's fault: the sweep stops (every other point
      // would fail the same way) and the point stays to run, instead of being recorded failed.
      if (status.code != 0 && is_output_full_or_read_only(stderr_tail))
        throw OutputError("point " + p.id + ": " + stderr_tail);
    }
    nlohmann::ordered_json record{
        {"format", "capsim-sweep-point"},
        {"id", p.id},
        {"key", p.key},
        {"status", finished ? "finished" : "failed"},
        {"network", p.network},
        {"plan", p.plan_label},
        {"overrides", p.overrides},
        {"command", simulate_command(sweep_, p, options_.capsim_exe, point_dir(sweep_dir_, p.id))},
        {"seconds", now_seconds() - r.start}};
    if (!finished) {
      record["exit_code"] = status.code;
      record["signal"] = status.signal;
      record["error"] = status.describe() + (stderr_tail.empty() ? "" : ": " + stderr_tail);
      if (status.ok()) record["error"] = "capsim simulate exited 0 but wrote no summary.json";
    }
    write_file_atomic(r.staging + "/point.json", record.dump(1) + "\n");
    install_point(sweep_dir_, p.id, r.staging);
    ++(finished ? summary_.finished : summary_.failed);
  }

  const std::string& sweep_dir_;
  const PreparedSweep& sweep_;
  const RunOptions& options_;
  std::map<pid_t, Running> running_;
  RunSummary summary_;
};

}  // namespace

std::vector<std::string> simulate_command(const PreparedSweep& sweep, const Point& point,
                                          const std::string& exe, const std::string& out_dir) {
  const ResolvedWorkload& w = sweep.workloads[point.workload];
  std::vector<std::string> command = {exe,       "simulate", "--arch", sweep.spec.arch,
                                      "--trace", w.trace,    "--plan", w.plans[point.plan].arg};
  for (const auto& assignment : point.overrides) command.insert(command.end(), {"--set", assignment});
  command.insert(command.end(), {"--out", out_dir, "--quiet"});
  return command;
}

RunSummary run_points(const std::string& sweep_dir, const PreparedSweep& sweep,
                      const std::vector<const Point*>& todo, const RunOptions& options) {
  return PointPool(sweep_dir, sweep, options).run(todo);
}

// ---- ProgressBar ------------------------------------------------------------------------------

ProgressBar::ProgressBar(std::size_t total, bool enabled)
    : total_(total),
      enabled_(enabled && total > 0),
      terminal_(::isatty(STDERR_FILENO) != 0),
      start_(now_seconds()) {}

double ProgressBar::elapsed_seconds() const { return now_seconds() - start_; }

std::string ProgressBar::line(std::size_t done, std::size_t failed) const {
  constexpr std::size_t kWidth = 30;
  const double fraction = total_ ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
  const auto filled = static_cast<std::size_t>(fraction * kWidth);
  std::string bar = std::string(filled, '=') + (filled < kWidth ? ">" : "") +
                    std::string(kWidth - std::min(kWidth, filled + 1), ' ');
  const double elapsed = elapsed_seconds();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  const std::string eta =
      done > 0 ? clock_text(elapsed / static_cast<double>(done) * static_cast<double>(total_ - done)) : "?";
  std::string text =
      fmt::format("[{}] {}/{} {:3.0f}%  {:.1f} points/s  elapsed {}  ETA {}", bar.substr(0, kWidth), done,
                  total_, fraction * 100, rate, clock_text(elapsed), eta);
  if (failed) text += fmt::format("  {} failed", failed);
  return text;
}

void ProgressBar::update(std::size_t done, std::size_t failed) {
  if (!enabled_) return;
  const double t = elapsed_seconds();
  if (terminal_) {
    if (t - last_draw_ < 0.1) return;
    std::fprintf(stderr, "\r%s\x1b[K", line(done, failed).c_str());
  } else {
    const std::size_t tenth = done * 10 / total_;
    if (done == total_ || (tenth == last_tenth_ && t - last_draw_ < 30.0)) return;  // finish() prints the end
    last_tenth_ = tenth;
    std::fprintf(stderr, "%s\n", line(done, failed).c_str());
  }
  std::fflush(stderr);
  last_draw_ = t;
}

void ProgressBar::finish(std::size_t done, std::size_t failed) {
  if (!enabled_) return;
  std::fprintf(stderr, terminal_ ? "\r%s\x1b[K\n" : "%s\n", line(done, failed).c_str());
  std::fflush(stderr);
}

}  // namespace capsim::sweep
