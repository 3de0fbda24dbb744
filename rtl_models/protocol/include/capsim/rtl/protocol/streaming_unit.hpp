#pragma once
// SC_MODULE face of a StreamingTimeline: a shared unit the DMA engines reserve for the work a
// transfer carries. No process of its own: time is reserved per transfer at the caller's time.
#include <systemc>

#include "capsim/rtl/protocol/sim_time.hpp"
#include "capsim/rtl/protocol/timeline.hpp"

namespace capsim::protocol {

class StreamingUnit : public sc_core::sc_module {
 public:
  StreamingUnit(sc_core::sc_module_name name, std::int64_t work_per_cycle, Clock clock);

  // Finish time (ps) of `work` items arriving now.
  std::uint64_t reserve(std::int64_t work);
  std::uint64_t busy_ps() const { return timeline_.busy_ps(); }
  // The plain timeline, for models that reserve at a time they are given (the DMA's).
  StreamingTimeline& timeline() { return timeline_; }

 private:
  StreamingTimeline timeline_;
};

}  // namespace capsim::protocol
