#pragma once
// DRAM energy from counts: per-action energies (a DramEnergyTable, derived from the spec's IDD
// currents or flat pJ/bit) times the counts of DramTiming. The simulator prices its DRAM actions
// from the same table (sim/dram_actions: dram_energy_per_action), and `capsim recost` re-prices a
// run from the resolved energy_table.yaml it writes. Formulas and sources (Micron TN-41-01,
// DRAMPower) are in docs/dram.md.
#include "capsim/common/stats.hpp"
#include "capsim/rtl/dram/dram_spec.hpp"
#include "capsim/rtl/dram/dram_timing.hpp"

namespace capsim::dram {

// Energies per action for one rank (all its devices), summed over supply rails.
struct DramEnergyTable {
  double act_pre_pj = 0.0;            // one ACT and its PRE
  double read_burst_pj = 0.0;         // one read burst (array and I/O above active standby)
  double write_burst_pj = 0.0;        // one write burst
  double refresh_pj = 0.0;            // one all-bank refresh (above active standby, over tRFC)
  double active_standby_mw = 0.0;     // background power while some bank is open
  double precharge_standby_mw = 0.0;  // background power while all banks are closed

  bool operator==(const DramEnergyTable& other) const;
};

struct DramEnergyBreakdown {
  double activation_pj = 0.0;
  double read_pj = 0.0;
  double write_pj = 0.0;
  double refresh_pj = 0.0;
  double background_pj = 0.0;

  double total_pj() const { return activation_pj + read_pj + write_pj + refresh_pj + background_pj; }
};

// Derives the table from the spec: IDD model per TN-41-01/DRAMPower, or pj_per_bit for the
// flat model (reads and writes only; every other entry is zero).
DramEnergyTable dram_energy_table(const DramSpec& spec);

DramEnergyBreakdown energy_pj(const DramCounts& counts, const DramEnergyTable& table);
StatList energy_stats(const DramEnergyBreakdown& energy);  // dram_*_energy_pj, with descriptions

}  // namespace capsim::dram
