#include "capsim/rtl/projection/projection.hpp"

namespace capsim::projection {

const ParamSet<ProjectionSpec>& projection_params() {
  static const ParamSet<ProjectionSpec> params =
      ParamSet<ProjectionSpec>()
          .integer("macs_per_cycle", &ProjectionSpec::macs_per_cycle, 1, 1 << 20,
                   {"MACs/cycle", "encoder/decoder multipliers",
                    "modelling choice: a quarter of a 16x16 PE array's multipliers"})
          .integer("matrix_buffer_kib", &ProjectionSpec::matrix_buffer_bytes, 0, 1 << 20,
                   {"KiB",
                    "local store for a layer's matrices; when they do not fit they are fetched again with "
                    "every tile that needs them",
                    "modelling choice: exactly one 512x64 basis at 16 bits"},
                   false, 1024)
          .boolean("fold_decoders", &ProjectionSpec::fold_decoders,
                   {"", "fold the decoder into dense conv and linear consumers (above); edge preset: true",
                    "off: the paper decodes every projected activation before use"});
  return params;
}

std::int64_t side_values(std::int64_t channels, std::int64_t k) { return k * channels + channels + k; }

}  // namespace capsim::projection
