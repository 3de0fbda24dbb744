#include "capsim/rtl/dma/dma.hpp"

namespace capsim::dma {

const ParamSet<DmaSpec>& dma_params() {
  static const ParamSet<DmaSpec> params =
      ParamSet<DmaSpec>()
          .integer("setup_cycles", &DmaSpec::setup_cycles, 0, 1 << 20,
                   {"cycles", "per transfer (descriptor fetch, address generation)",
                    "modelling choice: a descriptor fetch from on-chip memory plus address set-up"})
          .integer("bus_bytes_per_cycle", &DmaSpec::bus_bytes_per_cycle, 1, 1 << 20,
                   {"bytes/cycle", "on-chip interconnect between DMA and buffer",
                    "modelling choice: a 256-bit on-chip bus, wider than one LPDDR4 x16 channel"});
  return params;
}

}  // namespace capsim::dma
