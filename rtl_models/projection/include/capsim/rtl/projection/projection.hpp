#pragma once
// Projection unit: the encoder multiplies each pixel's C channel values by the k x C basis before
// a write to DRAM; the decoder multiplies the k stored coefficients by the C x k basis after a
// read. It sits in the DMA path and streams at `macs_per_cycle`. Its matrices (and the channel
// means) live in DRAM and are fetched into a local matrix buffer per layer; a matrix larger than
// that buffer is fetched again for every tile that needs it.
#include <cstdint>

#include "capsim/common/yaml_view.hpp"

namespace capsim::projection {

struct ProjectionSpec {
  std::int64_t macs_per_cycle = 64;
  std::int64_t matrix_buffer_bytes = 64 * 1024;
};
ProjectionSpec parse_projection_spec(const YamlView& view);

struct ProjectionWork {
  std::int64_t encode_macs = 0;
  std::int64_t decode_macs = 0;
  std::int64_t cycles = 0;

  ProjectionWork& operator+=(const ProjectionWork& o);
};

// Values fetched from DRAM for one projected tensor on one side (encoder or decoder): the k x C
// matrix, the C channel means, and a scale and zero point per coefficient.
std::int64_t side_values(std::int64_t channels, std::int64_t k);

class ProjectionModel {
 public:
  explicit ProjectionModel(const ProjectionSpec& spec) : spec_(spec) {}
  const ProjectionSpec& spec() const { return spec_; }

  // Encoding `pixels` pixels of C channels into k coefficients.
  ProjectionWork encode(std::int64_t pixels, std::int64_t channels, std::int64_t k) const;
  // Reconstructing `channels_needed` of the C channels from k coefficients.
  ProjectionWork decode(std::int64_t pixels, std::int64_t channels_needed, std::int64_t k) const;
  bool matrix_fits(std::int64_t matrix_bytes) const { return matrix_bytes <= spec_.matrix_buffer_bytes; }

 private:
  std::int64_t cycles_for(std::int64_t macs) const;
  ProjectionSpec spec_;
};

}  // namespace capsim::projection
