#include "capsim/sim/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "capsim/common/atomic_file.hpp"
#include "capsim/common/csv.hpp"
#include "capsim/common/error.hpp"
#include "capsim/sim/layer_columns.hpp"
#include "capsim/sim/run_totals.hpp"

namespace capsim {

// JSON (de)serialisation of the counts: field lists in one place, used in both directions.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Stat, name, unit, description, value)
namespace buffer {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(BufferCounts, read_bytes, write_bytes, read_accesses, write_accesses)
}
namespace sim {
NLOHMANN_JSON_SERIALIZE_ENUM(LoopOrder, {{LoopOrder::ChannelsOuter, "channels_outer"},
                                         {LoopOrder::RowsOuter, "rows_outer"}})
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Tiling, order, rows, channels, row_tiles, channel_tiles, buffer_bytes,
                                   dram_bytes)

void to_json(nlohmann::json& j, const ActionCounts& counts) { j = counts.table(); }
void from_json(const nlohmann::json& j, ActionCounts& counts) {
  for (const auto& [component, actions] : j.items())
    for (const auto& [action, count] : actions.items()) counts.add(component, action, count.get<double>());
}

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(LayerResult, name, op, tiling, tiles, start_ps, end_ps, cycles,
                                   dram_read_bytes, dram_write_bytes, macs, vector_ops, pe_busy_cycles,
                                   pe_utilization, encode_macs, decode_macs, quant_values, sram,
                                   output_in_dram, output_channels, output_stored_channels,
                                   output_stored_bits, output_dropped, input_folded, actions, dram_stats)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(RunResult, layers, clock_mhz, total_ps, total_cycles, dram_stats,
                                   dram_peak_bytes_per_s)

namespace {

using json = nlohmann::ordered_json;
constexpr int kCountsVersion = 1;

json metadata_json(const RunMetadata& m) {
  return json{{"arch", {{"name", m.arch_name}, {"file", m.arch_file}, {"overrides", m.overrides}}},
              {"trace",
               {{"file", m.trace_file},
                {"model", m.model},
                {"variant", m.variant},
                {"input", m.input},
                {"plan", m.plan}}}};
}

json stats_object(const StatList& stats) {
  json out = json::object();
  for (const auto& s : stats) out[s.name] = s.value;
  return out;
}

// A declared value as JSON of its kind (integers stay integers, numbers numbers).
json param_json(const ParamValue& v) {
  switch (v.kind) {
    case ParamKind::Integer:
      return std::stoll(v.text);
    case ParamKind::Number:
      return std::stod(v.text);
    case ParamKind::Boolean:
      return v.text == "true";
    default:
      return v.text;
  }
}

}  // namespace

json arch_parameters_json(const ArchSpec& a) {
  json out = json::object();
  for (const auto& v : arch_params().values(a)) {
    json* node = &out;
    std::size_t begin = 0;
    for (auto dot = v.key.find('.'); dot != std::string::npos; dot = v.key.find('.', begin)) {
      node = &(*node)[v.key.substr(begin, dot - begin)];
      begin = dot + 1;
    }
    (*node)[v.key.substr(begin)] = param_json(v);
  }
  return out;
}

RunMetadata make_run_metadata(const ArchSpec& arch, const std::string& trace_file,
                              const trace::Trace& trace) {
  RunMetadata m;
  m.arch_name = arch.name;
  m.arch_file = arch.file;
  m.overrides = arch.overrides;
  m.trace_file = trace_file;
  m.model = trace.network.model;
  m.variant = trace.network.variant;
  m.input = trace::to_string(trace.network.input);
  m.plan = trace.plan;
  m.arch = arch_parameters_json(arch);
  return m;
}

json counts_to_json(const RunResult& run, const RunMetadata& meta) {
  json out;
  out["format"] = "capsim-counts";
  out["version"] = kCountsVersion;
  out["capsim_version"] = CAPSIM_VERSION;
  out["metadata"] = metadata_json(meta);
  out["metadata"]["arch_parameters"] = meta.arch;
  out["run"] = nlohmann::json(run);
  return out;
}

RunResult counts_from_json(const std::string& text, const std::string& file, RunMetadata& meta) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError({file, 0}, std::string("invalid JSON: ") + e.what());
  }
  try {
    if (j.at("format") != "capsim-counts")
      throw InputError({file, 0}, "format", "'capsim-counts'", j.at("format").dump());
    if (j.at("version") != kCountsVersion)
      throw InputError({file, 0}, "version", std::to_string(kCountsVersion), j.at("version").dump());
    const auto& m = j.at("metadata");
    meta.arch_name = m.at("arch").at("name");
    meta.arch_file = m.at("arch").at("file");
    meta.overrides = m.at("arch").at("overrides").get<std::vector<std::string>>();
    meta.trace_file = m.at("trace").at("file");
    meta.model = m.at("trace").at("model");
    meta.variant = m.at("trace").at("variant");
    meta.input = m.at("trace").at("input");
    meta.plan = m.at("trace").at("plan");
    meta.arch = m.at("arch_parameters");
    return j.at("run").get<RunResult>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError({file, 0}, std::string("not a complete capsim counts file: ") + e.what());
  }
}

