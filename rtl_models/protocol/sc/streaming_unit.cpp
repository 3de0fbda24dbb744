#include "capsim/rtl/protocol/streaming_unit.hpp"

namespace capsim::protocol {

StreamingUnit::StreamingUnit(sc_core::sc_module_name name, std::int64_t work_per_cycle, Clock clock)
    : sc_module(name), timeline_(work_per_cycle, clock) {}

std::uint64_t StreamingUnit::reserve(std::int64_t work) { return timeline_.reserve(now_ps(), work); }

}  // namespace capsim::protocol
