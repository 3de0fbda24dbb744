// capsim recost: price a finished run with another energy table, without simulating again.
#include <cstdio>
#include <string>
#include <vector>

#include "capsim/common/atomic_file.hpp"
#include "capsim/common/cli_registry.hpp"
#include "capsim/common/error.hpp"
#include "capsim/common/yaml_view.hpp"
#include "capsim/sim/arch_spec.hpp"
#include "capsim/sim/energy.hpp"
#include "capsim/sim/report.hpp"

namespace capsim::sim {
namespace {

struct RecostOptions {
  std::string run_dir;
  std::string table;
  std::string arch;
  std::vector<std::string> overrides;
  std::vector<std::string> prices;
  std::string out;
};

// "component.action=pJ" replaces (or adds) one entry of the table.
void apply_price(EnergyTable& table, const std::string& assignment) {
  const std::string origin = "--price " + assignment;
  const auto eq = assignment.find('=');
  const auto dot = assignment.find('.');
  if (eq == std::string::npos || dot == std::string::npos || dot > eq)
    throw InputError({origin, 0}, "expected COMPONENT.ACTION=PJ, e.g. --price dram.read_burst=120");
  const std::string component = assignment.substr(0, dot);
  const std::string action = assignment.substr(dot + 1, eq - dot - 1);
  auto c = table.pj_per_action.find(component);
  if (c == table.pj_per_action.end() || !c->second.count(action)) {
    std::vector<std::string> known;
    for (const auto& [comp, actions] : table.pj_per_action)
      for (const auto& [act, pj] : actions) known.push_back(comp + "." + act);
    std::string expected = "an action of the energy table";
    if (auto hint = closest_match(component + "." + action, known); !hint.empty())
      expected += " (did you mean '" + hint + "'?)";
    throw InputError({origin, 0}, component + "." + action, expected);
  }
  try {
    std::size_t used = 0;
    const double pj = std::stod(assignment.substr(eq + 1), &used);
    if (used != assignment.size() - eq - 1 || pj < 0) throw std::invalid_argument("");
    c->second[action] = pj;
  } catch (const std::exception&) {
    throw InputError({origin, 0}, component + "." + action, "a non-negative energy in pJ",
                     assignment.substr(eq + 1));
  }
}

// The energy table of an architecture: --arch with its --set values, or (only --set) the run's own
// architecture with its overrides and the new ones. Counts re-price only on the hardware that
// produced them, so the buffer and DRAM must be the run's.
EnergyTable table_from_arch(const RecostOptions& o, const RunMetadata& meta) {
  std::vector<std::string> overrides = o.overrides;
  if (o.arch.empty()) overrides.insert(overrides.begin(), meta.overrides.begin(), meta.overrides.end());
  const ArchSpec arch = load_arch_spec(o.arch.empty() ? meta.arch_file : o.arch, overrides);
  const auto parameters = arch_parameters_json(arch);
  for (const char* block : {"buffer", "dram"})
    if (nlohmann::json(parameters[block]) != nlohmann::json(meta.arch[block]))  // key order aside
      throw InputError({o.arch.empty() ? "--set" : "--arch " + o.arch, 0}, block,
                       "the run's " + std::string(block) + " (" + meta.arch[block].dump() +
                           "): counts re-price only on the hardware that produced them",
                       parameters[block].dump());
  return resolve_energy_table(arch);
}

void recost(const RecostOptions& o) {
  const std::string counts_path = o.run_dir + "/counts.json";
  RunMetadata meta;
  const RunResult run = counts_from_json(read_file(counts_path), counts_path, meta);
  EnergyTable table = !o.table.empty() ? read_resolved_energy_table(o.table)
                      : !o.arch.empty() || !o.overrides.empty()
                          ? table_from_arch(o, meta)
                          : read_resolved_energy_table(o.run_dir + "/energy_table.yaml");
  for (const auto& price : o.prices) apply_price(table, price);
  write_run_outputs(o.out.empty() ? o.run_dir : o.out, run, meta, table);
  std::fputs(summary_table(run, meta, table).c_str(), stdout);
}

void add_recost(CLI::App& app) {
  auto o = std::make_shared<RecostOptions>();
  CLI::App* cmd =
      app.add_subcommand("recost", "Re-price a finished run (its counts.json) with another energy table");
  cmd->add_option("run_dir", o->run_dir, "directory of a finished `capsim simulate` run")->required();
  auto* table =
      cmd->add_option("--table", o->table, "a resolved energy table (energy_table.yaml of some run)");
  auto* arch =
      cmd->add_option("--arch", o->arch,
                      "resolve the energy table of this architecture spec (same buffer and DRAM as the run)");
  auto* set = cmd->add_option(
                     "--set", o->overrides,
                     "override a key of --arch, or of the run's own architecture: --set energy.table=my.yaml")
                  ->allow_extra_args(false);
  arch->excludes(table);
  set->excludes(table);
  cmd->add_option("--price", o->prices, "override one energy, e.g. --price dram.read_burst=120 (pJ)")
      ->allow_extra_args(false);
  cmd->add_option("--out", o->out, "write the re-priced outputs here (default: the run directory)");
  cmd->callback([o] { recost(*o); });
}

}  // namespace

CAPSIM_REGISTER_COMMAND("recost", add_recost);

}  // namespace capsim::sim
