#include "capsim/sim/action_counts.hpp"

namespace capsim::sim {

void ActionCounts::add(const std::string& component, const std::string& action, double count) {
  counts_[component][action] += count;
}

double ActionCounts::get(const std::string& component, const std::string& action) const {
  auto c = counts_.find(component);
  if (c == counts_.end()) return 0.0;
  auto a = c->second.find(action);
  return a == c->second.end() ? 0.0 : a->second;
}

ActionCounts& ActionCounts::operator+=(const ActionCounts& other) {
  for (const auto& [component, actions] : other.counts_)
    for (const auto& [action, count] : actions) counts_[component][action] += count;
  return *this;
}

}  // namespace capsim::sim
