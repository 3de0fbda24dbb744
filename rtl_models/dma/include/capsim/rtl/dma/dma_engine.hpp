#pragma once
// SC_MODULE of one DMA engine (the accelerator has a load engine and a store engine). For each
// tile it executes the transfers in order; each transfer streams through DRAM, the on-chip bus,
// the quantization unit and the projection unit at once and ends when the slowest of them does.
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include <systemc>

#include "capsim/rtl/dma/dma.hpp"
#include "capsim/rtl/dram/dram_module.hpp"
#include "capsim/rtl/projection/projection_unit.hpp"
#include "capsim/rtl/protocol/sim_time.hpp"
#include "capsim/rtl/protocol/tile_job.hpp"
#include "capsim/rtl/quant/quant_unit.hpp"

namespace capsim::dma {

class DmaEngine : public sc_core::sc_module {
 public:
  enum class Direction { Load, Store };

  sc_core::sc_fifo_in<protocol::TileToken> in;
  sc_core::sc_fifo_out<protocol::TileToken> out;

  DmaEngine(sc_core::sc_module_name name, Direction direction, const DmaSpec& spec, protocol::Clock clock,
            dram::DramModule& dram, quant::QuantUnit& quant, projection::ProjectionUnit& projection);

  // The process of one run; returns after forwarding the end token.
  void run();

 private:
  // The plain model books the transfer on the DRAM module and the shared units; the engine waits.
  void stream(const protocol::Transfer& x);

  Direction direction_;
  DmaModel model_;
  dram::DramModule& dram_;
  quant::QuantUnit& quant_;
  projection::ProjectionUnit& projection_;
};

}  // namespace capsim::dma
