#pragma once
// Action counts, kept apart from energy (in the spirit of Accelergy's action counts and energy
// reference tables): a run records how often each component performed each action, and energy
// is the dot product of those counts with an energy table. `capsim recost` re-prices a finished
// run with another table without simulating again.
#include <map>
#include <string>

namespace capsim::sim {

// Components are the energy breakdown categories.
inline constexpr const char* kComponents[] = {"dram", "sram", "pe", "projection", "quantization"};

class ActionCounts {
 public:
  using Table = std::map<std::string, std::map<std::string, double>>;  // component -> action -> count

  void add(const std::string& component, const std::string& action, double count);
  double get(const std::string& component, const std::string& action) const;
  ActionCounts& operator+=(const ActionCounts& other);
  const Table& table() const { return counts_; }

 private:
  Table counts_;
};

}  // namespace capsim::sim