json summary_json(const RunResult& run, const RunMetadata& meta, const EnergyTable& table) {
  const EnergyBreakdown energy = cost(run.total_actions(), table);
  json out;
  out["capsim_version"] = CAPSIM_VERSION;
  out.update(metadata_json(meta));
  out["arch"]["parameters"] = meta.arch;
  for (const auto& total : run_totals()) {
    const double value = total.value(run, energy);
    out[total.section][total.name] = total.integer ? json(static_cast<std::int64_t>(value)) : json(value);
  }
  out["energy_pj"] = energy.pj_by_component;
  out["energy_table"] = table.name;
  out["dram"] = stats_object(run.dram_stats);
  out["dram"]["peak_bandwidth_bytes_per_s"] = run.dram_peak_bytes_per_s;
  out["dram_stats"] = nlohmann::json(run.dram_stats);
  json dropped = json::object();
  for (const auto& l : run.layers)
    if (!l.output_dropped.empty()) dropped[l.output_dropped] = dropped.value(l.output_dropped, 0) + 1;
  out["compression_dropped"] = dropped;
  std::int64_t folded = 0;
  for (const auto& l : run.layers) folded += l.input_folded ? 1 : 0;
  out["layers_with_folded_decoder"] = folded;
  if (!meta.estimate.is_null()) {
    json e = meta.estimate;
    const auto dram_bytes = out["total"]["dram_bytes"].get<std::int64_t>();
    e["dram_bytes_ratio_to_simulated"] =
        e["dram_bytes"].get<double>() / static_cast<double>(std::max<std::int64_t>(1, dram_bytes));
    e["energy_ratio_to_simulated"] = e["energy_pj"].get<double>() / std::max(1e-9, energy.total_pj);
    e["cycles_ratio_to_simulated"] =
        e["cycles"].get<double>() / static_cast<double>(std::max<std::int64_t>(1, run.total_cycles));
    out["estimate"] = e;
  }
  return out;
}

std::string layers_csv(const RunResult& run, const EnergyTable& table) {
  const auto& columns = layer_columns();
  std::string out;
  for (std::size_t i = 0; i < columns.size(); ++i) out += (i ? "," : "") + columns[i].name;
  out += "\n";
  for (const auto& l : run.layers) {
    const EnergyBreakdown energy = cost(l.actions, table);
    for (std::size_t i = 0; i < columns.size(); ++i) out += (i ? "," : "") + columns[i].cell(l, energy);
    out += "\n";
  }
  return out;
}

// One line per run total in declaration order (sim/run_totals), each `dram_bytes.*` part under the
// `dram_bytes` total and each energy component under `energy_pj`; values as summary.json holds them.
std::string summary_table(const RunResult& run, const RunMetadata& meta, const EnergyTable& table) {
  const EnergyBreakdown energy = cost(run.total_actions(), table);
  auto line = [](int indent, const std::string& name, const std::string& value, const std::string& unit) {
    return fmt::format("{:{}}{:<{}}{:>18} {}\n", "", indent, name, 36 - indent, value, unit);
  };
  auto value_text = [&](const RunTotal& t) {
    const double v = t.value(run, energy);
    return t.integer ? fmt::format("{}", static_cast<std::int64_t>(v)) : fmt::format("{:.6g}", v);
  };
  std::string out = fmt::format("capsim: {} ({} {}, plan {}) on {}\n", meta.trace_file, meta.model,
                                meta.variant, meta.plan, meta.arch_name);
  for (const auto& total : run_totals()) {
    if (total.section != "total") continue;
    out += line(2, total.name, value_text(total), total.unit);
    for (const auto& part : run_totals())
      if (part.section == total.name) out += line(4, part.name, value_text(part), part.unit);
    if (total.name == "energy_pj")
      for (const auto& [component, pj] : energy.pj_by_component)
        out += line(4, component, fmt::format("{:.6g}", pj), "pJ");
  }
  return out;
}

void write_run_outputs(const std::string& dir, const RunResult& run, const RunMetadata& meta,
                       const EnergyTable& table) {
  // Render everything before touching the directory: a failure leaves no partial result.
  const std::string summary = summary_json(run, meta, table).dump(2) + "\n";
  const std::string layers = layers_csv(run, table);
  const std::string counts = counts_to_json(run, meta).dump(1) + "\n";
  const std::string energy = format_energy_table(table);
  // All or nothing; summary.json last: its presence marks a complete run.
  write_files_atomic(dir,
                     {{"counts.json", counts},
                      {"energy_table.yaml", energy},
                      {"layers.csv", layers},
                      {"summary.json", summary}},
                     "--out");
}

}  // namespace sim
}  // namespace capsim
