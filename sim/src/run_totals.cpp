#include "capsim/sim/run_totals.hpp"

#include <fmt/format.h>

namespace capsim::sim {
namespace {

using Value = std::function<double(const RunResult&, const EnergyBreakdown&)>;

// A sum over layers of one integer count.
template <class Get>
Value layer_sum(Get get) {
  return [get](const RunResult& run, const EnergyBreakdown&) {
    std::int64_t total = 0;
    for (const auto& l : run.layers) total += get(l);
    return static_cast<double>(total);
  };
}

Value class_bytes(TrafficClass traffic, bool write) {
  return layer_sum([=](const LayerResult& l) {
    return (write ? l.dram_write_bytes : l.dram_read_bytes)[static_cast<int>(traffic)];
  });
}

std::vector<RunTotal> make_totals() {
  const bool kNumber = false;
  const auto reads = layer_sum([](const LayerResult& l) { return l.dram_read_total(); });
  const auto writes = layer_sum([](const LayerResult& l) { return l.dram_write_total(); });
  return {
      {"cycles", "cycles", "total",
       "accelerator cycles from the first load of the first layer to the last store of "
       "the last",
       true, [](const RunResult& r, const EnergyBreakdown&) { return double(r.total_cycles); }},
      {"time_ns", "ns", "total", "the same in time", kNumber,
       [](const RunResult& r, const EnergyBreakdown&) { return static_cast<double>(r.total_ps) / 1000.0; }},
      {"dram_read_bytes", "bytes", "total", "payload read over the DRAM interface", true, reads},
      {"dram_write_bytes", "bytes", "total", "payload written over the DRAM interface", true, writes},
      {"dram_bytes", "bytes", "total", "payload over the DRAM interface, both directions", true,
       [=](const RunResult& r, const EnergyBreakdown& e) { return reads(r, e) + writes(r, e); }},
      {"activation_read_bytes", "bytes", "dram_bytes",
       "DRAM reads of activations (stored coefficients when "
       "compressed)",
       true, class_bytes(TrafficClass::Activation, false)},
      {"activation_write_bytes", "bytes", "dram_bytes", "DRAM writes of activations", true,
       class_bytes(TrafficClass::Activation, true)},
      {"projection_matrix_read_bytes", "bytes", "dram_bytes", "DRAM reads of projection matrices (side data)",
       true, class_bytes(TrafficClass::ProjectionMatrix, false)},
      {"weight_read_bytes", "bytes", "dram_bytes", "DRAM reads of weights", true,
       class_bytes(TrafficClass::Weight, false)},
      {"energy_pj", "pJ", "total", "sum of the energy breakdown `energy_pj.*`", kNumber,
       [](const RunResult&, const EnergyBreakdown& e) { return e.total_pj; }},
      {"macs", "count", "total", "multiply-accumulates", true,
       layer_sum([](const LayerResult& l) { return l.macs; })},
      {"pe_busy_cycles", "cycles", "total", "cycles the PE array computes, summed over layers", true,
       layer_sum([](const LayerResult& l) { return l.pe_busy_cycles; })},
  };
}

}  // namespace

const std::vector<RunTotal>& run_totals() {
  static const std::vector<RunTotal> totals = make_totals();
  return totals;
}

std::string run_totals_markdown() {
  std::string out = "| key | unit | meaning |\n|---|---|---|\n";
  for (const auto& t : run_totals())
    out += fmt::format("| `{}.{}` | {} | {} |\n", t.section, t.name, t.unit, t.description);
  return out;
}

}  // namespace capsim::sim
