#include "capsim/rtl/quant/quant.hpp"

namespace capsim::quant {

QuantSpec parse_quant_spec(const YamlView& view) {
  view.allow_keys({"values_per_cycle"});
  QuantSpec spec;
  spec.values_per_cycle = view.integer_or("values_per_cycle", spec.values_per_cycle, 1, 1 << 20);
  return spec;
}

QuantWork& QuantWork::operator+=(const QuantWork& o) {
  quantized_values += o.quantized_values;
  dequantized_values += o.dequantized_values;
  cycles += o.cycles;
  return *this;
}

std::int64_t QuantModel::cycles_for(std::int64_t values) const {
  return (values + spec_.values_per_cycle - 1) / spec_.values_per_cycle;
}

QuantWork QuantModel::quantize(std::int64_t values) const { return {values, 0, cycles_for(values)}; }
QuantWork QuantModel::dequantize(std::int64_t values) const { return {0, values, cycles_for(values)}; }

}  // namespace capsim::quant
