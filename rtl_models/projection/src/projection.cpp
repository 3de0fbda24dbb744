#include "capsim/rtl/projection/projection.hpp"

namespace capsim::projection {

ProjectionSpec parse_projection_spec(const YamlView& view) {
  view.allow_keys({"macs_per_cycle", "matrix_buffer_kib"});
  ProjectionSpec spec;
  spec.macs_per_cycle = view.integer_or("macs_per_cycle", spec.macs_per_cycle, 1, 1 << 20);
  spec.matrix_buffer_bytes = view.integer_or("matrix_buffer_kib", spec.matrix_buffer_bytes / 1024, 0, 1 << 20) * 1024;
  return spec;
}

ProjectionWork& ProjectionWork::operator+=(const ProjectionWork& o) {
  encode_macs += o.encode_macs;
  decode_macs += o.decode_macs;
  cycles += o.cycles;
  return *this;
}

std::int64_t side_values(std::int64_t channels, std::int64_t k) { return k * channels + channels + 2 * k; }

std::int64_t ProjectionModel::cycles_for(std::int64_t macs) const {
  return (macs + spec_.macs_per_cycle - 1) / spec_.macs_per_cycle;
}

ProjectionWork ProjectionModel::encode(std::int64_t pixels, std::int64_t channels, std::int64_t k) const {
  ProjectionWork w;
  w.encode_macs = pixels * channels * k;
  w.cycles = cycles_for(w.encode_macs);
  return w;
}

ProjectionWork ProjectionModel::decode(std::int64_t pixels, std::int64_t channels_needed, std::int64_t k) const {
  ProjectionWork w;
  w.decode_macs = pixels * channels_needed * k;
  w.cycles = cycles_for(w.decode_macs);
  return w;
}

}  // namespace capsim::projection
