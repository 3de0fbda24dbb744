#pragma once
// SC_MODULE of the PE array: takes tiles whose operands are loaded, computes for the cycles the
// plain model gave the tile, and passes them on to the store DMA.
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include <systemc>

#include "capsim/rtl/protocol/sim_time.hpp"
#include "capsim/rtl/protocol/tile_job.hpp"
#include "capsim/rtl/protocol/timeline.hpp"

namespace capsim::pe {

class PeArrayModule : public sc_core::sc_module {
 public:
  sc_core::sc_fifo_in<protocol::TileToken> in;
  sc_core::sc_fifo_out<protocol::TileToken> out;

  PeArrayModule(sc_core::sc_module_name name, protocol::Clock clock);

  // The process of one run; returns after forwarding the end token.
  void run();

 private:
  protocol::Clock clock_;
};

}  // namespace capsim::pe
