#pragma once
// The hardware cost of a compression plan at a deployment shape, for the hardware-aware greedy:
// the plan (k per compression point, learned on the cifar variant) is applied by layer name to
// the deployment trace (e.g. the imagenet variant at 3x224x224), k scaled with the channel count
// as `capsim simulate --plan` does, and costed by the simulator's fast cost model (the same
// placement, tiling and block models as a simulation; sim/include/capsim/sim/cost_model.hpp).
// Plain C++: no LibTorch in this header.
#include <cstdint>
#include <string>
#include <vector>

#include "capsim/sim/cost_model.hpp"
#include "capsim/trace/plan.hpp"
#include "capsim/trace/trace.hpp"

namespace capsim::workloads {

struct HardwareTarget {
  std::string arch;                    // architecture file
  std::vector<std::string> overrides;  // --set key=value
  sim::CostObjective objective = sim::CostObjective::Energy;
};

class HardwarePlanCost {
 public:
  // `points`: names and channel counts of the compression points, in KeptDims order.
  HardwarePlanCost(const HardwareTarget& target, trace::Trace deployment,
                   std::vector<std::string> point_names, std::vector<std::int64_t> point_channels,
                   int coefficient_bits, int baseline_bits = 8);
  // The plan as a per-layer capsim plan. `bits`: per point (mixed precision; empty: projected
  // points at coefficient_bits). A point at full dimension is left out (stored at the
  // architecture's activation width) unless `bits` narrows it below `baseline_bits`.
  trace::Plan plan_of(const std::vector<std::int64_t>& k, const std::string& name,
                      const std::vector<int>& bits = {}) const;
  sim::CostEstimate estimate(const std::vector<std::int64_t>& k, const std::vector<int>& bits = {}) const;
  double operator()(const std::vector<std::int64_t>& k, const std::vector<int>& bits = {}) const;
  sim::CostObjective objective() const { return objective_; }

 private:
  sim::CostModel model_;
  sim::CostObjective objective_;
  trace::Trace deployment_;
  std::vector<std::string> names_;
  std::vector<std::int64_t> channels_;
  int bits_;
  int baseline_bits_;
};

}  // namespace capsim::workloads
