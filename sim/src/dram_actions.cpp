#include "capsim/sim/dram_actions.hpp"

#include "capsim/rtl/dram/dram_energy.hpp"

namespace capsim::sim {
namespace {

constexpr double kPsPerNs = 1000.0;

dram::DramCounts difference(const dram::DramCounts& now, const dram::DramCounts& before) {
  dram::DramCounts d;
  d.activates = now.activates - before.activates;
  d.precharges = now.precharges - before.precharges;
  d.read_bursts = now.read_bursts - before.read_bursts;
  d.write_bursts = now.write_bursts - before.write_bursts;
  d.read_bytes = now.read_bytes - before.read_bytes;
  d.write_bytes = now.write_bytes - before.write_bytes;
  d.read_burst_bytes = now.read_burst_bytes - before.read_burst_bytes;
  d.write_burst_bytes = now.write_burst_bytes - before.write_burst_bytes;
  d.row_hits = now.row_hits - before.row_hits;
  d.row_misses = now.row_misses - before.row_misses;
  d.row_conflicts = now.row_conflicts - before.row_conflicts;
  d.refreshes = now.refreshes - before.refreshes;
  d.elapsed_ps = now.elapsed_ps - before.elapsed_ps;
  d.bus_busy_ps = now.bus_busy_ps - before.bus_busy_ps;
  d.active_standby_ps = now.active_standby_ps - before.active_standby_ps;
  d.precharge_standby_ps = now.precharge_standby_ps - before.precharge_standby_ps;
  return d;
}

}  // namespace

std::map<std::string, double> dram_energy_per_action(const dram::DramSpec& spec) {
  const dram::DramEnergyTable t = dram::dram_energy_table(spec);
  // Standby power in mW is energy in pJ per ns.
  return {{"activate", t.act_pre_pj},
          {"read_burst", t.read_burst_pj},
          {"write_burst", t.write_burst_pj},
          {"refresh", t.refresh_pj},
          {"active_standby_ns", t.active_standby_mw},
          {"precharge_standby_ns", t.precharge_standby_mw}};
}

void add_dram_actions(const dram::DramCounts& now, const dram::DramCounts& before, ActionCounts& actions) {
  const dram::DramCounts d = difference(now, before);
  actions.add("dram", "activate", static_cast<double>(d.activates));
  actions.add("dram", "read_burst", static_cast<double>(d.read_bursts));
  actions.add("dram", "write_burst", static_cast<double>(d.write_bursts));
  actions.add("dram", "refresh", static_cast<double>(d.refreshes));
  actions.add("dram", "active_standby_ns", static_cast<double>(d.active_standby_ps) / kPsPerNs);
  actions.add("dram", "precharge_standby_ns", static_cast<double>(d.precharge_standby_ps) / kPsPerNs);
}

StatList dram_stats_between(const dram::DramTiming& dram, const dram::DramCounts& before,
                            std::uint64_t elapsed_ps) {
  const dram::DramCounts d = difference(dram.counts(), before);
  const double bursts = static_cast<double>(d.read_bursts + d.write_bursts);
  const double moved = static_cast<double>(d.read_burst_bytes + d.write_burst_bytes);
  const double seconds = static_cast<double>(elapsed_ps) * 1e-12;
  return {
      {"activates", "count", "row activations (each with its precharge)", static_cast<double>(d.activates)},
      {"read_bursts", "count", "read bursts", static_cast<double>(d.read_bursts)},
      {"write_bursts", "count", "write bursts", static_cast<double>(d.write_bursts)},
      {"burst_bytes", "bytes", "bytes moved on the data bus (partial bursts count whole)", moved},
      {"row_hits", "count", "bursts that found their row open", static_cast<double>(d.row_hits)},
      {"row_misses", "count", "bursts to a closed bank (ACT only)", static_cast<double>(d.row_misses)},
      {"row_conflicts", "count", "bursts to a bank with another row open (PRE and ACT)",
       static_cast<double>(d.row_conflicts)},
      {"row_hit_ratio", "ratio", "row hits per burst",
       bursts > 0 ? static_cast<double>(d.row_hits) / bursts : 0.0},
      {"refreshes", "count", "all-bank refreshes", static_cast<double>(d.refreshes)},
      {"bus_busy_ps", "ps", "data-bus time carrying bursts, summed over channels",
       static_cast<double>(d.bus_busy_ps)},
      {"achieved_bandwidth_bytes_per_s", "bytes/s", "bytes moved over the elapsed time",
       seconds > 0 ? moved / seconds : 0.0},
      {"bandwidth_utilization", "ratio", "achieved over peak bandwidth",
       seconds > 0 ? moved / seconds / dram.peak_bandwidth_bytes_per_s() : 0.0},
  };
}

}  // namespace capsim::sim
