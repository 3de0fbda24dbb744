#pragma once
// SystemC face of the DRAM model: a module owning a DramTiming. Client threads (load and store
// DMA) call transfer(), which books the bursts at the current simulation time and waits until the
// last data beat. All timing lives in DramTiming; this wrapper only converts times.
#include <cstdint>
#include <systemc>

#include "capsim/rtl/dram/dram_spec.hpp"
#include "capsim/rtl/dram/dram_timing.hpp"
#include "capsim/rtl/protocol/sim_time.hpp"

namespace capsim::dram {

SC_MODULE(DramModule) {
 public:
  DramModule(sc_core::sc_module_name name, const DramSpec& spec);

  // Blocking: call from an SC_THREAD. Returns when the transfer's last data beat has completed.
  void transfer(bool is_write, std::uint64_t addr, std::uint64_t bytes);

  DramTiming& timing() { return timing_; }
  const DramTiming& timing() const { return timing_; }

 private:
  DramTiming timing_;
};

using protocol::now_ps;  // simulation time in picoseconds

}  // namespace capsim::dram
