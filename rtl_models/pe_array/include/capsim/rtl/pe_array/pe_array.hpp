#pragma once
// PE array: rows x cols multiply-accumulate units with a weight-stationary or output-stationary
// dataflow, plus vector lanes for pooling and residual additions. Given one tile of work it
// returns cycles, MACs and the on-chip buffer traffic the dataflow implies (SCALE-Sim-style
// operand counts: an im2col operand is read once per fold that needs it).
#include <cstdint>
#include <string>

#include "capsim/common/params.hpp"
#include "capsim/rtl/protocol/pe_work.hpp"

namespace capsim::pe {

enum class Dataflow { WeightStationary, OutputStationary };

struct PeArraySpec {
  int rows = 16;
  int cols = 16;
  Dataflow dataflow = Dataflow::WeightStationary;
  int vector_lanes = 16;  // element operations per cycle for pool and add layers
};
// Every key of the `pe_array:` section (docs/architecture.md, generated from these).
const ParamSet<PeArraySpec>& pe_array_params();
std::string to_string(Dataflow dataflow);

// One tile of a (grouped) convolution or linear layer seen as a matrix product.
struct MatmulTile {
  std::int64_t pixels = 1;        // P: output pixels in the tile
  std::int64_t out_channels = 1;  // M: output channels in the tile
  std::int64_t reduction = 1;     // R: products summed per output ((Cin/groups) * kh * kw)
  bool depthwise = false;         // each output channel reduces over its own input channel only
};

struct OperandBits {
  int activation = 8;
  int weight = 8;
  int accumulator = 32;
};

using protocol::PeWork;  // what matmul() and vector() return, carried by tile jobs

class PeArrayModel {
 public:
  explicit PeArrayModel(const PeArraySpec& spec) : spec_(spec) {}
  const PeArraySpec& spec() const { return spec_; }

  PeWork matmul(const MatmulTile& tile, const OperandBits& bits) const;
  // Pooling or elementwise work: `ops` element operations reading and writing the given bytes.
  PeWork vector(std::int64_t ops, std::int64_t read_bytes, std::int64_t write_bytes) const;

 private:
  PeArraySpec spec_;
};

}  // namespace capsim::pe
