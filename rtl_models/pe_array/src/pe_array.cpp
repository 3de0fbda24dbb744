#include "capsim/rtl/pe_array/pe_array.hpp"

#include <algorithm>

#include "capsim/common/integers.hpp"
#include "capsim/common/yaml_view.hpp"

namespace capsim::pe {
namespace {

std::int64_t bytes_of(std::int64_t values, int bits) { return ceil_div(values * bits, 8); }

}  // namespace

std::string to_string(Dataflow dataflow) {
  return dataflow == Dataflow::WeightStationary ? "weight_stationary" : "output_stationary";
}

const ParamSet<PeArraySpec>& pe_array_params() {
  // vector_lanes defaults to the column count, which only the file knows.
  const auto lanes_follow_cols = [](const YamlView& view, PeArraySpec& spec) {
    if (!view.has("vector_lanes")) spec.vector_lanes = spec.cols;
  };
  static const ParamSet<PeArraySpec> params =
      ParamSet<PeArraySpec>()
          .integer("rows", &PeArraySpec::rows, 1, 4096, {"PEs", "PE array rows", ""}, true)
          .integer("cols", &PeArraySpec::cols, 1, 4096, {"PEs", "PE array columns", ""}, true)
          .choice("dataflow", &PeArraySpec::dataflow,
                  {{"weight_stationary", Dataflow::WeightStationary},
                   {"output_stationary", Dataflow::OutputStationary}},
                  {"", "which operand stays in the PEs (PE array timing, below)",
                   "a TPU-style weight-stationary systolic array (Jouppi et al., ISCA 2017)"})
          .custom(
              "vector_lanes",
              {{"vector_lanes",
                ParamKind::Integer,
                "`cols`",
                "1..65536",
                {"ops/cycle", "element operations per cycle for `pool` and `add` layers",
                 "modelling choice: one lane per PE column"}}},
              [](const YamlView& view, PeArraySpec& spec) {
                if (view.has("vector_lanes"))
                  spec.vector_lanes = static_cast<int>(view.integer("vector_lanes", 1, 65536));
              },
              [](const PeArraySpec& spec) {
                return std::vector<ParamValue>{
                    {"vector_lanes", ParamKind::Integer, std::to_string(spec.vector_lanes)}};
              })
          .check(lanes_follow_cols);
  return params;
}

PeWork PeArrayModel::matmul(const MatmulTile& t, const OperandBits& bits) const {
  const std::int64_t rows = spec_.rows, cols = spec_.cols;
  // Filling and draining the systolic pipeline costs rows + cols - 2 cycles per fold.
  const std::int64_t fill_drain = rows + cols - 2;
  // Input operands: a fold's columns share each input it streams in, so inputs are read once per
  // column fold; the columns of a depthwise tile (one channel each) need their own channel's
  // window, so there every input operand is read once.
  const std::int64_t input_values =
      (t.depthwise ? t.out_channels : ceil_div(t.out_channels, cols)) * t.pixels * t.reduction;
  PeWork work;
  work.macs = t.pixels * t.out_channels * t.reduction;
  if (spec_.dataflow == Dataflow::WeightStationary) {
    // Array rows hold the reduction, columns the output channels; each fold keeps rows x cols
    // weights in place and streams every pixel through. Weight loading (one row per cycle) is
    // double-buffered and hides behind streaming unless the tile has fewer pixels than rows.
    const std::int64_t row_folds = ceil_div(t.reduction, rows);
    const std::int64_t col_folds = ceil_div(t.out_channels, cols);
    work.cycles = row_folds * col_folds * (std::max(t.pixels, rows) + fill_drain);
    work.sram_read_bytes =
        bytes_of(t.out_channels * t.reduction, bits.weight) + bytes_of(input_values, bits.activation);
    // Partial sums of all but the last row fold go to the buffer and come back.
    const std::int64_t psum_bytes = bytes_of((row_folds - 1) * t.pixels * t.out_channels, bits.accumulator);
    work.sram_read_bytes += psum_bytes;
    work.sram_write_bytes = psum_bytes;
  } else {
    // Each PE owns one output (rows: pixels, columns: channels) and accumulates the whole
    // reduction in place; operands stream in from the edges.
    const std::int64_t row_folds = ceil_div(t.pixels, rows);
    const std::int64_t col_folds = ceil_div(t.out_channels, cols);
    work.cycles = row_folds * col_folds * (t.reduction + fill_drain);
    work.sram_read_bytes = bytes_of(input_values, bits.activation) +
                           bytes_of(row_folds * t.out_channels * t.reduction, bits.weight);
  }
  work.sram_write_bytes += bytes_of(t.pixels * t.out_channels, bits.activation);
  return work;
}

PeWork PeArrayModel::vector(std::int64_t ops, std::int64_t read_bytes, std::int64_t write_bytes) const {
  PeWork work;
  work.vector_ops = ops;
  work.cycles = ceil_div(ops, spec_.vector_lanes);
  work.sram_read_bytes = read_bytes;
  work.sram_write_bytes = write_bytes;
  return work;
}

}  // namespace capsim::pe
