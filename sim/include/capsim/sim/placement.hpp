#pragma once
// Where every tensor lives: the controller's spill decisions (which activations go to DRAM and
// which stay on chip), how a spilled activation is stored (compressed or not, bytes per row),
// and the DRAM address map of activations, weights and projection matrices.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "capsim/sim/arch_spec.hpp"
#include "capsim/trace/trace.hpp"

namespace capsim::sim {

// Tensor ids: 0 is the network input, i + 1 is the output of layer i.
inline int tensor_of_layer(int layer) { return layer + 1; }

struct TensorPlacement {
  int producer = -1;                              // layer index; -1 for the network input
  trace::Shape shape;                             // per image
  std::vector<int> consumers;                     // layer indices
  bool in_dram = true;                            // false: kept on chip until its last consumer
  std::optional<trace::Compression> compression;  // how it is stored in DRAM (spilled only)
  std::int64_t dram_row_bytes = 0;      // one spatial row of one image, all channels or coefficients
  std::int64_t dram_image_bytes = 0;    // one image
  std::int64_t onchip_image_bytes = 0;  // one image at the activation precision
  std::uint64_t address = 0;
  std::int64_t side_bytes = 0;  // encoder (or decoder) matrix, means and quantization parameters
  std::uint64_t encoder_address = 0;
  std::uint64_t decoder_address = 0;
  // Per consumer (same order as `consumers`): it reads the coefficients with the decoder folded
  // into its weights (projection.fold_decoders and the trace's folded list).
  std::vector<bool> folded;
  // Why a compression record of the trace is not applied ("" when it is or there is none).
  std::string dropped;

  bool projected() const { return in_dram && compression && compression->projected(); }
  bool folded_into(int layer) const;
  // Some consumer decodes the stored coefficients back to C channels (so the decoder is fetched).
  bool needs_decoder() const;
  // Decoder side data (0 when every consumer folds it).
  std::int64_t decoder_bytes() const { return needs_decoder() ? side_bytes : 0; }
  // Values per pixel as stored in DRAM (k coefficients, or C channels).
  std::int64_t stored_values_per_pixel() const;
  int stored_bits(int activation_bits) const;
};

// What a layer computes once decoders are folded: a consumer that folds the decoder of its
// projected input reduces over k coefficient channels instead of C, with weights W' = W D
// (Cout x k x kh x kw) and a bias per output channel and distinct border window (the channel
// mean seen through zero padding is a position-dependent bias).
struct LayerWork {
  bool folded_input = false;
  std::int64_t input_channels = 0;  // channels the reduction runs over (C, or k when folded)
  std::int64_t weights = 0;
  std::int64_t biases = 0;
  std::int64_t weight_bytes = 0;
};

struct Placement {
  std::vector<TensorPlacement> tensors;         // by tensor id
  std::vector<LayerWork> layers;                // by layer
  std::vector<std::uint64_t> weight_addresses;  // by layer
  std::vector<std::int64_t> resident_bytes;     // by layer: on-chip bytes held by resident activations
  std::int64_t batch = 1;
};

// What placement asks of the tiler: the on-chip bytes of a layer's smallest tiles under a
// candidate placement. LayerScheduler answers (layer_schedule.hpp: tile_needs()); a parameter, so
// that placement does not include the tiler, which includes placement.
struct TileNeeds {
  // Every layer's tile of one output row and one output channel, rows outer.
  std::function<std::vector<std::int64_t>(const Placement&)> one_row_tiles;
  // Whether the layer's smallest tile (the cheaper loop order) fits what the buffer leaves it.
  std::function<bool(const Placement&, int layer)> smallest_fits;
};

// layer_schedule.hpp has place_tensors(trace, arch), which passes the scheduler's answers.
Placement place_tensors(const trace::Trace& trace, const ArchSpec& arch, const TileNeeds& needs);

}  // namespace capsim::sim
