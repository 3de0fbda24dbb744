#pragma once
// The PE array's share of a tile job: what the PE model (rtl_models/pe_array) computes for one
// tile and the PE module spends. Part of the protocol, so that a tile job needs no block header.
#include <cstdint>

namespace capsim::protocol {

struct PeWork {
  std::int64_t cycles = 0;
  std::int64_t macs = 0;
  std::int64_t vector_ops = 0;
  std::int64_t sram_read_bytes = 0;   // operands the array reads from the buffer
  std::int64_t sram_write_bytes = 0;  // outputs (and spilled partial sums) it writes back
};

}  // namespace capsim::protocol
