#include "capsim/rtl/buffer/buffer.hpp"

#include "capsim/common/integers.hpp"
#include "capsim/common/yaml_view.hpp"

namespace capsim::buffer {

namespace {

// capacity_kib (a number or `unlimited`) or, exactly one of the two, capacity_bytes.
void read_capacity(const YamlView& view, BufferSpec& spec) {
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
}

void check_geometry(const YamlView& view, BufferSpec& spec) {
  if (spec.width_bits % 8 != 0 || !is_power_of_two(spec.width_bits))
    view.fail("width_bits", "a power of two >= 8");
  if (spec.capacity_bytes % (static_cast<std::int64_t>(spec.banks) * spec.access_bytes()) != 0)
    view.fail("banks", "a bank count that divides the capacity into whole words");
}

ParamSet<BufferSpec> make_buffer_params() {
  const ParamInfo capacity{"KiB", "global buffer size; `unlimited` for closed-form studies", ""};
  // The record keeps bytes: exact for every capacity, `unlimited` (2^50 bytes) included.
  const auto show_capacity = [](const BufferSpec& spec) {
    return std::vector<ParamValue>{
        {"capacity_bytes", ParamKind::Integer, std::to_string(spec.capacity_bytes)}};
  };
  const ParamInfo capacity_bytes{"bytes", "the capacity in bytes, instead of `capacity_kib`", ""};
  ParamSet<BufferSpec> params;
  params
      .custom(
          "capacity_kib",
          {{"capacity_kib", ParamKind::Integer, "required", "1..2^40, `unlimited`", capacity}}, read_capacity,
          [](const BufferSpec&) { return std::vector<ParamValue>{}; }, true)
      .custom(
          "capacity_bytes",
          {{"capacity_bytes", ParamKind::Integer, "instead of `capacity_kib`", "1..2^50", capacity_bytes}},
          [](const YamlView&, BufferSpec&) {}, show_capacity)
      .integer("banks", &BufferSpec::banks, 1, 1024,
               {"", "banks; the SRAM energy per access is priced at the bank size",
                "modelling choice: 16 KiB banks at the edge preset's 256 KiB"})
      .integer(
          "width_bits", &BufferSpec::width_bits, 8, 4096,
          {"bits", "bits per bank access (power of two)", "modelling choice: 16 bytes, half the DMA bus"})
      .check(check_geometry);
  return params;
}

}  // namespace

const ParamSet<BufferSpec>& buffer_params() {
  static const ParamSet<BufferSpec> params = make_buffer_params();
  return params;
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
