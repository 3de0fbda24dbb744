#pragma once
// Small integer helpers shared by the models (no dependencies).
#include <cstdint>
#include <string>
#include <string_view>

namespace capsim {

constexpr std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

constexpr bool is_power_of_two(std::int64_t value) { return value > 0 && (value & (value - 1)) == 0; }

// Bits needed to count `value` items (log2 for powers of two, rounded up otherwise).
constexpr std::uint32_t log2_ceil(std::uint64_t value) {
  std::uint32_t bits = 0;
  while (bits < 64 && (std::uint64_t{1} << bits) < value) ++bits;
  return bits;
}

inline bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace capsim
