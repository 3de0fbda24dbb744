#include "capsim/trace/plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "capsim/common/atomic_file.hpp"
#include "capsim/common/integers.hpp"
#include "capsim/common/yaml_view.hpp"

namespace capsim::trace {
namespace {

// "uniform:R" or "uniform:R:B".
Plan parse_uniform(const std::string& spec, const std::string& origin) {
  const std::string expected =
      "'uniform:R' or 'uniform:R:B' with 0 < R <= 1 the kept fraction of channels and B in 1..32 bits";
  Plan plan;
  plan.kind = Plan::Kind::Uniform;
  plan.name = spec;
  plan.method = "uniform";
  std::string rest = spec.substr(std::string("uniform:").size());
  std::string bits_text;
  if (auto colon = rest.find(':'); colon != std::string::npos) {
    bits_text = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
  }
  try {
    std::size_t used = 0;
    plan.ratio = std::stod(rest, &used);
    if (used != rest.size()) throw std::invalid_argument(rest);
    if (!bits_text.empty()) {
      plan.bits = std::stoi(bits_text, &used);
      if (used != bits_text.size()) throw std::invalid_argument(bits_text);
    }
  } catch (const std::exception&) {
    throw InputError({origin, 0}, "plan", expected, spec);
  }
  if (!(plan.ratio > 0.0 && plan.ratio <= 1.0) || plan.bits < 1 || plan.bits > 32)
    throw InputError({origin, 0}, "plan", expected, spec);
  return plan;
}

std::string optional_stats(const PlanEntry& e) {
  std::string out;
  if (e.entropy_bits_per_value) out += fmt::format(", entropy_bits_per_value: {}", *e.entropy_bits_per_value);
  if (e.nrmse) out += fmt::format(", nrmse: {}", *e.nrmse);
  return out;
}

Compression compression_for(const PlanEntry& entry, std::int64_t channels) {
  Compression c;
  c.channels = channels;
  c.k = scale_k(entry.k, entry.channels, channels);
  c.bits = entry.bits;
  if (entry.channels == channels) {  // measured statistics only transfer to the same tensor shape
    c.entropy_bits_per_value = entry.entropy_bits_per_value;
    c.nrmse = entry.nrmse;
  }
  return c;
}

}  // namespace

std::int64_t scale_k(std::int64_t plan_k, std::int64_t plan_channels, std::int64_t channels) {
  if (plan_channels == channels) return std::clamp<std::int64_t>(plan_k, 1, channels);
  const double scaled = std::round(static_cast<double>(plan_k) * channels / plan_channels);
  return std::clamp<std::int64_t>(static_cast<std::int64_t>(scaled), 1, channels);
}

Plan parse_plan(const std::string& text, const std::string& name) {
  YamlDocument doc = YamlDocument::parse(text, name);
  YamlView root = doc.root();
  root.require_map("a capsim plan (a mapping with format, version, layers)");
  root.allow_keys({"format", "version", "name", "model", "method", "bits", "component_bits", "layers"});
  if (root.string("format") != "capsim-plan") root.fail("format", "'capsim-plan'");
  if (root.integer("version") != kPlanVersion)
    root.fail("version",
              fmt::format("{} (this capsim reads plan format version {})", kPlanVersion, kPlanVersion));
  Plan plan;
  plan.kind = Plan::Kind::PerLayer;
  plan.source = name;
  plan.name = root.string_or("name", name);
  plan.model = root.string_or("model", "");
  plan.method = root.string_or("method", "");
  plan.bits = static_cast<int>(root.integer_or("bits", kDefaultCoefficientBits, 1, 32));
  plan.component_bits = root.string_or("component_bits", "uniform");
  if (plan.component_bits != "uniform" && plan.component_bits != "variance")
    root.fail("component_bits", "'uniform' or 'variance'");
  YamlView layers = root.child("layers");
  layers.require_map("a mapping from layer name to {channels, k, bits}");
  for (const auto& layer_name : layers.keys()) {
    YamlView v = layers.child(layer_name);
    v.require_map("{channels: C, k: K, bits: B}");
    v.allow_keys({"channels", "k", "bits", "entropy_bits_per_value", "nrmse"});
    PlanEntry e;
    e.channels = v.integer("channels", 1);
    e.k = v.integer("k", 1, e.channels);
    e.bits = static_cast<int>(v.integer_or("bits", plan.bits, 1, 32));
    if (v.has("entropy_bits_per_value"))
      e.entropy_bits_per_value = v.number("entropy_bits_per_value", 0.0, static_cast<double>(e.bits));
    if (v.has("nrmse")) e.nrmse = v.number("nrmse", 0.0);
    plan.layers[layer_name] = e;
    plan.lines[layer_name] = layers.location_of(layer_name).line;
  }
  return plan;
}

Plan read_plan(const std::string& path) { return parse_plan(read_file(path), path); }

Plan parse_plan_spec(const std::string& spec, const std::string& origin) {
  if (spec == "none") return Plan{};
  if (spec.rfind("uniform:", 0) == 0) return parse_uniform(spec, origin);
  if (ends_with(spec, ".yaml") || ends_with(spec, ".yml")) return read_plan(spec);
  throw InputError({origin, 0}, "plan", "'none', 'uniform:R[:B]' or a plan file ending in .yaml", spec);
}

std::string format_plan(const Plan& plan) {
  if (plan.kind != Plan::Kind::PerLayer) throw std::logic_error("only per-layer plans are written to files");
  std::string out = "# capsim compression plan (docs/trace-format.md): layer -> kept dimension k of C\n";
  out += "format: capsim-plan\n";
  out += fmt::format("version: {}\n", kPlanVersion);
  out += "name: " + yaml_quote(plan.name) + "\n";
  if (!plan.model.empty()) out += fmt::format("model: {}\n", plan.model);
  if (!plan.method.empty()) out += fmt::format("method: {}\n", plan.method);
  out += fmt::format("bits: {}\n", plan.bits);
  if (plan.component_bits != "uniform") out += fmt::format("component_bits: {}\n", plan.component_bits);
  out += "layers:\n";
  for (const auto& [name, e] : plan.layers)
    out += fmt::format("  {}: {{channels: {}, k: {}, bits: {}{}}}\n", name, e.channels, e.k, e.bits,
                       optional_stats(e));
  return out;
}

void write_plan(const Plan& plan, const std::string& path) {
  std::string text = format_plan(plan);
  parse_plan(text, path);  // never write what we could not read back
  write_file_atomic(path, text);
}

void apply_plan(Trace& trace, const Plan& plan) {
  trace.plan = plan.name;
  const auto consumers = trace.consumers();
  for (std::size_t i = 0; i < trace.layers.size(); ++i) {
    Layer& layer = trace.layers[i];
    layer.compression.reset();
    if (plan.kind == Plan::Kind::Uniform && !consumers[i].empty()) {
      PlanEntry e{layer.out_shape.c, 0, plan.bits, {}, {}};
      e.k = static_cast<std::int64_t>(std::llround(plan.ratio * static_cast<double>(layer.out_shape.c)));
      layer.compression = compression_for(e, layer.out_shape.c);
    }
  }
  if (plan.kind != Plan::Kind::PerLayer) return;
  std::vector<std::string> names;
  for (const auto& l : trace.layers) names.push_back(l.name);
  for (const auto& [name, entry] : plan.layers) {
    int index = trace.index_of(name);
    if (index < 0) {
      std::string hint = closest_match(name, names);
      const auto line = plan.lines.find(name);
      throw InputError(
          {plan.source.empty() ? plan.name : plan.source, line == plan.lines.end() ? 0 : line->second},
          "layers." + name,
          hint.empty() ? "a layer of the trace's network"
                       : "a layer of the trace's network (did you mean '" + hint + "'?)",
          name);
    }
    Layer& layer = trace.layers[static_cast<std::size_t>(index)];
    layer.compression = compression_for(entry, layer.out_shape.c);
  }
}

}  // namespace capsim::trace
