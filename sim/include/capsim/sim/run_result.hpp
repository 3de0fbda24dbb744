#pragma once
// What one simulation produced: per-layer counts and timing, kept apart from energy (which is
// costed from the action counts with an energy table, see energy.hpp).
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "capsim/common/stats.hpp"
#include "capsim/rtl/buffer/buffer.hpp"
#include "capsim/sim/action_counts.hpp"
#include "capsim/sim/layer_schedule.hpp"

namespace capsim::sim {

struct LayerResult {
  std::string name;
  std::string op;
  Tiling tiling;
  std::int64_t tiles = 0;
  std::uint64_t start_ps = 0;
  std::uint64_t end_ps = 0;
  std::int64_t cycles = 0;                                      // accelerator cycles, start to last store
  std::array<std::int64_t, kTrafficClasses> dram_read_bytes{};  // by traffic class
  std::array<std::int64_t, kTrafficClasses> dram_write_bytes{};
  std::int64_t macs = 0;
  std::int64_t vector_ops = 0;
  std::int64_t pe_busy_cycles = 0;
  double pe_utilization = 0.0;  // MACs / (PE count x busy cycles)
  std::int64_t encode_macs = 0;
  std::int64_t decode_macs = 0;
  std::int64_t quant_values = 0;  // quantized plus dequantized values
  buffer::BufferCounts sram;
  bool output_in_dram = true;
  std::int64_t output_channels = 0;
  std::int64_t output_stored_channels = 0;  // k when projected, C otherwise
  int output_stored_bits = 0;
  std::string output_dropped;  // why the plan's compression was not applied ("" if it was)
  bool input_folded = false;   // reads its input's coefficients, the decoder folded in
  ActionCounts actions;        // every count energy needs
  StatList dram_stats;         // DRAM model statistics of this layer

  std::int64_t dram_read_total() const;
  std::int64_t dram_write_total() const;
};

struct RunResult {
  std::vector<LayerResult> layers;
  double clock_mhz = 0.0;
  std::uint64_t total_ps = 0;
  std::int64_t total_cycles = 0;
  StatList dram_stats;  // whole run
  double dram_peak_bytes_per_s = 0.0;

  ActionCounts total_actions() const;
};

}  // namespace capsim::sim
