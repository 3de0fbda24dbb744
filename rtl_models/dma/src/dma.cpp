#include "capsim/rtl/dma/dma.hpp"

namespace capsim::dma {

DmaSpec parse_dma_spec(const YamlView& view) {
  view.allow_keys({"setup_cycles", "bus_bytes_per_cycle"});
  DmaSpec spec;
  spec.setup_cycles = view.integer_or("setup_cycles", spec.setup_cycles, 0, 1 << 20);
  spec.bus_bytes_per_cycle = view.integer_or("bus_bytes_per_cycle", spec.bus_bytes_per_cycle, 1, 1 << 20);
  return spec;
}

}  // namespace capsim::dma
