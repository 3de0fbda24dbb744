#include "capsim/sweep/points.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>

#include "capsim/common/atomic_file.hpp"
#include "capsim/common/csv.hpp"
#include "capsim/sim/arch_spec.hpp"
#include "capsim/sweep/process.hpp"
#include "capsim/sweep/sha256.hpp"
#include "capsim/trace/plan.hpp"
#include "capsim/trace/trace.hpp"

namespace capsim::sweep {
namespace {

namespace fs = std::filesystem;

void check_accuracy_curves(const std::string& path);

// Where a --set assignment of some point came from in the sweep file.
struct OverrideOrigin {
  std::string key;
  std::string value;
  int key_line = 0;
  int value_line = 0;
  bool fixed = false;  // from set:, not an axis
};

class Preparer {
 public:
  Preparer(const std::string& spec_path, const PrepareOptions& options) : options_(options) {
    prepared_.spec = load_sweep_spec(spec_path);
    prepared_.spec_sha256 = hash_of(spec_path, "sweep");
  }

  PreparedSweep run() {
    const SweepSpec& spec = prepared_.spec;
    hash_of(spec.arch, "arch");
    for (const auto& w : spec.workloads) prepared_.workloads.push_back(resolve_workload(w));
    check_unique_networks();
    for (const auto& curve : spec.accuracy_curves) {
      check_accuracy_curves(curve.text);
      hash_of(curve.text, "accuracy_curves");
    }
    prepared_.points = expand_points(spec, prepared_.workloads);
    index_override_origins();
    for (auto& point : prepared_.points) point.key = point_key(point);
    return std::move(prepared_);
  }

 private:
  std::string hash_of(const std::string& path, const std::string& role) {
    auto it = hashes_.find(path);
    if (it != hashes_.end()) return it->second;
    std::string sha = sha256_file(path);
    hashes_[path] = sha;
    prepared_.files.push_back({role, path, sha});
    return sha;
  }

  ResolvedWorkload resolve_workload(const WorkloadRef& ref) {
    ResolvedWorkload w;
    std::string read_from = ref.trace;
    if (ref.from_model()) {
      read_from = generate_trace(ref);
      w.generated_from = read_from;
      w.trace = (fs::path(options_.out_dir) / "traces" / fs::path(read_from).filename()).string();
    } else {
      w.trace = ref.trace;
    }
    const trace::Trace trace = trace::read_trace(read_from);
    w.trace_sha256 = sha256_file(read_from);
    if (!ref.from_model()) hash_of(ref.trace, "trace");
    w.network = ref.name.empty() ? trace.network.model : ref.name;
    std::set<std::string> labels;
    for (const auto& plan_ref : ref.plans) {
      ResolvedPlan plan = resolve_plan(plan_ref, trace);
      if (!labels.insert(plan.label).second)
        throw InputError(
            prepared_.spec.at(plan_ref.line), "plans",
            "plans with distinct names within a workload (plan files are named by their 'name:')",
            plan.label);
      w.plans.push_back(plan);
    }
    return w;
  }

  // A plan is checked by applying it to a copy of its trace, as capsim simulate will.
  ResolvedPlan resolve_plan(const PlanRef& ref, trace::Trace trace) {
    const SourceLocation at = prepared_.spec.at(ref.line);
    const std::string origin = "plan " + ref.written;
    trace::Plan plan;
    try {
      plan = trace::parse_plan_spec(ref.arg, origin);
    } catch (const InputError& e) {
      if (e.where().file != origin) throw;  // an error inside a plan file names that file
      throw relocate(e, at, "plan '" + ref.written + "'");
    }
    try {
      trace::apply_plan(trace, plan);
    } catch (const InputError& e) {
      throw relocate(e, at, "plan '" + ref.written + "' on trace " + trace.network.model);
    }
    ResolvedPlan resolved;
    resolved.label = ref.is_file ? plan.name : ref.arg;
    resolved.arg = ref.arg;
    if (ref.is_file) resolved.file_sha256 = hash_of(ref.arg, "plan");
    return resolved;
  }

  std::string generate_trace(const WorkloadRef& ref) {
    std::string file = slug(ref.model + "_" + ref.variant + "_" + ref.input, 80);
    for (std::size_t i = 0; i + 1 < ref.trace_options.size(); i += 2)
      file += "_" + slug(ref.trace_options[i].substr(2) + ref.trace_options[i + 1], 20);
    std::string path = (fs::path(options_.temp_dir) / (file + ".trace")).string();
    ChildSpec child;
    child.argv = {options_.capsim_exe, "trace",   "--model", ref.model, "--variant",
                  ref.variant,         "--input", ref.input, "--out",   path};
    child.argv.insert(child.argv.end(), ref.trace_options.begin(), ref.trace_options.end());
    child.stderr_path = path + ".stderr";
    const ExitStatus status = run_child(child);
    if (!status.ok())
      throw InputError(prepared_.spec.at(ref.trace_line),
                       "workload model '" + ref.model + "': `capsim trace` failed (" + status.describe() +
                           "): " + file_tail(child.stderr_path, 2000));
    return path;
  }

