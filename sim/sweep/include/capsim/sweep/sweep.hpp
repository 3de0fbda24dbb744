#pragma once
// The commands' work, kept out of the CLI files so that tests can call it:
//   run_sweep   validate a sweep file, run its (unfinished) points, write the tables
//   run_merge   combine sweep directories (shards) into one
//   run_report  figures and report.md from a sweep directory (scripts/report.py)
// Each returns the process exit code: 0 complete, kExitIncomplete when points failed or are
// missing (the tables are written all the same); bad input throws capsim::InputError (exit 2).
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace capsim::sweep {

inline constexpr int kExitIncomplete = 3;

struct SweepOptions {
  std::string spec;
  std::string out;
  int jobs = 0;                              // 0: one per CPU
  std::optional<std::pair<int, int>> shard;  // (I, N), 1-based
  bool force = false;                        // rerun finished points too
  bool progress = true;
  bool dry_run = false;  // validate and list the points, run nothing
};
int run_sweep(const SweepOptions& options);

struct MergeOptions {
  std::vector<std::string> inputs;
  std::string out;
};
int run_merge(const MergeOptions& options);

struct ReportOptions {
  std::string sweep_dir;
  std::string out;  // default: sweep_dir/report
  std::string python = "/usr/bin/python3";
  std::string script;           // default: find_report_script()
  std::vector<std::string> at;  // KEY=VALUE: the reference point of single-point figures
};
int run_report(const ReportOptions& options);

// scripts/report.py: $CAPSIM_REPORT_SCRIPT, else beside the executable (report.py or
// ../share/capsim/report.py), else in the source tree capsim was built from.
std::string find_report_script();

}  // namespace capsim::sweep
