#pragma once
// Energy tables (configs/energy/*.yaml, documented in docs/energy.md): pJ per action for each
// component. On-chip entries come from the table file; the SRAM access energy is interpolated at
// the buffer's bank size; DRAM entries come from the DRAM preset (IDD currents) unless the table
// overrides them. The resolved table is written beside every run so it can be re-costed.
#include <map>
#include <string>

#include "capsim/sim/action_counts.hpp"
#include "capsim/sim/arch_spec.hpp"

namespace capsim::sim {

struct EnergyTable {
  std::string name;
  std::string source;                                                  // the YAML it came from
  std::map<std::string, std::map<std::string, double>> pj_per_action;  // component -> action -> pJ
};

struct EnergyBreakdown {
  std::map<std::string, double> pj_by_component;  // every component of kComponents, zero included
  double total_pj = 0.0;
};

// Resolves the arch's energy table against its buffer geometry and DRAM preset.
EnergyTable resolve_energy_table(const ArchSpec& arch);
// Reads a resolved table written by a run (energy_table.yaml); InputError on bad content.
EnergyTable read_resolved_energy_table(const std::string& path);
std::string format_energy_table(const EnergyTable& table);

// SRAM energy of one 64-bit access at `bank_bytes`, interpolated log-log between the table's points.
double sram_pj_per_64_bits(const std::map<double, double>& points_kib_to_pj, double bank_bytes);

// Throws InputError when a counted action has no energy in the table (no silent zeros).
EnergyBreakdown cost(const ActionCounts& counts, const EnergyTable& table);

}  // namespace capsim::sim
