#include "capsim/sweep/sweep_spec.hpp"

#include <filesystem>
#include <set>

#include "capsim/common/integers.hpp"
#include "capsim/common/yaml_view.hpp"

namespace capsim::sweep {
namespace {

namespace fs = std::filesystem;

int line_of(const YAML::Node& node) { return node.Mark().is_null() ? 0 : node.Mark().line + 1; }

// Architecture key paths as `--set` takes them: dotted snake_case words.
bool is_key_path(const std::string& key) {
  if (key.empty() || key.front() == '.' || key.back() == '.' || key.find("..") != std::string::npos)
    return false;
  for (char ch : key)
    if (!(std::islower(static_cast<unsigned char>(ch)) || std::isdigit(static_cast<unsigned char>(ch)) ||
          ch == '_' || ch == '.'))
      return false;
  return true;
}

class SpecParser {
 public:
  SpecParser(const YamlView& root, SweepSpec& spec) : root_(root), spec_(spec) {}

  void parse() {
    root_.require_map("a sweep spec (a mapping with format, version, arch, workloads, axes)");
    root_.allow_keys({"format", "version", "name", "description", "arch", "set", "plans", "workloads", "axes",
                      "zip", "accuracy_curves"});
    if (root_.string("format") != "capsim-sweep") root_.fail("format", "'capsim-sweep'");
    if (root_.integer("version") != kSweepVersion)
      root_.fail("version", std::to_string(kSweepVersion) + " (this capsim reads sweep format version 1)");
    spec_.name = root_.string_or("name", fs::path(spec_.file).stem().string());
    parse_arch();
    if (auto set = root_.find("set")) spec_.fixed = parse_fixed(*set);
    std::vector<PlanRef> default_plans;
    if (root_.has("plans")) default_plans = parse_plans(root_, "plans");
    for (const auto& item : root_.sequence("workloads"))
      spec_.workloads.push_back(parse_workload(item, default_plans));
    if (spec_.workloads.empty()) root_.fail("workloads", "a non-empty list of workloads");
    if (auto axes = root_.find("axes")) parse_axes(*axes);
    if (root_.has("zip"))
      for (const auto& group : root_.sequence("zip")) parse_zip_group(group);
    if (root_.has("accuracy_curves")) parse_accuracy_curves();
  }

 private:
  void parse_arch() {
    spec_.arch_line = root_.location_of("arch").line;
    spec_.arch = resolve_existing(root_, "arch", "an architecture file (path relative to the sweep file)");
  }

  // A file named by `key`, resolved beside the sweep file; it must exist.
  std::string resolve_existing(const YamlView& view, std::string_view key, const std::string& what) const {
    std::string path = resolve_beside(spec_.file, view.string(key));
    if (!fs::is_regular_file(path)) view.fail(key, what + "; " + path + " does not exist");
    return path;
  }

  std::vector<Axis> parse_fixed(const YamlView& set) {
    set.require_map("a mapping from architecture key path to one value, e.g. {controller.spill_policy: ...}");
    std::vector<Axis> fixed;
    for (const auto& entry : set.node()) {
      Axis axis = axis_header(set, entry.first);
      const YAML::Node& value = entry.second;
      if (!value.IsScalar()) set.fail(axis.key, "one scalar value (use axes: to vary a key)");
      axis.values.push_back({value.Scalar(), line_of(value)});
      fixed.push_back(axis);
    }
    return fixed;
  }

  // The key of an axis or `set` entry: a key path not used before.
  Axis axis_header(const YamlView& section, const YAML::Node& key_node) {
    Axis axis;
    axis.key = key_node.Scalar();
    axis.key_line = line_of(key_node);
    const std::string where = section.key_path(axis.key);
    if (!is_key_path(axis.key))
      throw InputError(spec_.at(axis.key_line), where,
                       "an architecture key path such as buffer.capacity_kib (as in --set)", axis.key);
    if (!used_keys_.insert(axis.key).second)
      throw InputError(spec_.at(axis.key_line), where,
                       "a key path not already given in set:, axes: or another zip group", axis.key);
    return axis;
  }

