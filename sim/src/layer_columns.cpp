#include "capsim/sim/layer_columns.hpp"

#include <fmt/format.h>

#include "capsim/common/csv.hpp"

namespace capsim::sim {
namespace {

using Cell = std::function<std::string(const LayerResult&, const EnergyBreakdown&)>;

template <class Get>
Cell integer(Get get) {
  return [get](const LayerResult& l, const EnergyBreakdown&) { return fmt::format("{}", get(l)); };
}

Cell dram_bytes(TrafficClass traffic, bool write) {
  return integer([=](const LayerResult& l) {
    return (write ? l.dram_write_bytes : l.dram_read_bytes)[static_cast<int>(traffic)];
  });
}

// Energies at 0.1 pJ: below any table's resolution, and the file stays readable.
Cell energy_of(const std::string& component) {
  return [component](const LayerResult&, const EnergyBreakdown& e) {
    return fmt::format("{:.1f}", component.empty() ? e.total_pj : e.pj_by_component.at(component));
  };
}

std::vector<LayerColumn> make_columns() {
  const auto text = [](auto get) {
    return [get](const LayerResult& l, const EnergyBreakdown&) { return csv_field(get(l)); };
  };
  using M = ColumnMerge;
  return {
      {"layer", "", "layer name, in execution order", M::None,
       text([](const LayerResult& l) { return l.name; })},
      {"op", "", "operation (conv, dwconv, linear, pool, add, ...)", M::None,
       text([](const LayerResult& l) { return l.op; })},
      {"cycles", "cycles", "accelerator cycles from the layer's first load to its last store", M::Total,
       integer([](const LayerResult& l) { return l.cycles; })},
      {"dram_read_bytes", "bytes", "bytes read from DRAM, every traffic class", M::Total,
       integer([](const LayerResult& l) { return l.dram_read_total(); })},
      {"dram_write_bytes", "bytes", "bytes written to DRAM, every traffic class", M::Total,
       integer([](const LayerResult& l) { return l.dram_write_total(); })},
      {"activation_read_bytes", "bytes", "activations (or their coefficients) read from DRAM", M::Total,
       dram_bytes(TrafficClass::Activation, false)},
      {"activation_write_bytes", "bytes", "activations (or their coefficients) written to DRAM", M::Total,
       dram_bytes(TrafficClass::Activation, true)},
      {"weight_read_bytes", "bytes", "weights and biases read from DRAM", M::Total,
       dram_bytes(TrafficClass::Weight, false)},
      {"projection_matrix_read_bytes", "bytes", "side data read from DRAM: matrices, means, scales", M::Total,
       dram_bytes(TrafficClass::ProjectionMatrix, false)},
      {"macs", "count", "multiply-accumulates in the PE array", M::Total,
       integer([](const LayerResult& l) { return l.macs; })},
      {"vector_ops", "count", "element operations of pool and add layers", M::Sum,
       integer([](const LayerResult& l) { return l.vector_ops; })},
      {"pe_busy_cycles", "cycles", "cycles the PE array computes", M::Total,
       integer([](const LayerResult& l) { return l.pe_busy_cycles; })},
      {"pe_utilization", "ratio", "MACs per PE per busy cycle", M::None,
       [](const LayerResult& l, const EnergyBreakdown&) { return fmt::format("{:.4f}", l.pe_utilization); }},
      {"encode_macs", "count", "projection unit multiply-accumulates before DRAM writes", M::Sum,
       integer([](const LayerResult& l) { return l.encode_macs; })},
      {"decode_macs", "count", "projection unit multiply-accumulates after DRAM reads", M::Sum,
       integer([](const LayerResult& l) { return l.decode_macs; })},
      {"quant_values", "count", "values quantized plus values dequantized", M::Sum,
       integer([](const LayerResult& l) { return l.quant_values; })},
      {"sram_read_bytes", "bytes", "bytes read from the on-chip buffer", M::Sum,
       integer([](const LayerResult& l) { return l.sram.read_bytes; })},
      {"sram_write_bytes", "bytes", "bytes written to the on-chip buffer", M::Sum,
       integer([](const LayerResult& l) { return l.sram.write_bytes; })},
      {"energy_pj", "pJ", "energy of the layer, every component", M::Total, energy_of("")},
      {"dram_energy_pj", "pJ", "DRAM energy (activate, bursts, refresh, standby)", M::Total,
       energy_of("dram")},
      {"sram_energy_pj", "pJ", "on-chip buffer energy", M::Total, energy_of("sram")},
      {"pe_energy_pj", "pJ", "PE array energy (MACs, vector operations)", M::Total, energy_of("pe")},
      {"projection_energy_pj", "pJ", "projection unit energy (encoder and decoder MACs)", M::Total,
       energy_of("projection")},
      {"quantization_energy_pj", "pJ", "quantization unit energy", M::Total, energy_of("quantization")},
      {"output_in_dram", "flag", "1 when the output was spilled to DRAM, 0 when it stayed on chip", M::None,
       integer([](const LayerResult& l) { return l.output_in_dram ? 1 : 0; })},
      {"output_channels", "channels", "C: channels of the output", M::None,
       integer([](const LayerResult& l) { return l.output_channels; })},
      {"stored_channels", "channels", "k when the output is projected, C otherwise", M::None,
       integer([](const LayerResult& l) { return l.output_stored_channels; })},
      {"stored_bits", "bits", "bits per stored value", M::None,
       integer([](const LayerResult& l) { return l.output_stored_bits; })},
      {"tiles", "count", "tiles the controller split the layer into", M::None,
       integer([](const LayerResult& l) { return l.tiles; })},
      {"loop_order", "", "`channels_outer` or `rows_outer`: the tiling loop order", M::None,
       text([](const LayerResult& l) { return to_string(l.tiling.order); })},
      {"tile_rows", "rows", "output rows per tile", M::None,
       integer([](const LayerResult& l) { return l.tiling.rows; })},
      {"tile_channels", "channels", "output channels per tile", M::None,
       integer([](const LayerResult& l) { return l.tiling.channels; })},
  };
}

}  // namespace

const std::vector<LayerColumn>& layer_columns() {
  static const std::vector<LayerColumn> columns = make_columns();
  return columns;
}

std::string layer_columns_markdown() {
  std::string out = "| column | unit | meaning |\n|---|---|---|\n";
  for (const auto& c : layer_columns())
    out += fmt::format("| `{}` | {} | {} |\n", c.name, c.unit, c.description);
  return out;
}

}  // namespace capsim::sim
