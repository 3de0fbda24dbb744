#pragma once
// The controller: issues each layer's tile jobs into the pipeline (waiting for a free buffer
// slot, which is what double buffering means here), retires finished tiles, and enforces the
// layer-by-layer order: a layer starts when every store of the previous one has completed.
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include <functional>
#include <systemc>
#include <vector>

#include "capsim/rtl/protocol/tile_job.hpp"

namespace capsim::sim {

class Controller : public sc_core::sc_module {
 public:
  sc_core::sc_fifo_out<protocol::TileToken> issue;  // to the load DMA
  sc_core::sc_fifo_in<protocol::TileToken> retire;  // from the store DMA

  // Called at the start and end of each layer (statistics snapshots).
  using LayerHook = std::function<void(int layer, bool start)>;
  // Returns the tile jobs of a layer; they stay alive until the layer has finished.
  using TileSource = std::function<const std::vector<protocol::TileJob>&(int layer)>;

  Controller(sc_core::sc_module_name name, int buffer_slots)
      : sc_module(name), slots_("slots", buffer_slots) {}

  // Process bodies of one run.
  void issue_layers(int layers, const TileSource& tiles, const LayerHook& hook);
  void retire_tiles();

 private:
  sc_core::sc_semaphore slots_;
  sc_core::sc_event layer_done_;
  bool layer_complete_ = false;
};

}  // namespace capsim::sim
