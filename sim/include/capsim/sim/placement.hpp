#pragma once
// Where every tensor lives: the controller's spill decisions (which activations go to DRAM and
// which stay on chip), how a spilled activation is stored (compressed or not, bytes per row),
// and the DRAM address map of activations, weights and projection matrices.
#include <cstdint>
#include <optional>
#include <vector>

#include "capsim/sim/arch_spec.hpp"
#include "capsim/trace/trace.hpp"

namespace capsim::sim {

// Tensor ids: 0 is the network input, i + 1 is the output of layer i.
inline int tensor_of_layer(int layer) { return layer + 1; }

struct TensorPlacement {
  int producer = -1;                  // layer index; -1 for the network input
  trace::Shape shape;                 // per image
  std::vector<int> consumers;         // layer indices
  bool in_dram = true;                // false: kept on chip until its last consumer
  std::optional<trace::Compression> compression;   // how it is stored in DRAM (spilled only)
  std::int64_t dram_row_bytes = 0;    // one spatial row of one image, all channels or coefficients
  std::int64_t dram_image_bytes = 0;  // one image
  std::int64_t onchip_image_bytes = 0;   // one image at the activation precision
  std::uint64_t address = 0;
  std::int64_t side_bytes = 0;        // encoder (or decoder) matrix, means and quantization parameters
  std::uint64_t encoder_address = 0;
  std::uint64_t decoder_address = 0;

  bool projected() const { return in_dram && compression && compression->projected(); }
  // Values per pixel as stored in DRAM (k coefficients, or C channels).
  std::int64_t stored_values_per_pixel() const;
  int stored_bits(int activation_bits) const;
};

struct Placement {
  std::vector<TensorPlacement> tensors;          // by tensor id
  std::vector<std::uint64_t> weight_addresses;   // by layer
  std::vector<std::int64_t> resident_bytes;      // by layer: on-chip bytes held by resident activations
  std::int64_t batch = 1;
};

Placement place_tensors(const trace::Trace& trace, const ArchSpec& arch);

}  // namespace capsim::sim
