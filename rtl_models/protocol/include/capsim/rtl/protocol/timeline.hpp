#pragma once
// A streaming unit shared by several clients (the projection unit serves the load and the store
// DMA): a request occupies it from max(arrival, free) for its duration. Times in picoseconds.
#include <algorithm>
#include <cstdint>

namespace capsim::protocol {

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

}  // namespace capsim::protocol
