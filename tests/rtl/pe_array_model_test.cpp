// PeArrayModel (plain C++, no SystemC): cycles, MACs and buffer traffic of a tile under the
// weight-stationary and output-stationary dataflows, and the vector lanes. Every expected value
// is worked out independently of the model: closed forms computed by hand in the comments, a
// brute-force enumeration of the folds of the mapping (docs/architecture.md, "PE array timing")
// with a wavefront walk of the systolic pipeline, and conservation over a tiled layer.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "capsim/rtl/pe_array/pe_array.hpp"

namespace capsim::pe {
namespace {

PeArraySpec array(int rows, int cols, Dataflow dataflow) {
  PeArraySpec spec;
  spec.rows = rows;
  spec.cols = cols;
  spec.dataflow = dataflow;
  spec.vector_lanes = cols;
  return spec;
}

constexpr OperandBits k8bit{8, 8, 32};

void expect_work(const PeWork& got, std::int64_t cycles, std::int64_t macs, std::int64_t reads,
                 std::int64_t writes) {
  EXPECT_EQ(got.cycles, cycles);
  EXPECT_EQ(got.macs, macs);
  EXPECT_EQ(got.vector_ops, 0);
  EXPECT_EQ(got.sram_read_bytes, reads);
  EXPECT_EQ(got.sram_write_bytes, writes);
}

// ---------------------------------------------------------------------------------------------
// Weight stationary, hand-worked closed forms on the edge preset's 16x16 array (fill + drain =
// 16 + 16 - 2 = 30 cycles per fold).

TEST(PeArrayModelWeightStationary, ThreeByThreeConvWithChannelsNotDivisibleByTheArray) {
  // 3x3 conv, Cin 32, a tile of 7x8 = 56 pixels and 40 output channels: R = 32 * 9 = 288.
  // folds: ceil(288/16) = 18 row folds x ceil(40/16) = 3 column folds (16, 16, 8 channels) = 54,
  // each max(56, 16) + 30 = 86 cycles -> 4644 cycles. MACs 56 * 40 * 288 = 645120.
  // reads: weights 40 * 288 = 11520 B; inputs once per column fold 3 * 56 * 288 = 48384 B;
  //        partial sums of 17 row folds back in: 17 * 56 * 40 * 4 B = 152320 B -> 212224 B.
  // writes: those 152320 B of partial sums + 56 * 40 outputs = 154560 B.
  const PeArrayModel pe(array(16, 16, Dataflow::WeightStationary));
  expect_work(pe.matmul({56, 40, 288}, k8bit), 4644, 645120, 212224, 154560);
}

TEST(PeArrayModelWeightStationary, OneByOneConv) {
  // 1x1 conv 64 -> 64 on a 14x14 tile: R = 64, P = 196. 4 x 4 folds of 196 + 30 = 226 -> 3616.
  // MACs 196 * 64 * 64 = 802816. reads: weights 4096 + inputs 4 * 196 * 64 = 50176 + partial sums
  // 3 * 196 * 64 * 4 = 150528 -> 204800. writes: 150528 + 196 * 64 = 163072.
  const PeArrayModel pe(array(16, 16, Dataflow::WeightStationary));
  expect_work(pe.matmul({196, 64, 64}, k8bit), 3616, 802816, 204800, 163072);
}

TEST(PeArrayModelWeightStationary, FewerPixelsThanRowsWaitsForTheWeightLoad) {
  // Linear 512 -> 10 (P = 1): 32 row folds x 1 column fold; a fold cannot be shorter than the
  // 16-cycle weight load: 32 * (16 + 30) = 1472 cycles (not 32 * (1 + 30) = 992).
  // MACs 5120. reads: weights 5120 + input 512 + partial sums 31 * 10 * 4 = 1240 -> 6872.
  // writes: 1240 + 10 = 1250.
  const PeArrayModel pe(array(16, 16, Dataflow::WeightStationary));
  expect_work(pe.matmul({1, 10, 512}, k8bit), 1472, 5120, 6872, 1250);
  // A 3-pixel tile of a 3x3 conv with Cin 16 (R = 144): 9 x 1 folds of 16 + 30 -> 414 cycles.
  expect_work(pe.matmul({3, 16, 144}, k8bit), 414, 3 * 16 * 144,
              /*weights*/ 2304 + /*inputs*/ 432 + /*psums 8*3*16*4*/ 1536, 1536 + 48);
}

TEST(PeArrayModelWeightStationary, DepthwiseReadsEveryChannelsOwnInputs) {
  // Depthwise 3x3 (R = 9 < 16 rows), a tile of 28x28 = 784 pixels and 32 channels:
  // 1 x 2 folds of 784 + 30 = 814 -> 1628 cycles; MACs 784 * 32 * 9 = 225792.
  // Column j holds channel j's kernel and needs channel j's window: no input is shared across
  // columns, so each of the 784 * 9 * 32 = 225792 input operands is read once (not 2 * 784 * 9).
  // reads: weights 32 * 9 = 288 + 225792 = 226080; writes: 784 * 32 = 25088 (one row fold).
  const PeArrayModel pe(array(16, 16, Dataflow::WeightStationary));
  MatmulTile tile{784, 32, 9};
  tile.depthwise = true;
  expect_work(pe.matmul(tile, k8bit), 1628, 225792, 226080, 25088);
  // The same shape as a dense matrix product shares each input across the columns of a fold:
  // inputs 2 * 784 * 9 = 14112 -> reads 288 + 14112 = 14400.
  expect_work(pe.matmul({784, 32, 9}, k8bit), 1628, 225792, 14400, 25088);
}

TEST(PeArrayModelWeightStationary, SubByteOperandsArePackedPerStream) {
  // 4x4 array (fill + drain 6), 4-bit activations and weights, 16-bit partial sums; P 5, M 3, R 7.
  // folds ceil(7/4) = 2 x ceil(3/4) = 1, each max(5, 4) + 6 = 11 -> 22 cycles; MACs 105.
  // reads: weights 21 x 4 bit = 84 bit -> 11 B; inputs 1 * 5 * 7 = 35 x 4 bit = 140 bit -> 18 B;
  //        partial sums 1 * 5 * 3 = 15 x 16 bit = 30 B -> 59 B.
  // writes: 30 B + outputs 15 x 4 bit = 60 bit -> 8 B = 38 B.
  const PeArrayModel pe(array(4, 4, Dataflow::WeightStationary));
  expect_work(pe.matmul({5, 3, 7}, OperandBits{4, 4, 16}), 22, 105, 59, 38);
}

TEST(PeArrayModelWeightStationary, UtilisationOfAFullyMappedTile) {
  // M and R multiples of the array: every fold keeps all 256 PEs busy for P of its P + 30 cycles,
  // so MACs / (cycles * 256) = P / (P + 30) exactly: 3136 / 3166 for a 56x56 tile.
  const PeArrayModel pe(array(16, 16, Dataflow::WeightStationary));
  const std::int64_t p = 3136;
  const PeWork w = pe.matmul({p, 64, 576}, k8bit);
  EXPECT_EQ(w.cycles, 4 * 36 * (p + 30));
  EXPECT_EQ(w.macs * (p + 30), w.cycles * 256 * p);
  // Depthwise 3x3 with 16 channels: 9 of 16 rows hold taps, so 9/16 of P/(P+30).
  MatmulTile dw{p, 16, 9};
  dw.depthwise = true;
  const PeWork d = pe.matmul(dw, k8bit);
  EXPECT_EQ(d.cycles, p + 30);
  EXPECT_EQ(d.macs * 16 * (p + 30), d.cycles * 256 * 9 * p);
}

// ---------------------------------------------------------------------------------------------
// Output stationary: rows hold pixels, columns output channels, each PE accumulates the whole
// reduction in place (no partial sums leave the array).

TEST(PeArrayModelOutputStationary, ThreeByThreeConvWithChannelsNotDivisibleByTheArray) {
  // The tile of the weight-stationary case: P 56, M 40, R 288.
  // folds: ceil(56/16) = 4 pixel folds (16, 16, 16, 8) x 3 channel folds = 12, each 288 + 30 = 318
  // cycles -> 3816. reads: inputs once per channel fold 3 * 56 * 288 = 48384, weights once per
  // pixel fold 4 * 40 * 288 = 46080 -> 94464. writes: outputs 56 * 40 = 2240.
  const PeArrayModel pe(array(16, 16, Dataflow::OutputStationary));
  expect_work(pe.matmul({56, 40, 288}, k8bit), 3816, 645120, 94464, 2240);
}

TEST(PeArrayModelOutputStationary, OneByOneConvAndLinear) {
  // 1x1 conv 64 -> 64, 196 pixels: ceil(196/16) = 13 x 4 folds of 64 + 30 = 94 -> 4888 cycles.
  // reads: inputs 4 * 196 * 64 = 50176 + weights 13 * 64 * 64 = 53248 -> 103424; writes 12544.
  const PeArrayModel pe(array(16, 16, Dataflow::OutputStationary));
  expect_work(pe.matmul({196, 64, 64}, k8bit), 4888, 802816, 103424, 12544);
  // Linear 512 -> 10: one fold of 512 + 30 = 542 cycles; reads 512 + 5120; writes 10.
  expect_work(pe.matmul({1, 10, 512}, k8bit), 542, 5120, 5632, 10);
}

TEST(PeArrayModelOutputStationary, DepthwiseReadsEveryChannelsOwnInputs) {
  // Depthwise 3x3, 784 pixels, 32 channels: 49 x 2 folds of 9 + 30 = 39 -> 3822 cycles.
  // reads: inputs 784 * 9 * 32 = 225792 (each PE column needs its own channel), weights once per
  // pixel fold 49 * 32 * 9 = 14112 -> 239904; writes 25088.
  const PeArrayModel pe(array(16, 16, Dataflow::OutputStationary));
  MatmulTile tile{784, 32, 9};
  tile.depthwise = true;
  expect_work(pe.matmul(tile, k8bit), 3822, 225792, 239904, 25088);
}

TEST(PeArrayModelOutputStationary, UtilisationWhenTheReductionIsShort) {
  // Fully mapped (P and M multiples of 16): MACs / (cycles * 256) = R / (R + 30); for a 1x1 conv
  // with R = 16 it is 16/46, for R = 2304 it is 2304/2334.
  const PeArrayModel pe(array(16, 16, Dataflow::OutputStationary));
  for (const std::int64_t r : {16, 2304}) {
    const PeWork w = pe.matmul({256, 32, r}, k8bit);
    EXPECT_EQ(w.cycles, 16 * 2 * (r + 30));
    EXPECT_EQ(w.macs * (r + 30), w.cycles * 256 * r);
  }
}

// ---------------------------------------------------------------------------------------------
// Brute force: enumerate the folds of the mapping, count what every fold moves, and walk the
// systolic wavefront (operand t enters PE (0, 0) at cycle t and reaches PE (i, j) at t + i + j;
// a fold lasts until the last PE of the array has seen its last operand).

struct Counted {
  std::int64_t cycles = 0, macs = 0;
  std::int64_t weight_values = 0, input_values = 0, psum_values = 0, output_values = 0;
};

std::int64_t fold_cycles(std::int64_t streamed, int rows, int cols) {
  std::int64_t last = -1;
  for (std::int64_t t = 0; t < streamed; ++t)
    for (int i = 0; i < rows; ++i)
      for (int j = 0; j < cols; ++j) last = std::max(last, t + i + j);
  return last + 1;
}

Counted enumerate(const PeArraySpec& a, const MatmulTile& t) {
  Counted c;
  const bool ws = a.dataflow == Dataflow::WeightStationary;
  // Weight stationary: array rows walk the reduction, columns the channels.
  // Output stationary: array rows walk the pixels, columns the channels.
  const std::int64_t row_extent = ws ? t.reduction : t.pixels;
  for (std::int64_t r0 = 0; r0 < row_extent; r0 += a.rows) {
    const std::int64_t used_rows = std::min<std::int64_t>(a.rows, row_extent - r0);
    const bool last_row_fold = r0 + a.rows >= row_extent;
    for (std::int64_t m0 = 0; m0 < t.out_channels; m0 += a.cols) {
      const std::int64_t used_cols = std::min<std::int64_t>(a.cols, t.out_channels - m0);
      // Input operands one fold needs: shared along a row by all its columns, unless every
      // column (channel) reduces over its own input channel (depthwise).
      const std::int64_t inputs_per_row_step = t.depthwise ? used_cols : 1;
      if (ws) {
        // Weights loaded once (one per used PE), then every pixel streams through: the fold lasts
        // the pixels or the next fold's weight load (one array row per cycle), whichever is longer.
        c.weight_values += used_rows * used_cols;
        c.input_values += t.pixels * used_rows * inputs_per_row_step;
        c.macs += t.pixels * used_rows * used_cols;
        if (!last_row_fold)
          c.psum_values += t.pixels * used_cols;  // out, and back in next fold
        else
          c.output_values += t.pixels * used_cols;
        c.cycles += fold_cycles(std::max<std::int64_t>(t.pixels, a.rows), a.rows, a.cols);
      } else {
        // Each used PE (pixel, channel) receives the whole reduction: inputs from the left edge,
        // weights from the top edge; its output leaves once.
        c.input_values += used_rows * t.reduction * inputs_per_row_step;
        c.weight_values += used_cols * t.reduction;
        c.macs += used_rows * used_cols * t.reduction;
        c.output_values += used_rows * used_cols;
        c.cycles += fold_cycles(t.reduction, a.rows, a.cols);
      }
    }
  }
  return c;
}

std::int64_t packed(std::int64_t values, int bits) { return (values * bits + 7) / 8; }

TEST(PeArrayModel, MatchesABruteForceEnumerationOfTheMapping) {
  const std::vector<std::pair<int, int>> arrays = {{16, 16}, {4, 4}, {8, 4}, {3, 5}, {1, 1}, {32, 8}};
  const std::vector<OperandBits> widths = {k8bit, {4, 4, 16}, {16, 8, 32}, {3, 5, 24}};
  int cases = 0;
  for (const Dataflow dataflow : {Dataflow::WeightStationary, Dataflow::OutputStationary})
    for (const auto& [rows, cols] : arrays)
      for (const std::int64_t pixels : {1, 3, 16, 17, 49})
        for (const std::int64_t channels : {1, 5, 16, 33})
          for (const std::int64_t reduction : {1, 9, 16, 27, 288})
            for (const bool depthwise : {false, true}) {
              if (depthwise && reduction > 25) continue;  // depthwise: R = kh * kw
              const PeArraySpec spec = array(rows, cols, dataflow);
              MatmulTile tile{pixels, channels, reduction};
              tile.depthwise = depthwise;
              const OperandBits bits = widths[static_cast<std::size_t>(cases) % widths.size()];
              const Counted c = enumerate(spec, tile);
              const PeWork w = PeArrayModel(spec).matmul(tile, bits);
              SCOPED_TRACE(testing::Message()
                           << to_string(dataflow) << " " << rows << "x" << cols << " P " << pixels << " M "
                           << channels << " R " << reduction << (depthwise ? " depthwise" : ""));
              EXPECT_EQ(c.macs, pixels * channels * reduction);  // conservation of the enumeration
              EXPECT_EQ(w.cycles, c.cycles);
              EXPECT_EQ(w.macs, c.macs);
              EXPECT_EQ(w.sram_read_bytes, packed(c.weight_values, bits.weight) +
                                               packed(c.input_values, bits.activation) +
                                               packed(c.psum_values, bits.accumulator));
              EXPECT_EQ(w.sram_write_bytes,
                        packed(c.psum_values, bits.accumulator) + packed(c.output_values, bits.activation));
              ++cases;
            }
  EXPECT_GT(cases, 700);
}

// ---------------------------------------------------------------------------------------------
// Conservation over a layer: whatever the tiling, the tiles' MACs add up to the layer's MAC
// count and (output stationary, no partial sums) their writes to the layer's output bytes.

TEST(PeArrayModel, TilesOfALayerConserveMacsAndOutputs) {
  // 3x3 conv 24 -> 40 channels on a 14x14 output: 14 * 14 * 40 * 24 * 9 = 1693440 MACs.
  const std::int64_t out_rows = 14, out_cols = 14, cout = 40, reduction = 24 * 9;
  for (const Dataflow dataflow : {Dataflow::WeightStationary, Dataflow::OutputStationary}) {
    const PeArrayModel pe(array(16, 16, dataflow));
    for (const std::int64_t tile_rows : {1, 3, 5, 14})
      for (const std::int64_t tile_channels : {7, 16, 24, 40}) {
        std::int64_t macs = 0, writes = 0;
        for (std::int64_t r0 = 0; r0 < out_rows; r0 += tile_rows)
          for (std::int64_t m0 = 0; m0 < cout; m0 += tile_channels) {
            const PeWork w = pe.matmul({std::min(tile_rows, out_rows - r0) * out_cols,
                                        std::min(tile_channels, cout - m0), reduction},
                                       k8bit);
            macs += w.macs;
            writes += w.sram_write_bytes;
          }
        EXPECT_EQ(macs, 1693440);
        if (dataflow == Dataflow::OutputStationary) {
          EXPECT_EQ(writes, 14 * 14 * 40);
        }
      }
  }
}

// ---------------------------------------------------------------------------------------------
// Vector lanes (pool and add layers).

TEST(PeArrayModel, VectorWorkRunsAtTheLaneRate) {
  PeArraySpec spec = array(16, 16, Dataflow::WeightStationary);
  spec.vector_lanes = 16;
  const PeArrayModel pe(spec);
  // 3x3 max pool of a 7x7x32 output tile: 7 * 7 * 32 * 9 = 14112 operations -> 14112 / 16 = 882
  // cycles; the caller's byte counts pass through; no MACs.
  PeWork w = pe.vector(14112, 14112, 1568);
  EXPECT_EQ(w.cycles, 882);
  EXPECT_EQ(w.vector_ops, 14112);
  EXPECT_EQ(w.macs, 0);
  EXPECT_EQ(w.sram_read_bytes, 14112);
  EXPECT_EQ(w.sram_write_bytes, 1568);
  // A partial last cycle costs a whole one: 17 -> 2 cycles; 0 -> 0.
  EXPECT_EQ(pe.vector(17, 34, 17).cycles, 2);
  EXPECT_EQ(pe.vector(0, 0, 0).cycles, 0);
  spec.vector_lanes = 5;
  EXPECT_EQ(PeArrayModel(spec).vector(21, 0, 0).cycles, 5);
}

}  // namespace
}  // namespace capsim::pe
