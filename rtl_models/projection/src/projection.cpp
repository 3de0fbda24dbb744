#include "capsim/rtl/projection/projection.hpp"

namespace capsim::projection {

ProjectionSpec parse_projection_spec(const YamlView& view) {
  view.allow_keys({"macs_per_cycle", "matrix_buffer_kib", "fold_decoders"});
  ProjectionSpec spec;
  spec.macs_per_cycle = view.integer_or("macs_per_cycle", spec.macs_per_cycle, 1, 1 << 20);
  spec.matrix_buffer_bytes =
      view.integer_or("matrix_buffer_kib", spec.matrix_buffer_bytes / 1024, 0, 1 << 20) * 1024;
  spec.fold_decoders = view.boolean_or("fold_decoders", spec.fold_decoders);
  return spec;
}

std::int64_t side_values(std::int64_t channels, std::int64_t k) { return k * channels + channels + k; }

}  // namespace capsim::projection
