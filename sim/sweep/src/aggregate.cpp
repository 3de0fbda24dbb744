#include "capsim/sweep/aggregate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <stdexcept>

#include "capsim/common/atomic_file.hpp"
#include "capsim/common/csv.hpp"
#include "capsim/sim/layer_columns.hpp"
#include "capsim/sim/run_totals.hpp"
#include "capsim/sweep/point_store.hpp"

namespace capsim::sweep {
namespace {

using json = nlohmann::json;

struct Metric {
  std::string name;
  std::string unit;
};

// Per-layer metrics taken from layers.csv: its numeric columns (sim/layer_columns), with their units.
const std::vector<Metric>& layer_metrics() {
  static const std::vector<Metric> metrics = [] {
    std::vector<Metric> out;
    for (const auto& c : sim::layer_columns())
      if (c.is_number()) out.push_back({c.name, c.unit});
    return out;
  }();
  return metrics;
}

// Summed over layers for the `total` row (summary.json does not carry them).
const std::vector<Metric>& layer_sums() {
  static const std::vector<Metric> sums = [] {
    std::vector<Metric> out;
    for (const auto& c : sim::layer_columns())
      if (c.merge == sim::ColumnMerge::Sum) out.push_back({c.name, c.unit});
    return out;
  }();
  return sums;
}

const std::vector<std::string> kEnergyComponents = {"dram", "sram", "pe", "projection", "quantization"};

// Totals a sweep derives itself (the others are summary.json's run totals, sim/run_totals, and the
// summed layers.csv columns, sim/layer_columns).
const std::vector<PointColumn>& sweep_metrics() {
  static const std::vector<PointColumn> metrics = {
      {"layers", "count", "layers of the network"},
      {"layers_spilled", "count", "layers whose output is stored in DRAM"},
      {"layers_compressed_in_dram", "count",
       "spilled layers stored with fewer channels than they have (k < C) or at other than "
       "`datatypes.activation_bits` bits"},
      {"layers_with_folded_decoder", "count",
       "layers that read their input's coefficients with the decoder folded into their weights"},
      {"estimate_energy_ratio", "ratio",
       "the fast cost model's energy over the simulated one (1: exact; 0: not estimated)"},
      {"estimate_dram_bytes_ratio", "ratio",
       "the fast cost model's DRAM bytes over the simulated ones (1: exact; 0: not estimated)"},
      {"dram_peak_bandwidth_bytes_per_s", "bytes/s", "peak bandwidth of the DRAM interface"},
      {"activation_bytes", "bytes", "`activation_read_bytes + activation_write_bytes`"},
  };
  return metrics;
}

Metric sweep_metric(const std::string& name) {
  for (const auto& m : sweep_metrics())
    if (m.name == name) return {m.name, m.unit};
  throw std::logic_error("undeclared sweep metric " + name);
}

std::string energy_component_description(const std::string& component) {
  return "energy of the `" + component + "` component (summary.json `energy_pj." + component + "`)";
}

std::string number_text(double value) {
  if (std::floor(value) == value && std::fabs(value) < 9e15) return fmt::format("{:.0f}", value);
  return fmt::format("{}", value);
}

// The totals of one finished point, in output order.
struct PointTotals {
  std::vector<std::pair<Metric, std::string>> metrics;
  std::map<std::string, double> values;

