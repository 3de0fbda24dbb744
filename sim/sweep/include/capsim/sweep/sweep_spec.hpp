#pragma once
// Sweep files (configs/sweeps/*.yaml, every key documented in docs/sweeps.md): a base
// architecture, the workloads (traces or zoo models, each with its compression plans) and the
// architecture axes to vary, crossed as a grid or zipped in groups. Parsing checks the file's own
// structure and records the line of every value, so that errors found later (an axis value the
// architecture rejects, a plan naming a layer the trace lacks) still point into the sweep file.
#include <string>
#include <vector>

#include "capsim/common/error.hpp"

namespace capsim::sweep {

inline constexpr int kSweepVersion = 1;

// A value and the sweep-file line it was written on.
struct LocatedValue {
  std::string text;
  int line = 0;
};

// An architecture key path (the syntax of `capsim simulate --set`) and the values it takes.
struct Axis {
  std::string key;  // e.g. buffer.capacity_kib
  int key_line = 0;
  std::vector<LocatedValue> values;
};

// One dimension of the grid: a single axis, or a zip group whose axes advance together.
struct Dimension {
  std::vector<Axis> axes;
  bool zipped = false;
  int line = 0;
  std::size_t size() const { return axes.front().values.size(); }
};

struct PlanRef {
  std::string written;  // as in the sweep file
  std::string arg;      // what `capsim simulate --plan` gets: none, uniform:R[:B] or a resolved path
  bool is_file = false;
  int line = 0;
};

// Workloads are a trace file, or a zoo model whose trace `capsim trace` writes (needs capsim-torch).
struct WorkloadRef {
  std::string name;   // network label in outputs; empty: the trace's network.model
  int line = 0;       // of the list item
  std::string trace;  // resolved path, trace workloads
  int trace_line = 0;
  std::string model;  // model workloads: capsim trace --model/--variant/--input/...
  std::string variant;
  std::string input;
  std::vector<std::string> trace_options;  // further `capsim trace` flags (--width, --classes, ...)
  std::vector<PlanRef> plans;
  int plans_line = 0;

  bool from_model() const { return !model.empty(); }
};

struct SweepSpec {
  std::string file;  // the sweep file as given
  std::string name;  // default: the file's stem
  std::string arch;  // resolved path of the base architecture
  int arch_line = 0;
  std::vector<Axis> fixed;  // `set:` overrides applied to every point (one value each)
  std::vector<WorkloadRef> workloads;
  std::vector<Dimension> dimensions;          // `axes:` in file order, then `zip:` groups in file order
  std::vector<LocatedValue> accuracy_curves;  // resolved paths

  // Axis keys in dimension order (zip groups contribute all their keys).
  std::vector<std::string> axis_keys() const;
  SourceLocation at(int line) const { return {file, line}; }
};

// Reads and checks a sweep file; paths in it are relative to its directory. InputError names
// file, line and key of the first problem.
SweepSpec load_sweep_spec(const std::string& path);
SweepSpec parse_sweep_spec(const std::string& text, const std::string& file);

// `path` relative to the directory of `file` (absolute paths stay), lexically normalised.
std::string resolve_beside(const std::string& file, const std::string& path);

// A copy of `error` re-pointed at `where`, its message prefixed with `context` (the original
// origin, such as "--set buffer.capacity_kib=0", is dropped).
InputError relocate(const InputError& error, const SourceLocation& where, const std::string& context);

}  // namespace capsim::sweep
