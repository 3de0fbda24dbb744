#include "capsim/rtl/quant/quant.hpp"

namespace capsim::quant {

const ParamSet<QuantSpec>& quant_params() {
  static const ParamSet<QuantSpec> params = ParamSet<QuantSpec>().integer(
      "values_per_cycle", &QuantSpec::values_per_cycle, 1, 1 << 20,
      {"values/cycle", "(de)quantization and bit (un)packing throughput",
       "modelling choice: matches the default DMA bus (32 bytes of 8-bit values per cycle)"});
  return params;
}

}  // namespace capsim::quant