  void check_unique_networks() {
    std::set<std::string> seen;
    for (std::size_t i = 0; i < prepared_.workloads.size(); ++i) {
      if (seen.insert(prepared_.workloads[i].network).second) continue;
      const WorkloadRef& ref = prepared_.spec.workloads[i];
      throw InputError(prepared_.spec.at(ref.line), "workloads[" + std::to_string(i) + "].name",
                       "a network name not used by another workload (set 'name:' to tell them apart)",
                       prepared_.workloads[i].network);
    }
  }

  void index_override_origins() {
    for (const auto& axis : prepared_.spec.fixed)
      origins_["--set " + axis.key + "=" + axis.values[0].text] = {axis.key, axis.values[0].text,
                                                                   axis.key_line, axis.values[0].line, true};
    for (const auto& dimension : prepared_.spec.dimensions)
      for (const auto& axis : dimension.axes)
        for (const auto& value : axis.values)
          origins_["--set " + axis.key + "=" + value.text] = {axis.key, value.text, axis.key_line, value.line,
                                                              false};
  }

  // The architecture of a set of overrides, validated once however many points share it.
  const sim::ArchSpec& arch_for(const std::vector<std::string>& overrides) {
    auto it = archs_.find(overrides);
    if (it != archs_.end()) return it->second;
    try {
      return archs_.emplace(overrides, sim::load_arch_spec(prepared_.spec.arch, overrides)).first->second;
    } catch (const InputError& e) {
      auto origin = origins_.find(e.where().file);
      if (origin == origins_.end()) throw;
      const OverrideOrigin& o = origin->second;
      // An unknown key is the key's fault, a rejected value the value's.
      const int line = e.key().empty() ? o.key_line : o.value_line;
      throw relocate(e, prepared_.spec.at(line),
                     std::string(o.fixed ? "set " : "axis ") + o.key + " = " + o.value);
    }
  }

  // The overrides in a canonical order, so that reordering axes keeps every key: sorted, unless
  // one key path is a prefix of another (then the order of application matters and is kept).
  static std::vector<std::string> canonical_overrides(std::vector<std::string> overrides) {
    std::vector<std::string> keys;
    keys.reserve(overrides.size());
    for (const auto& o : overrides) keys.push_back(o.substr(0, o.find('=')));
    for (const auto& a : keys)
      for (const auto& b : keys)
        if (a != b && b.rfind(a + ".", 0) == 0) return overrides;
    std::sort(overrides.begin(), overrides.end());
    return overrides;
  }

  std::string point_key(const Point& point) {
    const sim::ArchSpec& arch = arch_for(point.overrides);
    const ResolvedWorkload& w = prepared_.workloads[point.workload];
    const ResolvedPlan& plan = w.plans[point.plan];
    Sha256 key;
    key.update("capsim sweep point key v1\n");
    key.update("capsim_version=" CAPSIM_VERSION "\n");
    key.update("arch=" + hash_of(prepared_.spec.arch, "arch") + "\n");
    for (const auto& assignment : canonical_overrides(point.overrides))
      key.update("set=" + assignment + "\n");
    key.update("dram_preset=" + hash_of(arch.dram_preset, "dram_preset") + "\n");
    key.update("energy_table=" + hash_of(arch.energy_table, "energy_table") + "\n");
    key.update("trace=" + w.trace_sha256 + "\n");
    key.update(plan.file_sha256.empty() ? "plan=" + plan.arg + "\n" : "plan_file=" + plan.file_sha256 + "\n");
    return key.hex_digest();
  }

