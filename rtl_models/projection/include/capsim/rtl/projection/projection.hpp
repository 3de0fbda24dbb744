#pragma once
// Projection unit (spec and side-data size; timing in projection_unit.hpp): the encoder multiplies
// each pixel's C channel values by the k x C basis before a write to DRAM; the decoder multiplies
// the k stored coefficients by the C x k basis after a read. It sits in the DMA path and streams at
// `macs_per_cycle`. Its matrices (and the channel means) live in DRAM and are fetched into a local matrix
// buffer per layer; a matrix larger than that buffer is fetched again for every tile that needs it.
#include <cstdint>

#include "capsim/common/params.hpp"

namespace capsim::projection {

struct ProjectionSpec {
  std::int64_t macs_per_cycle = 64;
  std::int64_t matrix_buffer_bytes = std::int64_t{64} * 1024;
  // Fold the decoder into consumers that allow it (dense conv, linear): they read the k
  // coefficients with weights W' = W D, and no decoder is fetched or run for them.
  bool fold_decoders = false;
};
// Every key of the `projection:` section (docs/architecture.md, generated from these).
const ParamSet<ProjectionSpec>& projection_params();

// Values fetched from DRAM for one projected tensor on one side (encoder or decoder): the k x C
// matrix, the C channel means, and a quantization scale per coefficient (symmetric: no zero point).
std::int64_t side_values(std::int64_t channels, std::int64_t k);

}  // namespace capsim::projection
