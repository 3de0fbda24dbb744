#pragma once
// The quantization unit as an SC_MODULE: (de)quantization and bit (un)packing of values streamed
// at `values_per_cycle`, shared by the load and the store DMA.
#include "capsim/rtl/protocol/streaming_unit.hpp"
#include "capsim/rtl/quant/quant.hpp"

namespace capsim::quant {

class QuantUnit : public protocol::StreamingUnit {
 public:
  QuantUnit(sc_core::sc_module_name name, const QuantSpec& spec, protocol::Clock clock);
};

}  // namespace capsim::quant
