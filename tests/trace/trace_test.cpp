#include "capsim/trace/trace.hpp"

#include <gtest/gtest.h>

#include <regex>

#include "capsim/common/error.hpp"
#include "tiny_trace.hpp"

namespace capsim::trace {
namespace {

using testing::kTinyTrace;

std::string replace_once(std::string text, const std::string& from, const std::string& to) {
  auto pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << "fixture lacks: " << from;
  if (pos != std::string::npos) text.replace(pos, from.size(), to);
  return text;
}

std::string parse_error(const std::string& text) {
  try {
    parse_trace(text, "t.trace");
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "trace was accepted";
  return "";
}

TEST(Trace, ParsesTheHandWrittenNetwork) {
  Trace t = parse_trace(kTinyTrace, "tiny.trace");
  ASSERT_EQ(t.layers.size(), 6u);
  EXPECT_EQ(t.network.model, "tiny");
  EXPECT_EQ(t.network.input, (Shape{1, 8, 8}));
  EXPECT_EQ(t.layers[1].macs, 4608);
  EXPECT_EQ(t.layers[3].op, Op::Add);
  EXPECT_EQ(t.layers[4].pool, PoolKind::Avg);
  auto consumers = t.consumers();
  EXPECT_EQ(consumers[0], (std::vector<int>{1, 2}));  // conv1 feeds conv2 and the shortcut
  EXPECT_EQ(consumers[3], (std::vector<int>{4}));
  EXPECT_TRUE(consumers[5].empty());
  EXPECT_EQ(t.input_consumers(), (std::vector<int>{0}));
}

TEST(Trace, FormatThenParseIsIdentity) {
  Trace t = parse_trace(kTinyTrace, "tiny.trace");
  t.layers[1].compression = Compression{8, 3, 6, 2.5, 0.125};
  Trace back = parse_trace(format_trace(t), "again.trace");
  EXPECT_EQ(format_trace(back), format_trace(t));
  ASSERT_TRUE(back.layers[1].compression);
  EXPECT_EQ(back.layers[1].compression->k, 3);
  EXPECT_EQ(back.layers[1].compression->bits, 6);
  EXPECT_DOUBLE_EQ(*back.layers[1].compression->entropy_bits_per_value, 2.5);
}

TEST(Trace, DeriveCountsMatchesHandCounts) {
  Trace t = parse_trace(kTinyTrace, "tiny.trace");
  for (const Layer& original : t.layers) {
    Layer l = original;
    l.macs = l.ops = l.weights = l.weight_bytes = -1;
    derive_counts(l, t.precision);
    EXPECT_EQ(l.macs, original.macs) << l.name;
    EXPECT_EQ(l.ops, original.ops) << l.name;
    EXPECT_EQ(l.weights, original.weights) << l.name;
    EXPECT_EQ(l.weight_bytes, original.weight_bytes) << l.name;
  }
}

TEST(TraceErrors, WrongVersion) {
  EXPECT_EQ(parse_error(replace_once(kTinyTrace, "version: 1", "version: 2")),
            "t.trace:2: key 'version': expected 1 (this capsim reads trace format version 1), got '2'");
}

TEST(TraceErrors, UnknownProducer) {
  auto msg = parse_error(replace_once(kTinyTrace, "inputs: [conv2, short]", "inputs: [conv2, shortcut]"));
  EXPECT_NE(msg.find("key 'layers[3].inputs'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'shortcut' is not produced before 'join'"), std::string::npos) << msg;
}

TEST(TraceErrors, InconsistentOutputShape) {
  auto msg = parse_error(replace_once(kTinyTrace, "out_shape: [8, 4, 4]\n  kernel: [3, 3]",
                                      "out_shape: [8, 5, 4]\n  kernel: [3, 3]"));
  EXPECT_EQ(msg.rfind("t.trace:25: key 'layers[1].out_shape': expected 4", 0), 0u) << msg;
}

TEST(TraceErrors, InputShapeMustMatchProducer) {
  auto msg =
      parse_error(replace_once(kTinyTrace, "in_shape: [4, 8, 8]\n  out_shape: [8, 4, 4]\n  kernel: [1, 1]",
                               "in_shape: [4, 8, 9]\n  out_shape: [8, 4, 4]\n  kernel: [1, 1]"));
  EXPECT_NE(msg.find("key 'layers[2].in_shape': expected 4x8x8 (the shape 'conv1' produces)"),
            std::string::npos)
      << msg;
}

TEST(TraceErrors, WrongMacCount) {
  auto msg = parse_error(replace_once(kTinyTrace, "macs: 4608", "macs: 4600"));
  EXPECT_NE(msg.find("key 'layers[1].macs': expected 4608"), std::string::npos) << msg;
}

TEST(TraceErrors, AddNeedsEqualShapes) {
  auto msg = parse_error(replace_once(kTinyTrace, "inputs: [conv2, short]", "inputs: [conv2, conv1]"));
  EXPECT_NE(msg.find("'conv1' gives 4x8x8"), std::string::npos) << msg;
}

TEST(TraceErrors, CompressionKeptDimensionOutOfRange) {
  std::string text =
      std::string(kTinyTrace) + "  compression: {channels: 3, k: 4, bits: 8}\n";  // appended to fc: C = 3
  auto msg = parse_error(text);
  EXPECT_NE(msg.find("key 'layers[5].compression.k': expected an integer in [1, 3], got '4'"),
            std::string::npos)
      << msg;
}

TEST(TraceErrors, UnknownKeyAndNotATrace) {
  auto msg = parse_error(replace_once(kTinyTrace, "  groups: 1\n  macs: 512", "  grups: 1\n  macs: 512"));
  EXPECT_NE(msg.find("did you mean 'groups'?"), std::string::npos) << msg;
  EXPECT_NE(parse_error("[1, 2]").find("expected a capsim trace"), std::string::npos);
  EXPECT_NE(parse_error("format: capsim-plan\nversion: 1\n").find("key 'format': expected 'capsim-trace'"),
            std::string::npos);
}

TEST(TraceWriter, RefusesInconsistentTraces) {
  Trace t = parse_trace(kTinyTrace, "tiny.trace");
  t.layers[1].macs += 1;
  EXPECT_THROW(write_trace(t, "/tmp/never_written.trace"), std::logic_error);
}

}  // namespace
}  // namespace capsim::trace

namespace capsim::trace {
namespace {

TEST(TraceErrors, HugeShapesAreRejectedNotOverflowed) {
  auto msg = parse_error(replace_once(testing::kTinyTrace, "input: [1, 8, 8]", "input: [1, 8, 99999999]"));
  EXPECT_NE(msg.find("key 'network.input': expected [C, H, W] with each dimension at most 2^20"),
            std::string::npos)
      << msg;
}

}  // namespace
}  // namespace capsim::trace
