#pragma once
// The bridge between the DRAM model's counts and capsim's action counts / energy tables.
// DRAM actions: activate (an ACT and its PRE), read_burst, write_burst, refresh, and the
// background power per nanosecond of run time (active and precharged standby).
#include <cstdint>
#include <map>
#include <string>

#include "capsim/common/stats.hpp"
#include "capsim/rtl/dram/dram_spec.hpp"
#include "capsim/rtl/dram/dram_timing.hpp"
#include "capsim/sim/action_counts.hpp"

namespace capsim::sim {

// pJ per DRAM action from the preset's IDD currents (or flat pJ/bit).
std::map<std::string, double> dram_energy_per_action(const dram::DramSpec& spec);
// Adds the DRAM actions between two count snapshots.
void add_dram_actions(const dram::DramCounts& now, const dram::DramCounts& before, ActionCounts& actions);
StatList dram_stats_between(const dram::DramTiming& dram, const dram::DramCounts& before,
                            std::uint64_t elapsed_ps);

}  // namespace capsim::sim
