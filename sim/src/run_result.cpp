#include "capsim/sim/run_result.hpp"

#include <numeric>

namespace capsim::sim {

std::int64_t LayerResult::dram_read_total() const {
  return std::accumulate(dram_read_bytes.begin(), dram_read_bytes.end(), std::int64_t{0});
}

std::int64_t LayerResult::dram_write_total() const {
  return std::accumulate(dram_write_bytes.begin(), dram_write_bytes.end(), std::int64_t{0});
}

ActionCounts RunResult::total_actions() const {
  ActionCounts total;
  for (const auto& l : layers) total += l.actions;
  return total;
}

}  // namespace capsim::sim
