#include "capsim/workloads/hardware_cost.hpp"

#include <stdexcept>

namespace capsim::workloads {

HardwarePlanCost::HardwarePlanCost(const HardwareTarget& target, trace::Trace deployment,
                                   std::vector<std::string> point_names, std::vector<std::int64_t> point_channels,
                                   int coefficient_bits)
    : model_(sim::load_arch_spec(target.arch, target.overrides)),
      objective_(target.objective),
      deployment_(std::move(deployment)),
      names_(std::move(point_names)),
      channels_(std::move(point_channels)),
      bits_(coefficient_bits) {
  if (names_.size() != channels_.size()) throw std::logic_error("HardwarePlanCost: names and channels differ in size");
}

trace::Plan HardwarePlanCost::plan_of(const std::vector<std::int64_t>& k, const std::string& name) const {
  if (k.size() != names_.size()) throw std::logic_error("HardwarePlanCost: plan of the wrong size");
  trace::Plan plan;
  plan.kind = trace::Plan::Kind::PerLayer;
  plan.name = name;
  plan.bits = bits_;
  for (std::size_t p = 0; p < k.size(); ++p)
    if (k[p] < channels_[p]) plan.layers[names_[p]] = trace::PlanEntry{channels_[p], k[p], bits_, {}, {}};
  return plan;
}

sim::CostEstimate HardwarePlanCost::estimate(const std::vector<std::int64_t>& k) const {
  trace::Trace t = deployment_;
  trace::apply_plan(t, plan_of(k, "candidate"));
  return model_.estimate(t);
}

double HardwarePlanCost::operator()(const std::vector<std::int64_t>& k) const {
  return sim::objective_value(estimate(k), objective_);
}

}  // namespace capsim::workloads
