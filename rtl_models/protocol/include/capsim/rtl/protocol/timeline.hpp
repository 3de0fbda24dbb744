#pragma once
// Timing of streaming units shared by several clients (the projection and quantization units
// serve the load and the store DMA): a request occupies the unit from max(arrival, free) for as
// many cycles as its work takes at the unit's rate. Plain C++; times in picoseconds.
#include <algorithm>
#include <cstdint>

namespace capsim::protocol {

// Accelerator clock: cycles to picoseconds (rounded up, so a partial cycle costs a whole one).
class Clock {
 public:
  explicit Clock(double mhz) : period_ps_(1e6 / mhz) {}
  std::uint64_t ps(std::int64_t cycles) const {
    const double ps = static_cast<double>(cycles) * period_ps_;
    const auto whole = static_cast<std::uint64_t>(ps);
    return static_cast<double>(whole) < ps ? whole + 1 : whole;
  }
  double cycles(std::uint64_t ps) const { return static_cast<double>(ps) / period_ps_; }
  double period_ps() const { return period_ps_; }

 private:
  double period_ps_;
};

class Timeline {
 public:
  // Returns when a request arriving at `start_ps` that needs `duration_ps` finishes.
  std::uint64_t reserve(std::uint64_t start_ps, std::uint64_t duration_ps) {
    const std::uint64_t begin = std::max(start_ps, free_ps_);
    free_ps_ = begin + duration_ps;
    busy_ps_ += duration_ps;
    return free_ps_;
  }
  std::uint64_t busy_ps() const { return busy_ps_; }

 private:
  std::uint64_t free_ps_ = 0;
  std::uint64_t busy_ps_ = 0;
};

// A unit processing `work_per_cycle` items (MACs, values) per cycle, in arrival order.
class StreamingTimeline {
 public:
  StreamingTimeline(std::int64_t work_per_cycle, Clock clock)
      : work_per_cycle_(work_per_cycle), clock_(clock) {}
  std::int64_t cycles_for(std::int64_t work) const { return (work + work_per_cycle_ - 1) / work_per_cycle_; }
  std::uint64_t reserve(std::uint64_t start_ps, std::int64_t work) {
    return timeline_.reserve(start_ps, clock_.ps(cycles_for(work)));
  }
  std::uint64_t busy_ps() const { return timeline_.busy_ps(); }

 private:
  std::int64_t work_per_cycle_;
  Clock clock_;
  Timeline timeline_;
};

}  // namespace capsim::protocol
