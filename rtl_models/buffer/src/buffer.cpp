#include "capsim/rtl/buffer/buffer.hpp"

#include "capsim/common/integers.hpp"

namespace capsim::buffer {
namespace {}  // namespace

BufferSpec parse_buffer_spec(const YamlView& view) {
  view.allow_keys({"capacity_kib", "capacity_bytes", "banks", "width_bits"});
  BufferSpec spec;
  if (view.has("capacity_kib") && view.has("capacity_bytes"))
    view.fail("capacity_bytes", "either capacity_kib or capacity_bytes, not both");
  const std::string key = view.has("capacity_bytes") ? "capacity_bytes" : "capacity_kib";
  spec.capacity_origin = view.location_of(key);
  spec.capacity_key = view.key_path(key);
  if (view.has("capacity_bytes")) {
    spec.capacity_bytes = view.integer("capacity_bytes", 1, kUnlimitedBytes);
  } else if (view.has("capacity_kib") && view.text_of("capacity_kib") == "unlimited") {
    spec.capacity_bytes = kUnlimitedBytes;
  } else {
    spec.capacity_bytes = view.integer("capacity_kib", 1, kUnlimitedBytes / 1024) * 1024;
  }
  spec.banks = static_cast<int>(view.integer_or("banks", spec.banks, 1, 1024));
  spec.width_bits = static_cast<int>(view.integer_or("width_bits", spec.width_bits, 8, 4096));
  if (spec.width_bits % 8 != 0 || !is_power_of_two(spec.width_bits))
    view.fail("width_bits", "a power of two >= 8");
  if (spec.capacity_bytes % (static_cast<std::int64_t>(spec.banks) * spec.access_bytes()) != 0)
    view.fail("banks", "a bank count that divides the capacity into whole words");
  return spec;
}

StatList BufferCounts::stats() const {
  return {
      {"read_bytes", "bytes", "bytes read from the on-chip buffer", static_cast<double>(read_bytes)},
      {"write_bytes", "bytes", "bytes written to the on-chip buffer", static_cast<double>(write_bytes)},
      {"read_accesses", "count", "bank-width read accesses", static_cast<double>(read_accesses)},
      {"write_accesses", "count", "bank-width write accesses", static_cast<double>(write_accesses)},
  };
}

BufferCounts BufferModel::traffic(std::int64_t read_bytes, std::int64_t write_bytes) const {
  const std::int64_t word = spec_.access_bytes();
  return {read_bytes, write_bytes, (read_bytes + word - 1) / word, (write_bytes + word - 1) / word};
}

}  // namespace capsim::buffer
