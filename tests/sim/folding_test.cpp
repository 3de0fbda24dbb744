// Decoder folding, the channel-tiled encoder, dropping projections that cannot be tiled, and the
// batch override: placement and tiling against hand-computed closed forms (no SystemC).
#include <gtest/gtest.h>

#include "capsim/common/error.hpp"
#include "capsim/rtl/projection/projection.hpp"
#include "capsim/rtl/quant/quant.hpp"
#include "capsim/sim/layer_schedule.hpp"
#include "capsim/sim/placement.hpp"
#include "capsim/trace/plan.hpp"
#include "trace_builder.hpp"

namespace capsim::sim {
namespace {

ArchSpec test_arch(std::int64_t capacity_bytes, bool fold) {
  ArchSpec arch;
  arch.name = "test";
  arch.file = "test.yaml";
  arch.buffer.capacity_bytes = capacity_bytes;
  arch.projection.fold_decoders = fold;
  arch.projection.matrix_buffer_bytes = 1 << 30;
  return arch;
}

struct LayerTraffic {
  std::int64_t activation_read = 0, weight_read = 0, matrix_read = 0, macs = 0, decode_macs = 0,
               encode_macs = 0;
};

LayerTraffic traffic_of(const trace::Trace& trace, const ArchSpec& arch, int layer) {
  const Placement placement = place_tensors(trace, arch);
  const LayerScheduler scheduler(trace, placement, arch);
  LayerTraffic t;
  for (const auto& job : scheduler.build_tiles(layer, scheduler.choose_tiling(layer))) {
    for (const auto& x : job.loads) {
      if (x.traffic == TrafficClass::Activation) t.activation_read += x.bytes;
      if (x.traffic == TrafficClass::Weight) t.weight_read += x.bytes;
      if (x.traffic == TrafficClass::ProjectionMatrix) t.matrix_read += x.bytes;
      t.decode_macs += x.projection_macs;
    }
    for (const auto& x : job.stores) t.encode_macs += x.projection_macs;
    t.macs += job.compute.macs;
  }
  return t;
}

// a: 3x3 conv 3 -> 16 on 16x16; b: 3x3 pad-1 conv 16 -> 32 reading a projected to k = 4.
trace::Trace two_convs(const std::string& plan = "") {
  testing::TraceBuilder builder({3, 16, 16});
  builder.conv("a", "input", 16, 3, 1, 1);
  builder.conv("b", "a", 32, 3, 1, 1);
  trace::Trace trace = builder.build();
  trace.layers[0].compression = trace::Compression{16, 4, 8, {}, {}, {}};
  if (!plan.empty()) trace::apply_plan(trace, trace::parse_plan_spec(plan));
  return trace;
}

TEST(Folding, FoldedConvReadsCoefficientsWithFoldedWeightsAndBorderBiases) {
  const trace::Trace trace = two_convs();
  const ArchSpec arch = test_arch(buffer::kUnlimitedBytes, true);
  const Placement p = place_tensors(trace, arch);
  const LayerWork& b = p.layers[1];
  EXPECT_TRUE(b.folded_input);
  EXPECT_EQ(b.input_channels, 4);
  EXPECT_EQ(b.weights, 32 * 4 * 3 * 3);
  // 3x3, pad 1, stride 1 on 16 rows: windows clipped at the top, none, clipped at the bottom,
  // in both axes: 9 distinct biases per output channel.
  EXPECT_EQ(b.biases, 32 * 9);
  EXPECT_EQ(b.weight_bytes, 32 * 4 * 9 * 1 + 32 * 9 * 4);  // 8-bit weights, 32-bit biases
  EXPECT_FALSE(p.tensors[1].needs_decoder());
  EXPECT_EQ(p.tensors[1].decoder_bytes(), 0);

  const LayerTraffic t = traffic_of(trace, arch, 1);
  EXPECT_EQ(t.macs, 32 * 16 * 16 * 4 * 9) << "k/C of the unfolded MACs";
  EXPECT_EQ(t.decode_macs, 0);
  EXPECT_EQ(t.matrix_read, 0) << "no decoder; the encoder belongs to layer a";
  EXPECT_EQ(t.weight_read, b.weight_bytes);
  EXPECT_EQ(t.activation_read, 16 * 16 * 4) << "k coefficients of 8 bits per pixel, read once";
}

TEST(Folding, WithoutFoldingTheConsumerDecodes) {
  const trace::Trace trace = two_convs();
  const ArchSpec arch = test_arch(buffer::kUnlimitedBytes, false);
  const Placement p = place_tensors(trace, arch);
  EXPECT_FALSE(p.layers[1].folded_input);
  EXPECT_EQ(p.layers[1].weight_bytes, trace.layers[1].weight_bytes);
  const LayerTraffic t = traffic_of(trace, arch, 1);
  EXPECT_EQ(t.macs, 32 * 16 * 16 * 16 * 9);
  EXPECT_EQ(t.decode_macs, 16 * 16 * 16 * 4) << "C x k per pixel";
  EXPECT_EQ(t.matrix_read, quant::packed_bytes(projection::side_values(16, 4), 16));
}

TEST(Folding, OneByOneConvNeedsOneBiasPerChannelAndLinearFoldsPerPixel) {
  testing::TraceBuilder builder({3, 8, 8});
  builder.conv("a", "input", 16, 3, 1, 1);
  builder.conv("pw", "a", 24, 1);
  builder.linear("fc", "pw", 10);
  trace::Trace trace = builder.build();
  trace.layers[0].compression = trace::Compression{16, 4, 8, {}, {}, {}};
  trace.layers[1].compression = trace::Compression{24, 6, 8, {}, {}, {}};
  const Placement p = place_tensors(trace, test_arch(buffer::kUnlimitedBytes, true));
  EXPECT_EQ(p.layers[1].weights, 24 * 4);
  EXPECT_EQ(p.layers[1].biases, 24);
  EXPECT_EQ(p.layers[2].input_channels, 6);
  EXPECT_EQ(p.layers[2].weights, 10 * 6 * 8 * 8) << "W (I (x) D): k of C channels at every pixel";
  EXPECT_EQ(p.layers[2].biases, 10);
}

TEST(Folding, DistinctBorderWindowsOfAStridedConv) {
  // 7x7, stride 2, pad 3 on 224: output rows 0, 1 clip 3 and 1 taps at the top; the last row
  // clips 2 at the bottom (start 2*111-3 = 219, 219+7-224 = 2): 4 distinct windows per axis.
  testing::TraceBuilder builder({3, 224, 224});
  builder.conv("a", "input", 8, 3, 1, 1);
  builder.conv("stem", "a", 16, 7, 2, 3);
  trace::Trace trace = builder.build();
  trace.layers[0].compression = trace::Compression{8, 2, 8, {}, {}, {}};
  const Placement p = place_tensors(trace, test_arch(buffer::kUnlimitedBytes, true));
  EXPECT_EQ(p.layers[1].biases, 16 * 4 * 4);
}

TEST(Folding, DepthwiseAndAddConsumersKeepTheDecoder) {
  testing::TraceBuilder builder({3, 16, 16});
  builder.conv("a", "input", 16, 3, 1, 1);
  builder.conv("b", "a", 16, 3, 1, 1);
  builder.add("sum", {"a", "b"});
  builder.dwconv("dw", "sum", 3, 1, 1);
  trace::Trace trace = builder.build();
  trace.layers[0].compression = trace::Compression{16, 4, 8, {}, {}, {}};
  trace.layers[2].compression = trace::Compression{16, 8, 8, {}, {}, {}};
  EXPECT_EQ(trace.folded_consumers(0), std::vector<std::string>{"b"});
  EXPECT_TRUE(trace.folded_consumers(2).empty()) << "a depthwise conv cannot fold";
  const ArchSpec arch = test_arch(buffer::kUnlimitedBytes, true);
  const Placement p = place_tensors(trace, arch);
  EXPECT_TRUE(p.tensors[1].folded_into(1));
  EXPECT_FALSE(p.tensors[1].folded_into(2));
  EXPECT_TRUE(p.tensors[1].needs_decoder()) << "the add reads decoded channels";
  EXPECT_TRUE(p.layers[1].folded_input);
  EXPECT_FALSE(p.layers[2].folded_input);
  EXPECT_FALSE(p.layers[3].folded_input);
  EXPECT_GT(traffic_of(trace, arch, 2).decode_macs, 0);
  EXPECT_EQ(traffic_of(trace, arch, 1).decode_macs, 0);
}

TEST(Folding, TraceRecordsFoldedEdgesAndRejectsImpossibleOnes) {
  const trace::Trace trace = two_convs();
  const std::string text = trace::format_trace(trace);
  EXPECT_NE(text.find("folded: [b]"), std::string::npos) << text;
  const trace::Trace back = trace::parse_trace(text, "t.trace");
  ASSERT_TRUE(back.layers[0].compression->folded);
  EXPECT_EQ(*back.layers[0].compression->folded, std::vector<std::string>{"b"});

  trace::Trace none = trace;
  none.layers[0].compression->folded = std::vector<std::string>{};
  const std::string unfolded = trace::format_trace(none);
  EXPECT_NE(unfolded.find("folded: []"), std::string::npos);
  EXPECT_FALSE(
      place_tensors(trace::parse_trace(unfolded, "t.trace"), test_arch(buffer::kUnlimitedBytes, true))
          .layers[1]
          .folded_input)
      << "an empty list keeps the decoder even with folding on";

  std::string bad = text;
  bad.replace(bad.find("folded: [b]"), 11, "folded: [a]");
  try {
    trace::parse_trace(bad, "bad.trace");
    FAIL() << "a layer cannot fold into itself";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("folded"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("bad.trace"), std::string::npos) << e.what();
  }
}

// 3x3 conv 512 -> 128 on 14x14 at 256 KiB: neither the input (98 KiB) nor the weights (576 KiB) fit
// twice, so the layer needs row and channel tiles. Uncompressed, the tiler keeps channels outside
// (each weight read once, inputs re-read per channel tile). Projected to k = 8, the channel-tiled
// encoder keeps 14x14x8 partial sums (6.1 KiB at 32 bits) and the same loop order stays
// available: weights are still read once; rows outside would re-read them per row tile.
TEST(ChannelTiledEncoder, ProjectedOutputKeepsChannelsOutsideAndReadsWeightsOnce) {
  testing::TraceBuilder builder({512, 14, 14});
  builder.conv("big", "input", 128, 3, 1, 1);
  builder.conv("next", "big", 8, 1);
  trace::Trace trace = builder.build();
  trace.layers[0].compression = trace::Compression{128, 8, 8, {}, {}, {}};
  const ArchSpec arch = test_arch(256 * 1024, false);
  const Placement p = place_tensors(trace, arch);
  ASSERT_TRUE(p.tensors[1].projected());
  const LayerScheduler scheduler(trace, p, arch);
  const Tiling tiling = scheduler.choose_tiling(0);
  EXPECT_EQ(tiling.order, LoopOrder::ChannelsOuter);
  EXPECT_GT(tiling.row_tiles, 1);
  EXPECT_GT(tiling.channel_tiles, 1);
  const LayerTraffic t = traffic_of(trace, arch, 0);
  EXPECT_EQ(t.weight_read, trace.layers[0].weight_bytes);
  EXPECT_EQ(t.encode_macs, 14 * 14 * 128 * 8);
  // The partial sums of every pixel (channels outside) against those of the current rows.
  EXPECT_EQ(scheduler.buffer_bytes(0, tiling.rows, tiling.channels, LoopOrder::ChannelsOuter) -
                scheduler.buffer_bytes(0, tiling.rows, tiling.channels, LoopOrder::RowsOuter),
            (14 - tiling.rows) * 14 * 8 * 4);
  EXPECT_LT(scheduler.predicted_dram_bytes(0, tiling.rows, tiling.channels, LoopOrder::ChannelsOuter),
            scheduler.predicted_dram_bytes(0, tiling.rows, tiling.channels, LoopOrder::RowsOuter));
}

TEST(ChannelTiledEncoder, AProjectionThatCannotBeTiledIsStoredUncompressed) {
  // A 1-row tile of a 64-wide map with k = 120 partial sums needs 64 x 120 x 4 = 30 KiB on top of
  // the staged tile; at 24 KiB the uncompressed layer fits, the projected one cannot.
  testing::TraceBuilder builder({16, 64, 64});
  builder.conv("a", "input", 128, 1);
  builder.conv("b", "a", 16, 1);
  trace::Trace trace = builder.build();
  trace.layers[0].compression = trace::Compression{128, 120, 8, {}, {}, {}};
  const ArchSpec arch = test_arch(24 * 1024, false);
  const Placement p = place_tensors(trace, arch);
  EXPECT_FALSE(p.tensors[1].projected());
  EXPECT_EQ(p.tensors[1].dropped, "buffer");
  const LayerScheduler scheduler(trace, p, arch);
  EXPECT_NO_THROW(scheduler.choose_tiling(0));
}

TEST(Batch, WorkloadBatchScalesActivationsNotWeights) {
  const trace::Trace trace = two_convs("none");
  ArchSpec arch = test_arch(buffer::kUnlimitedBytes, true);
  const LayerTraffic one = traffic_of(trace, arch, 1);
  arch.batch = 8;
  const LayerTraffic eight = traffic_of(trace, arch, 1);
  EXPECT_EQ(eight.activation_read, 8 * one.activation_read);
  EXPECT_EQ(eight.macs, 8 * one.macs);
  EXPECT_EQ(eight.weight_read, one.weight_read) << "weights are read once per batch when they fit";
}

}  // namespace
}  // namespace capsim::sim
