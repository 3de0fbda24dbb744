#pragma once
// The controller's plan for one layer: how the output is tiled to fit the buffer (rows x output
// channels, and which loop runs outside), and the resulting sequence of tile jobs, each a set of
// DMA loads, a piece of PE work and DMA stores. The tiling is chosen by a small exhaustive
// search (in the spirit of Timeloop's mapper, over a much smaller space) that minimises the
// layer's unoverlapped time: DRAM traffic at peak bandwidth plus PE cycles, then the number of tiles.
#include <cstdint>
#include <string>
#include <vector>

#include "capsim/rtl/pe_array/pe_array.hpp"
#include "capsim/rtl/protocol/tile_job.hpp"
#include "capsim/sim/arch_spec.hpp"
#include "capsim/sim/placement.hpp"
#include "capsim/trace/trace.hpp"

namespace capsim::sim {

using protocol::kTrafficClasses;
using protocol::TileJob;
using protocol::TrafficClass;
using protocol::Transfer;

enum class LoopOrder {
  ChannelsOuter,  // output-channel tiles outside: each weight tile is loaded once
  RowsOuter,      // row tiles outside: each input row tile is loaded once
};
std::string to_string(LoopOrder order);

struct Tiling {
  LoopOrder order = LoopOrder::ChannelsOuter;
  std::int64_t rows = 1;       // output rows per tile
  std::int64_t channels = 1;   // output channels per tile
  std::int64_t row_tiles = 1;  // per image
  std::int64_t channel_tiles = 1;
  std::int64_t buffer_bytes = 0;  // on-chip bytes the tiles need (double-buffered where enabled)
  std::int64_t dram_bytes = 0;    // predicted DRAM traffic of the layer (closed form)
};

class LayerScheduler {
 public:
  LayerScheduler(const trace::Trace& trace, const Placement& placement, const ArchSpec& arch);

  // Throws InputError naming buffer.capacity_kib when not even the smallest tile fits.
  Tiling choose_tiling(int layer) const;
  // The tile jobs of the layer in execution order.
  std::vector<TileJob> build_tiles(int layer, const Tiling& tiling) const;

  // Bytes the tiling needs on chip, and its predicted DRAM traffic (both closed forms).
  std::int64_t buffer_bytes(int layer, std::int64_t rows, std::int64_t channels,
                            LoopOrder order = LoopOrder::RowsOuter) const;
  // The on-chip bytes of the layer's smallest tile (one row, one channel, the cheaper loop order).
  std::int64_t smallest_buffer_bytes(int layer) const;
  std::int64_t predicted_dram_bytes(int layer, std::int64_t rows, std::int64_t channels,
                                    LoopOrder order) const;
  std::int64_t available_bytes(int layer) const;

 private:
  struct Geometry;
  Geometry geometry(int layer) const;
  std::int64_t buffer_bytes(const Geometry& g, std::int64_t rows, std::int64_t channels,
                            LoopOrder order) const;
  // rows_loaded[j]: input rows of input j loaded over all row tiles (all images) at this tile height.
  std::int64_t predicted_dram_bytes(const Geometry& g, std::int64_t rows, std::int64_t channels,
                                    LoopOrder order, const std::vector<std::int64_t>& rows_loaded) const;
  std::vector<std::int64_t> rows_loaded(const Geometry& g, std::int64_t rows) const;
  // PE cycles of all the layer's tiles at this tile size (closed form of the PE model).
  std::int64_t predicted_compute_cycles(const Geometry& g, std::int64_t rows, std::int64_t channels,
                                        const pe::OperandBits& bits) const;
  pe::PeWork compute_tile(const Geometry& g, std::int64_t r0, std::int64_t r1, std::int64_t m0,
                          std::int64_t m1, const pe::OperandBits& bits) const;

  const trace::Trace& trace_;
  const Placement& placement_;
  const ArchSpec& arch_;
  pe::PeArrayModel pe_;
};

// The scheduler's answers to placement's questions (placement.hpp), for this trace and arch
// (both must outlive the result).
TileNeeds tile_needs(const trace::Trace& trace, const ArchSpec& arch);
// Where every tensor lives, tile sizes checked by the scheduler: the placement the controller runs.
Placement place_tensors(const trace::Trace& trace, const ArchSpec& arch);

}  // namespace capsim::sim
