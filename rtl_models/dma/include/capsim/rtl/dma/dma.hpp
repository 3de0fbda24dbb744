#pragma once
// DMA engine: moves tiles between DRAM and the on-chip buffer through the quantization and
// projection units. A transfer pays a descriptor set-up, then streams: it finishes when the
// slowest of DRAM, the on-chip bus, the quantization unit and the projection unit is done.
#include <cstdint>

#include "capsim/common/yaml_view.hpp"

namespace capsim::dma {

struct DmaSpec {
  std::int64_t setup_cycles = 16;        // descriptor fetch and address generation per transfer
  std::int64_t bus_bytes_per_cycle = 32;  // on-chip interconnect between DMA and buffer
};
DmaSpec parse_dma_spec(const YamlView& view);

class DmaModel {
 public:
  explicit DmaModel(const DmaSpec& spec) : spec_(spec) {}
  const DmaSpec& spec() const { return spec_; }
  // Cycles the on-chip side needs for `bytes` (set-up included).
  std::int64_t bus_cycles(std::int64_t bytes) const {
    return spec_.setup_cycles + (bytes + spec_.bus_bytes_per_cycle - 1) / spec_.bus_bytes_per_cycle;
  }

 private:
  DmaSpec spec_;
};

}  // namespace capsim::dma
