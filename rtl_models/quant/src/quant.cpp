#include "capsim/rtl/quant/quant.hpp"

namespace capsim::quant {

QuantSpec parse_quant_spec(const YamlView& view) {
  view.allow_keys({"values_per_cycle"});
  QuantSpec spec;
  spec.values_per_cycle = view.integer_or("values_per_cycle", spec.values_per_cycle, 1, 1 << 20);
  return spec;
}

}  // namespace capsim::quant
