#include "capsim/rtl/dram/dram_energy.hpp"

#include <algorithm>

namespace capsim::dram {
namespace {

// mA x V = mW, and mW x ns = pJ.
double ns(const DramSpec& spec, std::uint32_t cycles) { return spec.cycles_to_ps(cycles) / 1000.0; }

// Energy of one ACT-PRE pair on one rail: IDD0 over tRC minus the standby current the bank would
// have drawn anyway (IDD3N while open for tRAS, IDD2N while closed for the rest of tRC).
double act_pre_pj(const DramSpec& spec, const DramRail& rail) {
  const double t_rc = ns(spec, spec.timing.rc);
  const double t_ras = ns(spec, spec.timing.ras);
  const double charge = rail.idd0_ma * t_rc - (rail.idd3n_ma * t_ras + rail.idd2n_ma * (t_rc - t_ras));
  return rail.voltage_v * std::max(0.0, charge);  // datasheet rounding can make a rail's share negative
}

DramEnergyTable idd_table(const DramSpec& spec) {
  const double burst_ns = spec.burst_ps() / 1000.0;
  const double rfc_ns = ns(spec, spec.timing.rfc);
  DramEnergyTable table;
  for (const DramRail& rail : spec.power.rails) {
    const double v = rail.voltage_v;
    table.act_pre_pj += act_pre_pj(spec, rail);
    table.read_burst_pj += v * std::max(0.0, rail.idd4r_ma - rail.idd3n_ma) * burst_ns;
    table.write_burst_pj += v * std::max(0.0, rail.idd4w_ma - rail.idd3n_ma) * burst_ns;
    table.refresh_pj += v * std::max(0.0, rail.idd5b_ma - rail.idd3n_ma) * rfc_ns;
    table.active_standby_mw += v * rail.idd3n_ma;
    table.precharge_standby_mw += v * rail.idd2n_ma;
  }
  const double devices = spec.power.devices_per_rank;
  table.act_pre_pj *= devices;
  table.read_burst_pj *= devices;
  table.write_burst_pj *= devices;
  table.refresh_pj *= devices;
  table.active_standby_mw *= devices;
  table.precharge_standby_mw *= devices;
  return table;
}

}  // namespace

bool DramEnergyTable::operator==(const DramEnergyTable& o) const {
  return act_pre_pj == o.act_pre_pj && read_burst_pj == o.read_burst_pj &&
         write_burst_pj == o.write_burst_pj && refresh_pj == o.refresh_pj &&
         active_standby_mw == o.active_standby_mw && precharge_standby_mw == o.precharge_standby_mw;
}

DramEnergyTable dram_energy_table(const DramSpec& spec) {
  if (spec.power.model == PowerModel::kIdd) return idd_table(spec);
  DramEnergyTable table;
  const double burst_bits = 8.0 * spec.bytes_per_burst();
  table.read_burst_pj = table.write_burst_pj = spec.power.pj_per_bit * burst_bits;
  return table;
}

DramEnergyBreakdown energy_pj(const DramCounts& c, const DramEnergyTable& t) {
  DramEnergyBreakdown e;
  e.activation_pj = double(c.activates) * t.act_pre_pj;
  e.read_pj = double(c.read_bursts) * t.read_burst_pj;
  e.write_pj = double(c.write_bursts) * t.write_burst_pj;
  e.refresh_pj = double(c.refreshes) * t.refresh_pj;
  // mW x ps = 1e-3 pJ
  e.background_pj = (t.active_standby_mw * double(c.active_standby_ps) +
                     t.precharge_standby_mw * double(c.precharge_standby_ps)) *
                    1e-3;
  return e;
}

StatList energy_stats(const DramEnergyBreakdown& e) {
  return {
      {"dram_activation_energy_pj", "pJ", "ACT+PRE pairs", e.activation_pj},
      {"dram_read_energy_pj", "pJ", "read bursts above active standby", e.read_pj},
      {"dram_write_energy_pj", "pJ", "write bursts above active standby", e.write_pj},
      {"dram_refresh_energy_pj", "pJ", "all-bank refreshes above active standby", e.refresh_pj},
      {"dram_background_energy_pj", "pJ", "active and precharge standby over the run", e.background_pj},
      {"dram_energy_pj", "pJ", "total DRAM energy", e.total_pj()},
  };
}

}  // namespace capsim::dram
