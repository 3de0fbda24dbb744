#pragma once
// On-chip global buffer: a banked SRAM holding activation, weight and output tiles (and, under
// spill_when_needed, activations kept on chip between layers). The model counts accesses; their
// energy depends on the bank size and is costed from the energy table (sim/energy).
#include <cstdint>

#include "capsim/common/error.hpp"
#include "capsim/common/params.hpp"
#include "capsim/common/stats.hpp"

namespace capsim::buffer {

struct BufferSpec {
  std::int64_t capacity_bytes = std::int64_t{256} * 1024;
  int banks = 16;
  int width_bits = 128;  // bits per bank access
  // Where the capacity was set (file and line, or --set), for "buffer too small" errors.
  SourceLocation capacity_origin;
  std::string capacity_key = "buffer.capacity_kib";

  std::int64_t bank_bytes() const { return capacity_bytes / banks; }
  int access_bytes() const { return width_bits / 8; }
};

// Every key of the `buffer:` section (docs/architecture.md, generated from these).
const ParamSet<BufferSpec>& buffer_params();

inline constexpr std::int64_t kUnlimitedBytes = std::int64_t{1} << 50;

struct BufferCounts {
  std::int64_t read_bytes = 0;
  std::int64_t write_bytes = 0;
  std::int64_t read_accesses = 0;  // width-sized bank accesses
  std::int64_t write_accesses = 0;

  StatList stats() const;
};

// Converts byte traffic into width-sized accesses (a partial word costs a whole access).
class BufferModel {
 public:
  explicit BufferModel(const BufferSpec& spec) : spec_(spec) {}
  const BufferSpec& spec() const { return spec_; }
  BufferCounts traffic(std::int64_t read_bytes, std::int64_t write_bytes) const;

 private:
  BufferSpec spec_;
};

}  // namespace capsim::buffer