  // Values of a grid axis must be distinct; in a zip group only the groups' tuples must be.
  Axis parse_axis(const YamlView& section, const YAML::Node& key_node, const YAML::Node& values,
                  bool distinct) {
    Axis axis = axis_header(section, key_node);
    const std::string expected = distinct ? "a non-empty list of distinct scalar values, e.g. [128, 256, 512]"
                                          : "a non-empty list of scalar values";
    if (!values.IsSequence() || values.size() == 0) section.fail(axis.key, expected);
    std::set<std::string> seen;
    for (const auto& value : values) {
      if (!value.IsScalar() || (!seen.insert(value.Scalar()).second && distinct))
        throw InputError(spec_.at(line_of(value)), section.key_path(axis.key), expected,
                         value.IsScalar() ? value.Scalar() + " (repeated)" : "a list or mapping");
      axis.values.push_back({value.Scalar(), line_of(value)});
    }
    return axis;
  }

  void parse_axes(const YamlView& axes) {
    axes.require_map("a mapping from architecture key path to a list of values (crossed as a grid)");
    for (const auto& entry : axes.node()) {
      Dimension dimension;
      dimension.axes.push_back(parse_axis(axes, entry.first, entry.second, true));
      dimension.line = dimension.axes.front().key_line;
      spec_.dimensions.push_back(dimension);
    }
  }

  void parse_zip_group(const YamlView& group) {
    group.require_map("a zip group: a mapping from key path to lists of equal length, advanced together");
    Dimension dimension;
    dimension.zipped = true;
    dimension.line = group.location().line;
    for (const auto& entry : group.node()) {
      Axis axis = parse_axis(group, entry.first, entry.second, false);
      if (!dimension.axes.empty() && axis.values.size() != dimension.size())
        throw InputError(spec_.at(axis.key_line), group.key_path(axis.key),
                         "as many values as '" + dimension.axes.front().key + "' (" +
                             std::to_string(dimension.size()) + "): zipped axes advance together",
                         std::to_string(axis.values.size()) + " values");
      dimension.axes.push_back(axis);
    }
    if (dimension.axes.empty()) group.fail_here("a zip group with at least one axis");
    std::set<std::vector<std::string>> tuples;
    for (std::size_t i = 0; i < dimension.size(); ++i) {
      std::vector<std::string> tuple;
      for (const auto& axis : dimension.axes) tuple.push_back(axis.values[i].text);
      if (!tuples.insert(tuple).second)
        throw InputError(
            spec_.at(dimension.axes.front().values[i].line), group.path(),
            "distinct combinations of values (entry " + std::to_string(i + 1) + " repeats an earlier one)");
    }
    spec_.dimensions.push_back(dimension);
  }

  std::vector<PlanRef> parse_plans(const YamlView& view, std::string_view key) {
    std::vector<PlanRef> plans;
    std::set<std::string> seen;
    for (const auto& item : view.sequence(key)) {
      PlanRef plan;
      plan.line = item.location().line;
      if (!item.node().IsScalar())
        item.fail_here("a plan: none, uniform:R[:B] or a plan file ending in .yaml");
      plan.written = item.node().Scalar();
      plan.is_file = ends_with(plan.written, ".yaml") || ends_with(plan.written, ".yml");
      plan.arg = plan.is_file ? resolve_beside(spec_.file, plan.written) : plan.written;
      if (plan.is_file && !fs::is_regular_file(plan.arg))
        throw InputError(spec_.at(plan.line), item.path(),
                         "a plan file (path relative to the sweep file); " + plan.arg + " does not exist",
                         plan.written);
      if (!seen.insert(plan.arg).second)
        throw InputError(spec_.at(plan.line), item.path(), "each plan once per workload", plan.written);
      plans.push_back(plan);
    }
    if (plans.empty()) view.fail(key, "a non-empty list of plans");
    return plans;
  }