  PrepareOptions options_;
  PreparedSweep prepared_;
  std::map<std::string, std::string> hashes_;
  std::map<std::string, OverrideOrigin> origins_;
  std::map<std::vector<std::string>, sim::ArchSpec> archs_;
};

// The accuracy-curve CSV of the compression pipeline (docs/reports.md): the columns the report plots
// must be there and numeric (test_accuracy may be empty).
void check_accuracy_curves(const std::string& path) {
  CsvTable table;
  try {
    table = parse_csv(read_file(path), path);
  } catch (const std::runtime_error& e) {
    throw InputError({path, 0}, e.what());
  }
  const std::vector<std::string> numeric = {"reduction_vs_b8",
                                            "reduction_vs_b16",
                                            "reduction_vs_b8_with_overhead",
                                            "reduction_vs_b16_with_overhead",
                                            "val_accuracy",
                                            "test_accuracy"};
  for (const char* column : {"network", "method", "plan"})
    if (table.column(column) < 0)
      throw InputError({path, 1}, column, "a column of the accuracy-curve header");
  for (const auto& column : numeric)
    if (table.column(column) < 0)
      throw InputError({path, 1}, column, "a column of the accuracy-curve header");
  for (std::size_t r = 0; r < table.rows.size(); ++r)
    for (const auto& column : numeric) {
      const std::string& cell = table.rows[r][static_cast<std::size_t>(table.column(column))];
      if (cell.empty() && column == "test_accuracy") continue;
      char* end = nullptr;
      std::strtod(cell.c_str(), &end);
      if (cell.empty() || *end != '\0')
        throw InputError({path, static_cast<int>(r) + 2}, column, "a number", cell);
    }
}

// Sorted coordinates: reordering the axes of a sweep file keeps every point's id.
std::string point_id(const Point& point, const std::vector<std::string>& axis_keys) {
  std::vector<std::string> assignments;
  for (std::size_t i = 0; i < axis_keys.size(); ++i)
    assignments.push_back(axis_keys[i] + "=" + point.axis_values[i]);
  std::sort(assignments.begin(), assignments.end());
  std::string coordinates = point.network + "\n" + point.plan_label + "\n";
  for (const auto& assignment : assignments) coordinates += assignment + "\n";
  return slug(point.network, 24) + "-" + slug(point.plan_label, 24) + "-" +
         sha256_hex(coordinates).substr(0, 12);
}

}  // namespace

std::vector<Point> expand_points(const SweepSpec& spec, const std::vector<ResolvedWorkload>& workloads) {
  std::size_t grid_size = 1;
  for (const auto& d : spec.dimensions) grid_size *= d.size();
  const std::vector<std::string> axis_keys = spec.axis_keys();
  std::vector<std::string> fixed;
  for (const auto& axis : spec.fixed) fixed.push_back(axis.key + "=" + axis.values[0].text);

  std::vector<Point> points;
  std::set<std::string> ids;
  for (std::size_t w = 0; w < workloads.size(); ++w) {
    for (std::size_t p = 0; p < workloads[w].plans.size(); ++p) {
      for (std::size_t cell = 0; cell < grid_size; ++cell) {
        Point point;
        point.index = points.size();
        point.workload = w;
        point.plan = p;
        point.network = workloads[w].network;
        point.plan_label = workloads[w].plans[p].label;
        point.plan_arg = workloads[w].plans[p].arg;
        point.overrides = fixed;
        // Mixed-radix digits of `cell`, the last dimension the least significant.
        std::vector<std::size_t> choice(spec.dimensions.size());
        std::size_t rest = cell;
        for (std::size_t d = spec.dimensions.size(); d-- > 0;) {
          choice[d] = rest % spec.dimensions[d].size();
          rest /= spec.dimensions[d].size();
        }
        for (std::size_t d = 0; d < spec.dimensions.size(); ++d)
          for (const auto& axis : spec.dimensions[d].axes) {
            point.axis_values.push_back(axis.values[choice[d]].text);
            point.overrides.push_back(axis.key + "=" + axis.values[choice[d]].text);
          }
        point.id = point_id(point, axis_keys);
        if (!ids.insert(point.id).second) throw std::logic_error("duplicate sweep point id " + point.id);
        points.push_back(std::move(point));
      }
    }
  }
  return points;
}

PreparedSweep prepare_sweep(const std::string& spec_path, const PrepareOptions& options) {
  return Preparer(spec_path, options).run();
}

int shard_of(std::size_t index, int shard_count) {
  return static_cast<int>(index % static_cast<std::size_t>(shard_count)) + 1;
}

std::pair<int, int> parse_shard(const std::string& text) {
  const std::string expected = "I/N with 1 <= I <= N, e.g. 2/8";
  const auto slash = text.find('/');
  try {
    if (slash == std::string::npos) throw std::invalid_argument(text);
    std::size_t used_index = 0, used_count = 0;
    const int index = std::stoi(text.substr(0, slash), &used_index);
    const int count = std::stoi(text.substr(slash + 1), &used_count);
    if (used_index != slash || used_count != text.size() - slash - 1 || count < 1 || index < 1 ||
        index > count)
      throw std::invalid_argument(text);
    return {index, count};
  } catch (const std::exception&) {
    throw InputError({"--shard " + text, 0}, "--shard", expected, text);
  }
}

std::string slug(const std::string& text, std::size_t max_length) {
  std::string out;
  for (char ch : text) {
    const bool keep = std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-';
    out += keep ? ch : '_';
    if (out.size() == max_length) break;
  }
  return out.empty() ? "_" : out;
}

}  // namespace capsim::sweep
