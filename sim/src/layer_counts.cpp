#include "capsim/sim/layer_counts.hpp"

#include "capsim/sim/dram_actions.hpp"

namespace capsim::sim {

void summarize_tiles(const std::vector<protocol::TileJob>& jobs, const buffer::BufferModel& buffer,
                     LayerResult& r) {
  std::int64_t sram_read = 0, sram_write = 0;
  for (const auto& job : jobs) {
    for (const auto& x : job.loads) {
      r.dram_read_bytes[static_cast<int>(x.traffic)] += x.bytes;
      sram_write += x.onchip_bytes;
      r.quant_values += x.quant_values;
      r.decode_macs += x.projection_macs;
    }
    for (const auto& x : job.stores) {
      r.dram_write_bytes[static_cast<int>(x.traffic)] += x.bytes;
      sram_read += x.onchip_bytes;
      r.quant_values += x.quant_values;
      r.encode_macs += x.projection_macs;
    }
    r.macs += job.compute.macs;
    r.vector_ops += job.compute.vector_ops;
    r.pe_busy_cycles += job.compute.cycles;
    sram_read += job.compute.sram_read_bytes;
    sram_write += job.compute.sram_write_bytes;
  }
  r.tiles = static_cast<std::int64_t>(jobs.size());
  r.sram = buffer.traffic(sram_read, sram_write);
  r.actions.add("pe", "mac", static_cast<double>(r.macs));
  r.actions.add("pe", "vector_op", static_cast<double>(r.vector_ops));
  r.actions.add("sram", "read_access", static_cast<double>(r.sram.read_accesses));
  r.actions.add("sram", "write_access", static_cast<double>(r.sram.write_accesses));
  r.actions.add("projection", "mac", static_cast<double>(r.encode_macs + r.decode_macs));
  r.actions.add("quantization", "value", static_cast<double>(r.quant_values));
}

void describe_layer(const trace::Layer& layer, const TensorPlacement& output, const LayerWork& work,
                    const ArchSpec& arch, LayerResult& r) {
  r.output_dropped = output.dropped;
  r.input_folded = work.folded_input;
  r.name = layer.name;
  r.op = std::string(trace::to_string(layer.op));
  r.output_in_dram = output.in_dram;
  r.output_channels = output.shape.c;
  r.output_stored_channels = output.stored_values_per_pixel();
  r.output_stored_bits = output.stored_bits(arch.datatypes.activation_bits);
}

void finish_layer(const dram::DramTiming& dram, const dram::DramCounts& at_start,
                  const protocol::Clock& clock, const pe::PeArraySpec& pe, LayerResult& r) {
  const std::uint64_t elapsed = r.end_ps - r.start_ps;
  r.cycles = static_cast<std::int64_t>(clock.cycles(elapsed) + 0.5);
  const double pe_count = static_cast<double>(pe.rows) * pe.cols;
  r.pe_utilization = r.pe_busy_cycles > 0 ? static_cast<double>(r.macs) / (pe_count * r.pe_busy_cycles) : 0.0;
  add_dram_actions(dram.counts(), at_start, r.actions);
  r.dram_stats = dram_stats_between(dram, at_start, elapsed);
}

}  // namespace capsim::sim
