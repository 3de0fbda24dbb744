#include "capsim/trace/plan.hpp"

#include <gtest/gtest.h>

#include "capsim/common/error.hpp"
#include "tiny_trace.hpp"

namespace capsim::trace {
namespace {

Trace tiny() { return parse_trace(testing::kTinyTrace, "tiny.trace"); }

TEST(Plan, NoneClearsCompression) {
  Trace t = tiny();
  t.layers[0].compression = Compression{4, 2, 8, {}, {}};
  apply_plan(t, parse_plan_spec("none"));
  for (const auto& l : t.layers) EXPECT_FALSE(l.compression) << l.name;
  EXPECT_EQ(t.plan, "none");
}

TEST(Plan, UniformKeepsRoundedFractionAndSparesTheNetworkOutput) {
  Trace t = tiny();
  apply_plan(t, parse_plan_spec("uniform:0.25:4"));
  EXPECT_EQ(t.layers[0].compression->k, 1);  // round(0.25 * 4)
  EXPECT_EQ(t.layers[1].compression->k, 2);  // round(0.25 * 8)
  EXPECT_EQ(t.layers[1].compression->bits, 4);
  EXPECT_FALSE(t.layers[5].compression) << "logits are not a compression point";
  EXPECT_EQ(t.plan, "uniform:0.25:4");
}

TEST(Plan, UniformNeverDropsBelowOneChannel) {
  Trace t = tiny();
  apply_plan(t, parse_plan_spec("uniform:0.01"));
  EXPECT_EQ(t.layers[0].compression->k, 1);
  EXPECT_EQ(t.layers[0].compression->bits, kDefaultCoefficientBits);
}

TEST(Plan, BadSpecsAreInputErrors) {
  for (const char* spec :
       {"uniform:0", "uniform:1.5", "uniform:x", "uniform:0.5:0", "uniform:0.5:abc", "half"}) {
    EXPECT_THROW(parse_plan_spec(spec), InputError) << spec;
  }
}

TEST(Plan, FileRoundTripAndScaledApplication) {
  Plan p;
  p.kind = Plan::Kind::PerLayer;
  p.name = "tiny-greedy";
  p.method = "greedy";
  p.layers["conv1"] = PlanEntry{2, 1, 8, 1.5, 0.25};  // learned on a half-width net: C = 2
  p.layers["join"] = PlanEntry{8, 3, 6, {}, {}};
  Plan back = parse_plan(format_plan(p), "p.yaml");
  EXPECT_EQ(format_plan(back), format_plan(p));

  Trace t = tiny();
  apply_plan(t, back);
  EXPECT_EQ(t.layers[0].compression->k, 2);  // 1 of 2 channels -> 2 of 4
  EXPECT_FALSE(t.layers[0].compression->nrmse) << "statistics do not transfer across shapes";
  EXPECT_EQ(t.layers[3].compression->k, 3);
  EXPECT_EQ(t.layers[3].compression->bits, 6);
  EXPECT_FALSE(t.layers[1].compression);
}

TEST(Plan, UnknownLayerIsNamedWithFileLineAndAHint) {
  const Plan p = parse_plan(
      "format: capsim-plan\nversion: 1\nname: greedy-4x\nlayers:\n  conv1: {channels: 4, k: 2}\n"
      "  conv3: {channels: 4, k: 2}\n",
      "plans/p.yaml");
  Trace t = tiny();
  try {
    apply_plan(t, p);
    FAIL();
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind("plans/p.yaml:6: key 'layers.conv3'", 0), 0u) << msg;
    EXPECT_NE(msg.find("did you mean 'conv1'?"), std::string::npos) << msg;
  }
}

TEST(Plan, ScaleK) {
  EXPECT_EQ(scale_k(16, 64, 64), 16);
  EXPECT_EQ(scale_k(16, 64, 16), 4);
  EXPECT_EQ(scale_k(1, 64, 16), 1);  // clamped at one channel
  EXPECT_EQ(scale_k(64, 64, 32), 32);
}

}  // namespace
}  // namespace capsim::trace