  WorkloadRef parse_workload(const YamlView& item, const std::vector<PlanRef>& default_plans) {
    item.require_map("a workload: {trace: FILE, plans: [...]} or {model: NAME, variant: ..., input: CxHxW}");
    item.allow_keys({"name", "trace", "model", "variant", "input", "width", "classes", "batch", "plans"});
    WorkloadRef w;
    w.line = item.location().line;
    w.name = item.string_or("name", "");
    if (item.has("trace") == item.has("model"))
      item.fail_here(
          "exactly one of 'trace' (a trace file) or 'model' (a zoo model traced with capsim trace)");
    if (item.has("trace")) {
      w.trace_line = item.location_of("trace").line;
      w.trace = resolve_existing(item, "trace", "a trace file (path relative to the sweep file)");
      for (const char* key : {"variant", "input", "width", "classes", "batch"})
        if (item.has(key)) item.fail(key, "no model options on a trace workload (they belong to 'model:')");
    } else {
      w.trace_line = item.location_of("model").line;
      w.model = item.string("model");
      w.variant = item.string("variant");
      w.input = item.string("input");
      if (item.has("width"))
        w.trace_options.insert(w.trace_options.end(), {"--width", item.text_of("width")});
      if (item.has("classes"))
        w.trace_options.insert(w.trace_options.end(),
                               {"--classes", std::to_string(item.integer("classes", 1))});
      if (item.has("batch"))
        w.trace_options.insert(w.trace_options.end(), {"--batch", std::to_string(item.integer("batch", 1))});
    }
    if (item.has("plans")) {
      w.plans_line = item.location_of("plans").line;
      w.plans = parse_plans(item, "plans");
    } else if (!default_plans.empty()) {
      w.plans = default_plans;
      w.plans_line = root_.location_of("plans").line;
    } else {
      item.fail("plans", "a list of plans (here or a top-level 'plans:' for every workload)");
    }
    return w;
  }

  void parse_accuracy_curves() {
    for (const auto& item : root_.sequence("accuracy_curves")) {
      if (!item.node().IsScalar()) item.fail_here("a CSV file of accuracy curves");
      const std::string path = resolve_beside(spec_.file, item.node().Scalar());
      if (!fs::is_regular_file(path))
        item.fail_here("a CSV file of accuracy curves (path relative to the sweep file); " + path +
                       " does not exist");
      spec_.accuracy_curves.push_back({path, item.location().line});
    }
  }

  const YamlView& root_;
  SweepSpec& spec_;
  std::set<std::string> used_keys_;
};

}  // namespace

std::vector<std::string> SweepSpec::axis_keys() const {
  std::vector<std::string> keys;
  for (const auto& d : dimensions)
    for (const auto& a : d.axes) keys.push_back(a.key);
  return keys;
}

std::string resolve_beside(const std::string& file, const std::string& path) {
  const fs::path p(path);
  if (p.is_absolute()) return p.lexically_normal().string();
  return (fs::path(file).parent_path() / p).lexically_normal().string();
}

InputError relocate(const InputError& error, const SourceLocation& where, const std::string& context) {
  std::string message = error.what();
  const std::string origin = error.where().str() + ": ";
  if (message.rfind(origin, 0) == 0) message = message.substr(origin.size());
  return InputError(where, context.empty() ? message : context + ": " + message);
}

SweepSpec parse_sweep_spec(const std::string& text, const std::string& file) {
  YamlDocument doc = YamlDocument::parse(text, file);
  SweepSpec spec;
  spec.file = file;
  YamlView root = doc.root();
  SpecParser(root, spec).parse();
  return spec;
}

SweepSpec load_sweep_spec(const std::string& path) {
  YamlDocument doc = YamlDocument::load_file(path);
  SweepSpec spec;
  spec.file = path;
  YamlView root = doc.root();
  SpecParser(root, spec).parse();
  return spec;
}

}  // namespace capsim::sweep
