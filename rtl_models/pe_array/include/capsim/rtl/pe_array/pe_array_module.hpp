#pragma once
// SC_MODULE of the PE array: takes tiles whose operands are loaded, computes for the cycles the
// plain model gave the tile, and passes them on to the store DMA.
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include <systemc>

#include "capsim/rtl/protocol/tile_job.hpp"
#include "capsim/rtl/protocol/timeline.hpp"

namespace capsim::pe {

class PeArrayModule : public sc_core::sc_module {
 public:
  sc_core::sc_fifo_in<protocol::TileToken> in;
  sc_core::sc_fifo_out<protocol::TileToken> out;

  PeArrayModule(sc_core::sc_module_name name, protocol::Clock clock) : sc_module(name), clock_(clock) {}

  // The process of one run; returns after forwarding the end token.
  void run() {
    for (;;) {
      protocol::TileToken token = in.read();
      if (!token.end) {
        wait(sc_core::sc_time(static_cast<double>(clock_.ps(token.job->compute.cycles)), sc_core::SC_PS));
        busy_cycles_ += token.job->compute.cycles;
      }
      out.write(token);
      if (token.end) return;
    }
  }
  std::int64_t busy_cycles() const { return busy_cycles_; }

 private:
  protocol::Clock clock_;
  std::int64_t busy_cycles_ = 0;
};

}  // namespace capsim::pe
