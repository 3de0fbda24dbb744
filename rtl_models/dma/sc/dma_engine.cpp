#include "capsim/rtl/dma/dma_engine.hpp"

namespace capsim::dma {

DmaEngine::DmaEngine(sc_core::sc_module_name name, Direction direction, const DmaSpec& spec,
                     protocol::Clock clock, dram::DramModule& dram, quant::QuantUnit& quant,
                     projection::ProjectionUnit& projection)
    : sc_module(name),
      direction_(direction),
      model_(spec, clock),
      dram_(dram),
      quant_(quant),
      projection_(projection) {}

void DmaEngine::run() {
  for (;;) {
    protocol::TileToken token = in.read();
    if (!token.end) {
      const auto& transfers = direction_ == Direction::Load ? token.job->loads : token.job->stores;
      for (const auto& transfer : transfers) stream(transfer);
    }
    out.write(token);
    if (token.end) return;
  }
}

void DmaEngine::stream(const protocol::Transfer& x) {
  const std::uint64_t start = protocol::now_ps();
  const std::uint64_t finish = model_.finish_ps(x, direction_ == Direction::Store, start, dram_,
                                                quant_.timeline(), projection_.timeline());
  wait(protocol::picoseconds(finish - start));
}

}  // namespace capsim::dma
