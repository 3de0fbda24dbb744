#pragma once
// DMA engine: moves tiles between DRAM and the on-chip buffer through the quantization and
// projection units. A transfer pays a descriptor set-up, then streams: it finishes when the
// slowest of DRAM, the on-chip bus, the quantization unit and the projection unit is done.
#include <algorithm>
#include <cstdint>

#include "capsim/common/params.hpp"
#include "capsim/rtl/protocol/tile_job.hpp"
#include "capsim/rtl/protocol/timeline.hpp"

namespace capsim::dma {

struct DmaSpec {
  std::int64_t setup_cycles = 16;         // descriptor fetch and address generation per transfer
  std::int64_t bus_bytes_per_cycle = 32;  // on-chip interconnect between DMA and buffer
};
// Every key of the `dma:` section (docs/architecture.md, generated from these).
const ParamSet<DmaSpec>& dma_params();

class DmaModel {
 public:
  DmaModel(const DmaSpec& spec, protocol::Clock clock) : spec_(spec), clock_(clock) {}
  const DmaSpec& spec() const { return spec_; }
  // Cycles the on-chip side needs for `bytes` (set-up included).
  std::int64_t bus_cycles(std::int64_t bytes) const {
    return spec_.setup_cycles + (bytes + spec_.bus_bytes_per_cycle - 1) / spec_.bus_bytes_per_cycle;
  }

  // When transfer `x`, issued at `start_ps`, finishes (ps): it streams through the on-chip bus
  // (set-up plus the larger of its DRAM and buffer byte counts), the DRAM (when it has DRAM bytes),
  // the quantization and the projection unit (when it has work for them) at once and ends with the
  // slowest of them. Books its time on the shared units. `dram` is the DRAM module (or a test's
  // stand-in) with book(is_write, addr, bytes, start_ps) -> finish_ps, both in the caller's time.
  template <class Dram>
  std::uint64_t finish_ps(const protocol::Transfer& x, bool write, std::uint64_t start_ps, Dram& dram,
                          protocol::StreamingTimeline& quant, protocol::StreamingTimeline& projection) const {
    std::uint64_t finish = start_ps + clock_.ps(bus_cycles(std::max(x.bytes, x.onchip_bytes)));
    if (x.bytes > 0)
      finish = std::max(finish, dram.book(write, x.address, static_cast<std::uint64_t>(x.bytes), start_ps));
    if (x.quant_values > 0) finish = std::max(finish, quant.reserve(start_ps, x.quant_values));
    if (x.projection_macs > 0) finish = std::max(finish, projection.reserve(start_ps, x.projection_macs));
    return finish;
  }

 private:
  DmaSpec spec_;
  protocol::Clock clock_;
};

}  // namespace capsim::dma
