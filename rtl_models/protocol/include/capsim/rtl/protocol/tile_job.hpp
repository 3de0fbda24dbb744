#pragma once
// What the blocks pass each other: a tile job is the controller's unit of work, a set of DMA
// loads, a piece of PE work and DMA stores. Transfers carry the work the quantization and
// projection units do on the way between DRAM and the buffer.
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "capsim/rtl/protocol/pe_work.hpp"

namespace capsim::protocol {

enum class TrafficClass { Activation, Weight, ProjectionMatrix };
inline constexpr int kTrafficClasses = 3;
std::string to_string(TrafficClass traffic);

struct Transfer {
  TrafficClass traffic = TrafficClass::Activation;
  std::uint64_t address = 0;
  std::int64_t bytes = 0;            // payload over the DRAM interface
  std::int64_t onchip_bytes = 0;     // bytes written to (loads) or read from (stores) the buffer
  std::int64_t quant_values = 0;     // values (de)quantized and (un)packed on the way
  std::int64_t projection_macs = 0;  // encoder or decoder work on the way
};

struct TileJob {
  std::vector<Transfer> loads;
  PeWork compute;
  std::vector<Transfer> stores;
};

// Token passed through the block pipeline (sc_fifo). `end` marks the end of a run.
struct TileToken {
  const TileJob* job = nullptr;
  int layer = -1;
  bool last_of_layer = false;
  bool end = false;
};
inline std::ostream& operator<<(std::ostream& os, const TileToken& t) {
  return os << "tile(layer " << t.layer << (t.last_of_layer ? ", last" : "") << (t.end ? ", end" : "") << ")";
}

}  // namespace capsim::protocol
