#pragma once
// SystemC face of the DRAM model: a module owning a DramTiming whose clock starts at the run's
// epoch. Clients either call transfer(), which books the bursts at the current simulation time and
// waits until the last data beat, or book() a transfer that overlaps other work (the DMA streams
// DRAM, bus and units at once) and wait themselves. All timing lives in DramTiming; this wrapper
// only converts times.
#include <cstdint>
#include <systemc>

#include "capsim/rtl/dram/dram_spec.hpp"
#include "capsim/rtl/dram/dram_timing.hpp"
#include "capsim/rtl/protocol/sim_time.hpp"

namespace capsim::dram {

SC_MODULE(DramModule) {
 public:
  DramModule(sc_core::sc_module_name name, const DramSpec& spec);

  // A fresh DRAM (closed rows, refresh phase 0) whose clock starts at simulation time `epoch_ps`.
  void begin_run(std::uint64_t epoch_ps);

  // Non-blocking: books the transfer arriving at simulation time `start_ps` (>= the epoch) and
  // returns the simulation time of its last data beat.
  std::uint64_t book(bool is_write, std::uint64_t addr, std::uint64_t bytes, std::uint64_t start_ps);

  // Blocking: call from an SC_THREAD. Returns when the transfer's last data beat has completed.
  void transfer(bool is_write, std::uint64_t addr, std::uint64_t bytes);

  DramTiming& timing() { return timing_; }
  const DramTiming& timing() const { return timing_; }

 private:
  DramTiming timing_;
  std::uint64_t epoch_ps_ = 0;
};

using protocol::now_ps;  // simulation time in picoseconds

}  // namespace capsim::dram
