#include "capsim/rtl/quant/quant_unit.hpp"

namespace capsim::quant {

QuantUnit::QuantUnit(sc_core::sc_module_name name, const QuantSpec& spec, protocol::Clock clock)
    : StreamingUnit(name, spec.values_per_cycle, clock) {}

}  // namespace capsim::quant
