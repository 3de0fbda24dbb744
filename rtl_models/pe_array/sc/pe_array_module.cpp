#include "capsim/rtl/pe_array/pe_array_module.hpp"

namespace capsim::pe {

PeArrayModule::PeArrayModule(sc_core::sc_module_name name, protocol::Clock clock)
    : sc_module(name), clock_(clock) {}

void PeArrayModule::run() {
  for (;;) {
    protocol::TileToken token = in.read();
    if (!token.end) wait(protocol::picoseconds(clock_.ps(token.job->compute.cycles)));
    out.write(token);
    if (token.end) return;
  }
}

}  // namespace capsim::pe
