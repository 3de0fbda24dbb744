#include "controller.hpp"

namespace capsim::sim {

void Controller::issue_layers(int layers, const TileSource& tiles, const LayerHook& hook) {
  for (int layer = 0; layer < layers; ++layer) {
    const std::vector<protocol::TileJob>& jobs = tiles(layer);
    hook(layer, true);
    layer_complete_ = false;
    for (std::size_t t = 0; t < jobs.size(); ++t) {
      slots_.wait();
      issue.write(protocol::TileToken{&jobs[t], layer, t + 1 == jobs.size(), false});
    }
    if (jobs.empty()) layer_complete_ = true;
    while (!layer_complete_) wait(layer_done_);
    hook(layer, false);
  }
  protocol::TileToken end;
  end.end = true;
  issue.write(end);
}

void Controller::retire_tiles() {
  for (;;) {
    const protocol::TileToken token = retire.read();
    if (token.end) return;
    slots_.post();
    if (token.last_of_layer) {
      layer_complete_ = true;
      layer_done_.notify(sc_core::SC_ZERO_TIME);
    }
  }
}

}  // namespace capsim::sim
