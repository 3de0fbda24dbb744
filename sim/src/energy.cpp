#include "capsim/sim/energy.hpp"

#include <fmt/format.h>

#include <cmath>
#include <iterator>

#include "capsim/common/atomic_file.hpp"
#include "capsim/common/yaml_view.hpp"
#include "capsim/sim/dram_actions.hpp"

namespace capsim::sim {
namespace {

const std::vector<std::string> kComponentNames(std::begin(kComponents), std::end(kComponents));

// component -> actions the on-chip table must price.
const std::map<std::string, std::vector<std::string>> kOnChipActions = {
    {"pe", {"mac", "vector_op"}},
    {"projection", {"mac"}},
    {"quantization", {"value"}},
};

std::map<double, double> read_sram_points(const YamlView& sram) {
  sram.allow_keys({"access_pj_per_64_bits", "write_factor"});
  std::map<double, double> points;
  const std::vector<YamlView> items = sram.sequence("access_pj_per_64_bits");
  for (const auto& point : items) {
    point.allow_keys({"bank_kib", "pj"});
    const double kib = point.number("bank_kib", 1e-3);
    if (points.count(kib)) point.fail("bank_kib", "a bank size not listed before");
    points[kib] = point.number("pj", 1e-6);  // log-log interpolation needs positive energies
  }
  if (points.size() < 2) sram.fail("access_pj_per_64_bits", "at least two {bank_kib, pj} points");
  // A larger array never costs less per access (longer word and bit lines): a point that does is a typo.
  for (const auto& point : items) {
    const double kib = point.number("bank_kib"), pj = point.number("pj");
    auto smaller = points.lower_bound(kib);
    if (smaller != points.begin() && std::prev(smaller)->second > pj)
      point.fail("pj", fmt::format("an energy at least the next smaller bank's ({} pJ at {} KiB): "
                                   "a larger SRAM array does not cost less per access",
                                   std::prev(smaller)->second, std::prev(smaller)->first));
  }
  return points;
}

void read_actions(const YamlView& section, const std::string& component,
                  const std::vector<std::string>& actions, EnergyTable& table) {
  section.allow_keys(actions);
  for (const auto& action : actions) table.pj_per_action[component][action] = section.number(action, 0.0);
}

}  // namespace

double sram_pj_per_64_bits(const std::map<double, double>& points, double bank_bytes) {
  const double kib = bank_bytes / 1024.0;
  // Outside the table the nearest point's energy holds: no extrapolation (an `unlimited` buffer
  // of closed-form studies would otherwise be priced as a 64 TiB array).
  if (kib <= points.begin()->first) return points.begin()->second;
  if (kib >= points.rbegin()->first) return points.rbegin()->second;
  auto upper = points.lower_bound(kib);
  auto lower = std::prev(upper);
  const double t =
      (std::log(kib) - std::log(lower->first)) / (std::log(upper->first) - std::log(lower->first));
  return std::exp(std::log(lower->second) + t * (std::log(upper->second) - std::log(lower->second)));
}

EnergyTable resolve_energy_table(const ArchSpec& arch) {
  YamlDocument doc = YamlDocument::load_file(arch.energy_table);
  YamlView root = doc.root();
  root.require_map("an energy table (format: capsim-energy)");
  root.allow_keys({"format", "version", "name", "pe", "sram", "projection", "quantization", "dram"});
  if (root.string("format") != "capsim-energy") root.fail("format", "'capsim-energy'");
  root.integer("version", 1, 1);
  EnergyTable table;
  table.name = root.string("name");
  table.source = arch.energy_table;
  for (const auto& [component, actions] : kOnChipActions)
    read_actions(root.child(component), component, actions, table);

  const YamlView sram = root.child("sram");
  const double per_64 =
      sram_pj_per_64_bits(read_sram_points(sram), static_cast<double>(arch.buffer.bank_bytes()));
  const double per_access = per_64 * arch.buffer.width_bits / 64.0;
  table.pj_per_action["sram"]["read_access"] = per_access;
  table.pj_per_action["sram"]["write_access"] = per_access * sram.number_or("write_factor", 1.0, 0.0);

  auto dram = dram_energy_per_action(arch.dram);
  if (auto overrides = root.find("dram")) {
    std::vector<std::string> known;
    known.reserve(dram.size());
    for (const auto& entry : dram) known.push_back(entry.first);
    overrides->allow_keys(known);
    for (auto& [action, pj] : dram) pj = overrides->number_or(action, pj, 0.0);
  }
  table.pj_per_action["dram"] = dram;
  return table;
}

std::string format_energy_table(const EnergyTable& table) {
  std::string out = "# Resolved energy table of this run (pJ per action); `capsim recost` reads it.\n";
  out += "format: capsim-energy-resolved\nversion: 1\n";
  out += "name: " + yaml_quote(table.name) + "\n";
  out += "source: " + yaml_quote(table.source) + "\n";
  out += "pj_per_action:\n";
  for (const auto& [component, actions] : table.pj_per_action) {
    out += "  " + component + ":\n";
    for (const auto& [action, pj] : actions) out += fmt::format("    {}: {}\n", action, pj);
  }
  return out;
}

EnergyTable read_resolved_energy_table(const std::string& path) {
  YamlDocument doc = YamlDocument::load_file(path);
  YamlView root = doc.root();
  root.require_map("a resolved energy table (format: capsim-energy-resolved)");
  root.allow_keys({"format", "version", "name", "source", "pj_per_action"});
  if (root.string("format") != "capsim-energy-resolved") root.fail("format", "'capsim-energy-resolved'");
  root.integer("version", 1, 1);
  EnergyTable table;
  table.name = root.string("name");
  table.source = root.string_or("source", path);
  YamlView components = root.child("pj_per_action");
  components.allow_keys(kComponentNames);
  for (const auto& component : components.keys()) {
    YamlView actions = components.child(component);
    actions.require_map("a mapping from action to pJ");
    for (const auto& action : actions.keys())
      table.pj_per_action[component][action] = actions.number(action, 0.0);
  }
  return table;
}

EnergyBreakdown cost(const ActionCounts& counts, const EnergyTable& table) {
  EnergyBreakdown breakdown;
  for (const auto& component : kComponentNames) breakdown.pj_by_component[component] = 0.0;
  for (const auto& [component, actions] : counts.table()) {
    for (const auto& [action, count] : actions) {
      if (count == 0.0) continue;
      auto c = table.pj_per_action.find(component);
      if (c == table.pj_per_action.end() || !c->second.count(action))
        throw InputError(
            {table.source, 0}, component + "." + action,
            "an energy per action (pJ): the run counted " + fmt::format("{}", count) + " of them");
      breakdown.pj_by_component[component] += count * c->second.at(action);
    }
  }
  for (const auto& [component, pj] : breakdown.pj_by_component) breakdown.total_pj += pj;
  return breakdown;
}

}  // namespace capsim::sim
