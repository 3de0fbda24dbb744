#include "capsim/workloads/hardware_cost.hpp"

#include <stdexcept>

namespace capsim::workloads {

HardwarePlanCost::HardwarePlanCost(const HardwareTarget& target, trace::Trace deployment,
                                   std::vector<std::string> point_names,
                                   std::vector<std::int64_t> point_channels, int coefficient_bits,
                                   int baseline_bits)
    : model_(sim::load_arch_spec(target.arch, target.overrides)),
      objective_(target.objective),
      deployment_(std::move(deployment)),
      names_(std::move(point_names)),
      channels_(std::move(point_channels)),
      bits_(coefficient_bits),
      baseline_bits_(baseline_bits) {
  if (names_.size() != channels_.size())
    throw std::logic_error("HardwarePlanCost: names and channels differ in size");
}

trace::Plan HardwarePlanCost::plan_of(const std::vector<std::int64_t>& k, const std::string& name,
                                      const std::vector<int>& bits) const {
  if (k.size() != names_.size() || (!bits.empty() && bits.size() != k.size()))
    throw std::logic_error("HardwarePlanCost: plan of the wrong size");
  trace::Plan plan;
  plan.kind = trace::Plan::Kind::PerLayer;
  plan.name = name;
  plan.bits = bits_;
  for (std::size_t p = 0; p < k.size(); ++p) {
    const bool projected = k[p] < channels_[p];
    const int b = bits.empty() ? (projected ? bits_ : baseline_bits_) : bits[p];
    if (projected || b < baseline_bits_)
      plan.layers[names_[p]] = trace::PlanEntry{channels_[p], k[p], b, {}, {}};
  }
  return plan;
}

sim::CostEstimate HardwarePlanCost::estimate(const std::vector<std::int64_t>& k,
                                             const std::vector<int>& bits) const {
  trace::Trace t = deployment_;
  trace::apply_plan(t, plan_of(k, "candidate", bits));
  return model_.estimate(t);
}

double HardwarePlanCost::operator()(const std::vector<std::int64_t>& k, const std::vector<int>& bits) const {
  return sim::objective_value(estimate(k, bits), objective_);
}

}  // namespace capsim::workloads
