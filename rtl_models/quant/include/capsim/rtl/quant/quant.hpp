#pragma once
// Quantization unit: quantizes values to b bits and packs them into a bit stream before a DRAM
// write; unpacks and dequantizes after a read. Streams at `values_per_cycle` in the DMA path.
#include <cstdint>

#include "capsim/common/params.hpp"

namespace capsim::quant {

struct QuantSpec {
  std::int64_t values_per_cycle = 32;
};
// Every key of the `quantization:` section (docs/architecture.md, generated from these).
const ParamSet<QuantSpec>& quant_params();

// Bytes of `values` values packed at `bits` bits each (a partial byte costs a whole byte).
inline std::int64_t packed_bytes(std::int64_t values, int bits) { return (values * bits + 7) / 8; }

}  // namespace capsim::quant