  void add(const Metric& metric, const json& value) {
    metrics.push_back({metric, value.is_number_float() ? number_text(value.get<double>()) : value.dump()});
    values[metric.name] = value.get<double>();
  }
  void add(const Metric& metric, double value) {
    metrics.push_back({metric, number_text(value)});
    values[metric.name] = value;
  }
  double at(const std::string& name) const {
    auto it = values.find(name);
    return it == values.end() ? std::nan("") : it->second;
  }
};

struct LoadedPoint {
  CsvTable layers;
  PointTotals totals;
};

double cell_number(const CsvTable& table, const std::vector<std::string>& row, const std::string& column,
                   const std::string& file) {
  const int c = table.column(column);
  if (c < 0) throw std::runtime_error(file + ": no column '" + column + "'");
  return std::stod(row[static_cast<std::size_t>(c)]);
}

void add_layer_totals(const CsvTable& layers, int activation_bits, const std::string& file, PointTotals& t) {
  std::map<std::string, double> sums;
  double spilled = 0, compressed_in_dram = 0;
  for (const auto& row : layers.rows) {
    for (const auto& m : layer_sums()) sums[m.name] += cell_number(layers, row, m.name, file);
    const bool in_dram = cell_number(layers, row, "output_in_dram", file) != 0;
    const bool compressed = cell_number(layers, row, "stored_channels", file) !=
                                cell_number(layers, row, "output_channels", file) ||
                            cell_number(layers, row, "stored_bits", file) != activation_bits;
    spilled += in_dram;
    compressed_in_dram += in_dram && compressed;
  }
  for (const auto& m : layer_sums()) t.add(m, sums[m.name]);
  t.add(sweep_metric("layers"), static_cast<double>(layers.rows.size()));
  t.add(sweep_metric("layers_spilled"), spilled);
  t.add(sweep_metric("layers_compressed_in_dram"), compressed_in_dram);
}

// The fixed components first, in their documented order, then any other the energy table adds.
void add_energy_components(const json& energy, PointTotals& t) {
  for (const auto& component : kEnergyComponents)
    t.add({component + "_energy_pj", "pJ"}, energy.at(component));
  for (const auto& [component, value] : energy.items())
    if (std::find(kEnergyComponents.begin(), kEnergyComponents.end(), component) == kEnergyComponents.end())
      t.add({component + "_energy_pj", "pJ"}, value);
}

LoadedPoint load_point(const std::string& dir) {
  LoadedPoint p;
  const std::string summary_file = dir + "/summary.json";
  const std::string layers_file = dir + "/layers.csv";
  try {
    const json s = json::parse(read_file(summary_file));
    p.layers = parse_csv(read_file(layers_file), layers_file);
    PointTotals& t = p.totals;
    for (const auto& total : sim::run_totals()) {
      t.add({total.name, total.unit}, s.at(total.section).at(total.name));
      if (total.name == "energy_pj") add_energy_components(s.at("energy_pj"), t);  // its breakdown next
    }
    const int activation_bits =
        s.at("arch").at("parameters").at("datatypes").at("activation_bits").get<int>();
    add_layer_totals(p.layers, activation_bits, layers_file, t);
    for (const auto& stat : s.at("dram_stats"))
      t.add({"dram_" + stat.at("name").get<std::string>(), stat.at("unit").get<std::string>()},
            stat.at("value"));
    t.add(sweep_metric("dram_peak_bandwidth_bytes_per_s"), s.at("dram").at("peak_bandwidth_bytes_per_s"));
    const json estimate = s.value("estimate", json::object());
    t.add(sweep_metric("estimate_energy_ratio"), estimate.value("energy_ratio_to_simulated", 0.0));
    t.add(sweep_metric("estimate_dram_bytes_ratio"), estimate.value("dram_bytes_ratio_to_simulated", 0.0));
    t.add(sweep_metric("layers_with_folded_decoder"), s.value("layers_with_folded_decoder", 0));
  } catch (const json::exception& e) {
    throw std::runtime_error(summary_file + ": not a complete capsim summary: " + e.what());
  } catch (const std::invalid_argument&) {
    throw std::runtime_error(layers_file + ": a metric is not a number");
  }
  return p;
}

void append_results(const Point& point, const LoadedPoint& loaded, std::string& out) {
  const std::string prefix =
      csv_field(point.id) + "," + csv_field(point.network) + "," + csv_field(point.plan_label) + ",";
  const int layer_column = loaded.layers.column("layer");
  for (const auto& row : loaded.layers.rows) {
    const std::string layer_prefix = prefix + csv_field(row[static_cast<std::size_t>(layer_column)]) + ",";
    for (const auto& m : layer_metrics()) {
      const int c = loaded.layers.column(m.name);
      if (c < 0) continue;  // an older layers.csv without this column
      out += layer_prefix + m.name + "," + row[static_cast<std::size_t>(c)] + "," + m.unit + "\n";
    }
  }
  for (const auto& [metric, value] : loaded.totals.metrics)
    out += prefix + "total," + csv_field(metric.name) + "," + value + "," + csv_field(metric.unit) + "\n";
}

// The totals of points.csv, after the coordinates: names only, each declared where it is computed.
const std::vector<std::string> kPointTotals = {"cycles",
                                               "time_ns",
                                               "dram_read_bytes",
                                               "dram_write_bytes",
                                               "dram_bytes",
                                               "activation_read_bytes",
                                               "activation_write_bytes",
                                               "weight_read_bytes",
                                               "projection_matrix_read_bytes",
                                               "energy_pj",
                                               "dram_energy_pj",
                                               "sram_energy_pj",
                                               "pe_energy_pj",
                                               "projection_energy_pj",
                                               "quantization_energy_pj",
                                               "layers",
                                               "layers_spilled",
                                               "layers_compressed_in_dram",
                                               "layers_with_folded_decoder",
                                               "macs",
                                               "estimate_energy_ratio",
                                               "estimate_dram_bytes_ratio"};

// Ratios to the `none` plan of the same network and axis values: numerator metric per column.
// (Their meaning is written once, in point_columns().)
const std::vector<std::pair<std::string, std::string>> kRatioColumns = {
    {"dram_bytes_vs_none", "dram_bytes"},
    {"activation_bytes_vs_none", "activation_bytes"},
    {"energy_vs_none", "energy_pj"},
    {"cycles_vs_none", "cycles"}};

// A total's unit and meaning, from the list that declares it.
PointColumn describe_total(const std::string& name) {
  for (const auto& t : sim::run_totals())
    if (t.name == name) return {t.name, t.unit, t.description};
  for (const auto& m : sweep_metrics())
    if (m.name == name) return m;
  for (const auto& component : kEnergyComponents)
    if (name == component + "_energy_pj") return {name, "pJ", energy_component_description(component)};
  throw std::logic_error("points.csv column " + name + " is declared nowhere");
}

std::string baseline_key(const Point& p) {
  std::string key = p.network;
  for (const auto& v : p.axis_values) key += '\x1f' + v;
  return key;
}

std::string plan_effect(const Point& p, const PointTotals& t) {
  if (p.plan_arg == "none") return "baseline";
  return t.at("layers_compressed_in_dram") == 0 ? "no_effect" : "compressed";
}

std::string points_header(const Manifest& m) {
  std::vector<std::string> header = {"point", "status", "network", "plan"};
  header.insert(header.end(), m.axis_keys.begin(), m.axis_keys.end());
  for (const auto& column : point_columns()) header.push_back(column.name);
  return csv_row(header);
}

}  // namespace

const std::vector<PointColumn>& point_columns() {
  static const std::vector<PointColumn> columns = [] {
    std::vector<PointColumn> out;
    out.reserve(kPointTotals.size() + kRatioColumns.size() + 2);
    for (const auto& name : kPointTotals) out.push_back(describe_total(name));
    out.push_back(
        {"plan_effect", "",
         "`baseline` (the `none` plan); `compressed` (at least one compressed activation is stored "
         "in DRAM); `no_effect` (the plan compresses nothing that reaches DRAM: with "
         "`spill_when_needed` every tensor it compresses stayed on chip, so the run equals `none`)"});
    for (const auto& [column, metric] : kRatioColumns)
      out.push_back({column, "ratio",
                     "`" + metric +
                         "` of the point over the `none` plan's at the same network and axis values "
                         "(empty without a finished `none` point); below 1: compression helps"});
    out.push_back(
        {"error", "", "failed points: the exit status of `capsim simulate` and the end of its stderr"});
    return out;
  }();
  return columns;
}

std::string point_columns_markdown() {
  std::string out = "| column | unit | meaning |\n|---|---|---|\n";
  for (const auto& c : point_columns())
    out += fmt::format("| `{}` | {} | {} |\n", c.name, c.unit, c.description);
  return out;
}

AggregateSummary write_aggregates(const std::string& sweep_dir, const Manifest& manifest) {
  AggregateSummary summary;
  std::string results = "point,network,plan,layer,metric,value,unit\n";
  std::vector<const Point*> covered;
  std::vector<PointStatus> statuses;
  std::vector<std::optional<PointTotals>> totals;
  std::map<std::string, std::size_t> baselines;  // baseline_key -> index into `covered`
  for (const auto& point : manifest.points) {
    if (!manifest.covers(point)) continue;
    PointStatus status = point_status(sweep_dir, point);
    std::optional<PointTotals> point_totals;
    if (status.state == PointState::Finished) {
      LoadedPoint loaded = load_point(point_dir(sweep_dir, point.id));
      PointTotals& t = loaded.totals;
      t.values[sweep_metric("activation_bytes").name] =
          t.at("activation_read_bytes") + t.at("activation_write_bytes");
      append_results(point, loaded, results);
      point_totals = std::move(t);
      if (point.plan_arg == "none") baselines[baseline_key(point)] = covered.size();
    }
    ++(status.state == PointState::Finished ? summary.finished
       : status.state == PointState::Failed ? summary.failed
                                            : summary.missing);
    covered.push_back(&point);
    statuses.push_back(std::move(status));
    totals.push_back(std::move(point_totals));
  }

  std::string points = points_header(manifest);
  for (std::size_t i = 0; i < covered.size(); ++i) {
    const Point& p = *covered[i];
    std::vector<std::string> row = {p.id, point_state_name(statuses[i].state), p.network, p.plan_label};
    row.insert(row.end(), p.axis_values.begin(), p.axis_values.end());
    const auto& t = totals[i];
    for (const auto& column : kPointTotals) row.push_back(t ? number_text(t->at(column)) : "");
    row.push_back(t ? plan_effect(p, *t) : "");
    auto baseline = baselines.find(baseline_key(p));
    for (const auto& [column, metric] : kRatioColumns) {
      const bool known = t && baseline != baselines.end();
      const double base = known ? totals[baseline->second]->at(metric) : 0.0;
      row.push_back(known && base != 0 ? fmt::format("{:.6g}", t->at(metric) / base) : "");
    }
    row.push_back(statuses[i].error);
    points += csv_row(row);
  }
  write_file_atomic(sweep_dir + "/results.csv", results);
  write_file_atomic(sweep_dir + "/points.csv", points);
  return summary;
}

}  // namespace capsim::sweep
