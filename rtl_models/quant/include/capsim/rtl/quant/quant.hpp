#pragma once
// Quantization unit: quantizes values to b bits and packs them into a bit stream before a DRAM
// write; unpacks and dequantizes after a read. Streams at `values_per_cycle` in the DMA path.
#include <cstdint>

#include "capsim/common/yaml_view.hpp"

namespace capsim::quant {

struct QuantSpec {
  std::int64_t values_per_cycle = 32;
};
QuantSpec parse_quant_spec(const YamlView& view);

struct QuantWork {
  std::int64_t quantized_values = 0;
  std::int64_t dequantized_values = 0;
  std::int64_t cycles = 0;

  QuantWork& operator+=(const QuantWork& o);
};

class QuantModel {
 public:
  explicit QuantModel(const QuantSpec& spec) : spec_(spec) {}
  QuantWork quantize(std::int64_t values) const;
  QuantWork dequantize(std::int64_t values) const;

 private:
  std::int64_t cycles_for(std::int64_t values) const;
  QuantSpec spec_;
};

// Bytes of `values` values packed at `bits` bits each (a partial byte costs a whole byte).
inline std::int64_t packed_bytes(std::int64_t values, int bits) { return (values * bits + 7) / 8; }

}  // namespace capsim::quant
