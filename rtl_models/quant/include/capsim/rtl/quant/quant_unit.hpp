#pragma once
// SC_MODULE wrapper of the quantization unit: a shared streaming resource that the DMA engines
// reserve for (de)quantization and bit (un)packing. Time is reserved per transfer.
#include <systemc>

#include "capsim/rtl/protocol/timeline.hpp"
#include "capsim/rtl/quant/quant.hpp"

namespace capsim::quant {

class QuantUnit : public sc_core::sc_module {
 public:
  QuantUnit(sc_core::sc_module_name name, const QuantSpec& spec, protocol::Clock clock)
      : sc_module(name), spec_(spec), clock_(clock) {}

  // Finish time (ps) of `values` values arriving now.
  std::uint64_t reserve(std::int64_t values) {
    const std::int64_t cycles = (values + spec_.values_per_cycle - 1) / spec_.values_per_cycle;
    return timeline_.reserve(sc_core::sc_time_stamp().value(), clock_.ps(cycles));
  }
  std::uint64_t busy_ps() const { return timeline_.busy_ps(); }

 private:
  QuantSpec spec_;
  protocol::Clock clock_;
  protocol::Timeline timeline_;
};

}  // namespace capsim::quant
