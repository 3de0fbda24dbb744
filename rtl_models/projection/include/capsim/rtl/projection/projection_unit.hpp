#pragma once
// SC_MODULE wrapper of the projection unit: a shared streaming resource that the DMA engines
// reserve for encode/decode work. No process of its own; time is reserved per transfer.
#include <systemc>

#include "capsim/rtl/projection/projection.hpp"
#include "capsim/rtl/protocol/timeline.hpp"

namespace capsim::projection {

class ProjectionUnit : public sc_core::sc_module {
 public:
  ProjectionUnit(sc_core::sc_module_name name, const ProjectionSpec& spec, protocol::Clock clock)
      : sc_module(name), spec_(spec), clock_(clock) {}

  // Finish time (ps) of `macs` multiply-accumulates arriving now.
  std::uint64_t reserve(std::int64_t macs) {
    const std::int64_t cycles = (macs + spec_.macs_per_cycle - 1) / spec_.macs_per_cycle;
    return timeline_.reserve(now_ps(), clock_.ps(cycles));
  }
  std::uint64_t busy_ps() const { return timeline_.busy_ps(); }

 private:
  static std::uint64_t now_ps() { return sc_core::sc_time_stamp().value(); }
  ProjectionSpec spec_;
  protocol::Clock clock_;
  protocol::Timeline timeline_;
};

}  // namespace capsim::projection
