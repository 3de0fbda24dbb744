#pragma once
// From a sweep file to the list of points to simulate. prepare_sweep() validates everything a
// point depends on before anything runs: the sweep file itself, every trace and plan (applied to
// its trace), and the architecture of every point (the base file with the point's overrides,
// through load_arch_spec). An error caused by an axis value is reported at that value's line in
// the sweep file. Each point then gets
//   id   a directory name from its coordinates (network, plan, axis values): stable when the sweep
//        file is reordered or extended, so finished points stay reusable;
//   key  the SHA-256 of everything its result depends on (file contents, overrides, capsim
//        version): a finished point whose key changed is simulated again.
#include <map>
#include <string>
#include <vector>

#include "capsim/sweep/sweep_spec.hpp"

namespace capsim::sweep {

struct ResolvedPlan {
  std::string label;        // name in outputs: the spec (none, uniform:0.25) or a plan file's name
  std::string arg;          // for capsim simulate --plan
  std::string file_sha256;  // plan files only
};

struct ResolvedWorkload {
  std::string network;  // label in outputs
  std::string trace;    // path given to capsim simulate
  std::string trace_sha256;
  std::string generated_from;  // model workloads: the temporary trace written by capsim trace
  std::vector<ResolvedPlan> plans;
};

struct Point {
  std::size_t index = 0;  // position in the expansion
  std::string id;
  std::string key;
  std::size_t workload = 0;
  std::size_t plan = 0;
  std::string network;
  std::string plan_label;
  std::string plan_arg;                  // none, uniform:R[:B] or a plan file
  std::vector<std::string> axis_values;  // one per SweepSpec::axis_keys()
  std::vector<std::string> overrides;    // --set assignments: set:, then the axes
  int shard = 1;                         // 1-based slice under --shard I/N
};

struct FileRecord {
  std::string role;  // sweep, arch, dram_preset, energy_table, trace, plan, accuracy_curves
  std::string path;
  std::string sha256;
};

struct PreparedSweep {
  SweepSpec spec;
  std::vector<ResolvedWorkload> workloads;
  std::vector<Point> points;
  std::vector<FileRecord> files;
  std::string spec_sha256;
};

struct PrepareOptions {
  std::string capsim_exe;  // runs `capsim trace` for model workloads
  std::string out_dir;     // model workloads' traces are kept in out_dir/traces/
  std::string temp_dir;    // where model traces are written before validation succeeds
};

// Points in expansion order: workloads (file order), their plans, then the dimensions with the
// last varying fastest. Ids are filled in; keys are not.
std::vector<Point> expand_points(const SweepSpec& spec, const std::vector<ResolvedWorkload>& workloads);

// Parses, resolves and validates the whole sweep (InputError on the first problem) and computes
// every point's key.
PreparedSweep prepare_sweep(const std::string& spec_path, const PrepareOptions& options);

// 1-based shard of a point: points are dealt round-robin, so every shard gets every network.
int shard_of(std::size_t index, int shard_count);

// "I/N" with 1 <= I <= N; InputError naming --shard otherwise.
std::pair<int, int> parse_shard(const std::string& text);

// [A-Za-z0-9._-] only, at most `max_length` characters.
std::string slug(const std::string& text, std::size_t max_length = 40);

}  // namespace capsim::sweep
