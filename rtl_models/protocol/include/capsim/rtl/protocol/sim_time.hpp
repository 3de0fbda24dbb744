#pragma once
// Simulation time in picoseconds, whatever the kernel's time resolution.
#include <cstdint>
#include <systemc>

namespace capsim::protocol {

inline std::uint64_t now_ps() {
  return static_cast<std::uint64_t>(sc_core::sc_time_stamp() / sc_core::sc_time(1, sc_core::SC_PS) + 0.5);
}

inline sc_core::sc_time picoseconds(std::uint64_t ps) {
  return sc_core::sc_time(static_cast<double>(ps), sc_core::SC_PS);
}

}  // namespace capsim::protocol
