#pragma once
// The fast hardware cost of a trace on an architecture, without SystemC: the same placement,
// tiling, tile jobs, DRAM, DMA, quantization and projection models as `capsim simulate`, with the
// accelerator's tile pipeline (load DMA -> PE array -> store DMA, `double_buffering` slots) replayed
// in plain C++. Each layer is replayed from a fresh DRAM (closed rows, refresh phase 0), so a
// layer's cost depends only on the layer and how its inputs and output are stored, and is cached:
// the hardware-aware greedy (`capsim plan --objective energy|dram_bytes`) asks for thousands of
// plans that differ in one tensor. The difference to a full simulation (which keeps DRAM state
// across layers) is measured in docs/compression.md and checked by tests (<= 2%).
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "capsim/rtl/dram/dram_timing.hpp"
#include "capsim/rtl/protocol/tile_job.hpp"
#include "capsim/sim/action_counts.hpp"
#include "capsim/sim/arch_spec.hpp"
#include "capsim/sim/energy.hpp"
#include "capsim/trace/trace.hpp"

namespace capsim::sim {

struct LayerCost {
  std::int64_t dram_bytes = 0;
  std::int64_t activation_bytes = 0;  // DRAM bytes of the activation traffic class
  std::int64_t matrix_bytes = 0;      // DRAM bytes of projection matrices
  std::uint64_t elapsed_ps = 0;
  double energy_pj = 0.0;
  ActionCounts actions;
};

struct CostEstimate {
  std::int64_t dram_bytes = 0;
  std::int64_t activation_bytes = 0;
  std::int64_t matrix_bytes = 0;
  std::int64_t cycles = 0;
  double energy_pj = 0.0;
  std::map<std::string, double> energy_pj_by_component;
  std::vector<LayerCost> layers;
};

// Objectives a plan search can minimise.
enum class CostObjective { Bits, DramBytes, Energy };
CostObjective parse_cost_objective(const std::string& name);  // InputError naming --objective
std::string to_string(CostObjective objective);
double objective_value(const CostEstimate& estimate, CostObjective objective);

// Replays one layer's tile jobs through the pipeline, starting at `start_ps`, on the given DRAM;
// returns the time the last store completes. Plain C++ twin of the SystemC top (sim/sc).
std::uint64_t replay_tiles(const std::vector<protocol::TileJob>& jobs, const ArchSpec& arch,
                           dram::DramTiming& dram, std::uint64_t start_ps);

class CostModel {
 public:
  explicit CostModel(ArchSpec arch);
  // Cost of the trace with its compression records as they are (apply a plan first).
  CostEstimate estimate(const trace::Trace& trace) const;
  const ArchSpec& arch() const { return arch_; }
  std::size_t cached_layers() const { return cache_.size(); }

 private:
  ArchSpec arch_;
  EnergyTable energy_;
  mutable std::unordered_map<std::string, LayerCost> cache_;
};

}  // namespace capsim::sim
