#include "capsim/sim/dram_actions.hpp"

#include "capsim/rtl/dram/dram_energy.hpp"

namespace capsim::sim {
namespace {

constexpr double kPsPerNs = 1000.0;

// A declared count as a stat of a layer or run.
Stat count_stat(const dram::DramCounts& d, const char* name) {
  const auto& f = dram::dram_count_field(name);
  return {f.name, f.unit, f.description, static_cast<double>(d.*f.member)};
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
  const dram::DramCounts d = now - before;
  actions.add("dram", "activate", static_cast<double>(d.activates));
  actions.add("dram", "read_burst", static_cast<double>(d.read_bursts));
  actions.add("dram", "write_burst", static_cast<double>(d.write_bursts));
  actions.add("dram", "refresh", static_cast<double>(d.refreshes));
  actions.add("dram", "active_standby_ns", static_cast<double>(d.active_standby_ps) / kPsPerNs);
  actions.add("dram", "precharge_standby_ns", static_cast<double>(d.precharge_standby_ps) / kPsPerNs);
}

StatList dram_stats_between(const dram::DramTiming& dram, const dram::DramCounts& before,
                            std::uint64_t elapsed_ps) {
  const dram::DramCounts d = dram.counts() - before;
  const double bursts = static_cast<double>(d.read_bursts + d.write_bursts);
  const double moved = static_cast<double>(d.read_burst_bytes + d.write_burst_bytes);
  const double seconds = static_cast<double>(elapsed_ps) * 1e-12;
  // The declared counts a layer reports, with the ratios derived from them in between.
  return {
      count_stat(d, "activates"),
      count_stat(d, "read_bursts"),
      count_stat(d, "write_bursts"),
      {"burst_bytes", "bytes", "bytes moved on the data bus (partial bursts count whole)", moved},
      count_stat(d, "row_hits"),
      count_stat(d, "row_misses"),
      count_stat(d, "row_conflicts"),
      {"row_hit_ratio", "ratio", "row hits per burst",
       bursts > 0 ? static_cast<double>(d.row_hits) / bursts : 0.0},
      count_stat(d, "refreshes"),
      count_stat(d, "bus_busy_ps"),
      {"achieved_bandwidth_bytes_per_s", "bytes/s", "bytes moved over the elapsed time",
       seconds > 0 ? moved / seconds : 0.0},
      {"bandwidth_utilization", "ratio", "achieved over peak bandwidth",
       seconds > 0 ? moved / seconds / dram.peak_bandwidth_bytes_per_s() : 0.0},
  };
}

}  // namespace capsim::sim
