// Decoder folding: folded weights against decode-then-compute, the fold rule on the zoo, and the
// three zoo networks under real plans run both ways.
//
// Tolerances. In float64 the two networks differ only by the order of rounding in the folded
// sums: (W D) q + W mu instead of W (D q + mu). Each sum has at most C kh kw <= 4608 terms, so a
// layer's relative error is at most ~n u = 4608 x 1.1e-16 = 5e-13 (worst case; ~sqrt(n) u typical),
// and 15-20 such layers compound to ~1e-11. We allow 1e-9 of the logits' scale (max |logit|),
// two-sided. (In practice the next quantizer rounds both to the same level and the logits come
// out bit-identical; the bound is what the rounding argument guarantees.) A downstream quantizer could
// amplify such a difference to a whole step only when a value falls within ~1e-12 (relative) of a rounding
// boundary: with ~1e5 quantized values per image that has probability ~1e-7 per image, so it cannot happen in
// these tests. In float32 the same argument gives single layers ~1e-5 relative (checked directly on one
// folded layer).
#include "capsim/workloads/fold.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>

#include "capsim/trace/plan.hpp"
#include "capsim/workloads/compress.hpp"

namespace capsim::workloads {
namespace {

double max_abs(const torch::Tensor& t) { return t.abs().max().item<double>(); }

TEST(FoldConv, EqualsDecodeThenConvolveAndItsBiasMapDependsOnPosition) {
  torch::manual_seed(11);
  for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
    for (int stride : {1, 2}) {
      const auto opts = torch::TensorOptions().dtype(dtype);
      const auto w = torch::randn({5, 6, 3, 3}, opts);
      const auto d = torch::randn({6, 3}, opts);
      const auto mu = torch::randn({6}, opts) + 2.0;  // a mean far from 0: the border term matters
      const auto q = torch::randn({2, 3, 7, 9}, opts);
      const auto decoded = torch::conv2d(q, d.view({6, 3, 1, 1})) + mu.view({1, 6, 1, 1});
      const auto reference = torch::conv2d(decoded, w, {}, stride, 1);
      const FoldedConv f = fold_conv(w, stride, 1, d, mu, 7, 9);
      ASSERT_EQ(f.weight.sizes().vec(), (std::vector<std::int64_t>{5, 3, 3, 3}));
      ASSERT_EQ(f.weight.scalar_type(), dtype);
      const auto folded = torch::conv2d(q, f.weight, {}, stride, 1) + f.bias_map;
      const double tol = dtype == torch::kFloat64 ? 1e-12 : 1e-5;
      EXPECT_LE(max_abs(folded - reference), tol * max_abs(reference)) << "stride " << stride;
      // Interior positions see mu everywhere: sum of W mu. Corners see 4 of 9 taps (stride 1).
      const auto interior = (w * mu.view({1, 6, 1, 1})).sum({1, 2, 3});
      EXPECT_LE(max_abs(f.bias_map[0].select(1, 1).select(1, 1) - interior), tol * max_abs(interior));
      EXPECT_GT(max_abs(f.bias_map[0].select(1, 0).select(1, 0) - interior), 1e-3 * max_abs(interior))
          << "a constant bias W mu would be wrong at the border";
      // The mean term approximated by a constant would miss the border: the exact map is needed.
      const auto constant = torch::conv2d(q, f.weight, {}, stride, 1) + interior.view({1, 5, 1, 1});
      EXPECT_GT(max_abs(constant - reference), 1e3 * tol * max_abs(reference));
    }
  }
}

TEST(FoldLinear, FoldsPerPixelAfterFlatten) {
  torch::manual_seed(12);
  for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
    const auto opts = torch::TensorOptions().dtype(dtype);
    const auto w = torch::randn({4, 6 * 2 * 2}, opts);
    const auto d = torch::randn({6, 3}, opts);
    const auto mu = torch::randn({6}, opts);
    const auto q = torch::randn({5, 3, 2, 2}, opts);
    const auto decoded = torch::conv2d(q, d.view({6, 3, 1, 1})) + mu.view({1, 6, 1, 1});
    const auto reference = torch::linear(decoded.flatten(1), w);
    const FoldedLinear f = fold_linear(w, d, mu, 4);
    ASSERT_EQ(f.weight.sizes().vec(), (std::vector<std::int64_t>{4, 12}));
    const auto folded = torch::linear(q.flatten(1), f.weight, f.bias);
    const double tol = dtype == torch::kFloat64 ? 1e-12 : 1e-5;
    EXPECT_LE(max_abs(folded - reference), tol * max_abs(reference));
  }
}

TEST(FoldEdges, DenseConvsAndLinearsFoldDepthwisePoolsAndAddsDoNot) {
  for (const std::string model : {"resnet18", "mobilenetv2", "vgg16"}) {
    const ModelSpec spec = model_spec(model, ModelOptions{"cifar", 1, 10, 0.25});
    const auto edges = fold_edges(spec, {1, 32, 32}, trace::parse_plan_spec("uniform:0.5"));
    std::map<std::string, const NodeSpec*> by_name;
    for (const auto& n : spec.nodes) by_name[n.name] = &n;
    int folded = 0, kept = 0, depthwise = 0;
    for (const auto& e : edges) {
      const NodeSpec& c = *by_name.at(e.consumer);
      const bool dense = (c.op == NodeOp::Conv && c.groups == 1) || c.op == NodeOp::Linear;
      EXPECT_EQ(e.folded, dense) << model << ": " << e.point << " -> " << e.consumer;
      (e.folded ? folded : kept) += 1;
      depthwise += c.op == NodeOp::Conv && c.groups > 1;
    }
    EXPECT_GT(folded, 0) << model;
    if (model == "mobilenetv2") {
      EXPECT_GT(depthwise, 10) << "every block's depthwise conv keeps the decoder";
    }
    EXPECT_GT(kept, 0) << model << ": depthwise convs, residual adds and pools keep the decoder";
  }
  // resnet18's first block: conv1 -> conv2 folds; the stem's output also feeds the residual add.
  const auto edges = fold_edges(model_spec("resnet18", ModelOptions{"cifar", 1, 10, 0.25}), {1, 32, 32},
                                trace::parse_plan_spec("uniform:0.5"));
  auto has = [&](const FoldEdge& e) { return std::find(edges.begin(), edges.end(), e) != edges.end(); };
  EXPECT_TRUE(has({"layer1.0.conv1", "layer1.0.conv2", true}));
  EXPECT_TRUE(has({"conv1", "layer1.0.conv1", true}));
  EXPECT_TRUE(has({"conv1", "layer1.0", false}));
  EXPECT_TRUE(has({"avgpool", "fc", true}));
  EXPECT_TRUE(fold_edges(model_spec("resnet18", ModelOptions{"cifar", 1, 10, 0.25}), {1, 32, 32},
                         trace::parse_plan_spec("none"))
                  .empty())
      << "no projected point, no edge";
}

// The three zoo networks (cifar variant, width 0.125, random weights, calibrated on random
// images) under the greedy plan fixtures of tests/golden/plans (k scaled to the narrower network).
struct ZooUnderPlan {
  GraphNet net{nullptr};
  Calibration cal;
  trace::Plan plan;
  KeptDims k;
  trace::Shape input{1, 32, 32};
};

ZooUnderPlan zoo_under_plan(const std::string& model) {
  torch::manual_seed(13);
  ZooUnderPlan z;
  z.net = make_model(model, ModelOptions{"cifar", 1, 10, 0.125});
  z.net->eval();
  const auto images = torch::randn({12, 1, 32, 32});
  z.cal = calibrate(z.net, images, 12);
  z.plan = trace::read_plan(std::string(CAPSIM_SOURCE_DIR) + "/tests/golden/plans/" + model +
                            "_pca_greedy_drop1.yaml");
  z.k = dims_from_plan(z.cal, z.plan);
  return z;
}

torch::Tensor pipeline_logits(GraphNet net, const Compressor& compressor, const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  return net->forward(x, compressor.hook());
}

// Random weights give every input the same class. Centring the classifier's bias on the inputs'
// mean logits makes the argmax depend on the input, which the prediction-order check needs.
// Returns false when the network has no 10-element bias to centre.
bool centre_classifier_bias(GraphNet net, const Compressor& compressor, const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  torch::Tensor bias;
  for (auto& p : net->named_parameters())
    if (p.key().find("bias") != std::string::npos && p.value().dim() == 1 && p.value().numel() == 10)
      bias = p.value();
  if (!bias.defined()) return false;
  bias.sub_(net->forward(x, compressor.hook()).mean(0));
  return true;
}

class FoldedZoo : public ::testing::TestWithParam<std::string> {};

// 8-bit coefficients and 8-bit side data.
TEST_P(FoldedZoo, FoldedAndDecodedNetworksGiveTheSameLogits) {
  const std::string model = GetParam();
  const ZooUnderPlan z = zoo_under_plan(model);
  GraphNet net = z.net;  // a handle: forward is not const
  const KeptDims& k = z.k;
  int projected = 0;
  for (std::size_t p = 0; p < k.size(); ++p) projected += k[p] < z.cal.points[p].channels;
  ASSERT_GE(projected, 3) << "a plan with k < C at several points";
  QuantSettings q;
  q.coefficient_bits = 8;
  q.matrix_bits = 8;
  const Compressor compressor(z.cal, k, q);

  // The edges follow the simulator-side rule on the trace with the plan applied.
  const auto edges = fold_edges(net, compressor);
  EXPECT_EQ(edges, fold_edges(net->spec(), z.input, z.plan));
  const auto folded_edges =
      std::count_if(edges.begin(), edges.end(), [](const FoldEdge& e) { return e.folded; });
  EXPECT_GT(folded_edges, 0);

  const auto x = torch::randn({6, 1, 32, 32});
  ASSERT_TRUE(centre_classifier_bias(net, compressor, x));
  // float32: the decode-then-convolve evaluator is the pipeline's (Compressor::hook) exactly.
  FoldedNetwork f32(net, compressor, z.input, torch::kFloat32);
  EXPECT_EQ(f32.edges(), edges);
  EXPECT_TRUE(torch::equal(f32.forward_unfolded(x), pipeline_logits(net, compressor, x)));

  // float64: folded equals decoded to rounding (see the tolerance note at the top).
  FoldedNetwork f64(net, compressor, z.input, torch::kFloat64);
  const auto unfolded = f64.forward_unfolded(x);
  const auto folded = f64.forward_folded(x);
  ASSERT_EQ(folded.scalar_type(), torch::kFloat64);
  const double scale = max_abs(unfolded);
  EXPECT_LE(max_abs(folded - unfolded), 1e-9 * scale) << model;
  EXPECT_TRUE(torch::equal(folded.argmax(1), unfolded.argmax(1)));
  // Not vacuous: the plan changes the logits far beyond that tolerance.
  const auto plain = [&] {
    torch::NoGradGuard no_grad;
    return net->forward(x).to(torch::kFloat64);
  }();
  EXPECT_GT(max_abs(plain - unfolded), 1e-4 * scale) << "the projections must matter";

  // Labels equal to the predictions but the first and the fifth (two batches of 4): 4 of 6 correct,
  // and the predictions come back per image in input order across batches.
  const auto predicted = unfolded.argmax(1);
  ASSERT_GT(std::get<0>(torch::_unique(predicted)).numel(), 1) << "the order check needs differing classes";
  auto labels = predicted.clone();
  labels[0] = (predicted[0].item<std::int64_t>() + 1) % 10;
  labels[4] = (predicted[4].item<std::int64_t>() + 1) % 10;
  const FoldCheck check = check_folding(f64, x, labels, 4);
  EXPECT_EQ(check.images, 6);
  ASSERT_EQ(check.predictions.size(), 6U);
  for (std::int64_t i = 0; i < 6; ++i)
    EXPECT_EQ(check.predictions[static_cast<std::size_t>(i)], predicted[i].item<std::int64_t>()) << i;
  EXPECT_DOUBLE_EQ(check.accuracy_unfolded, 4.0 / 6.0);
  EXPECT_EQ(check.differing_predictions, 0);
  EXPECT_DOUBLE_EQ(check.accuracy_folded, check.accuracy_unfolded);
  EXPECT_LE(check.max_abs_logit_diff, 1e-9 * check.max_abs_logit);
}

// A mixed plan: every point at its own width (projected points 3-6 bits, clipped below 8; points
// kept at full dimension 4-8 bits) and bits spread over components by variance. fold-check must
// measure the network the study measured, so both runs quantize each point as the hook does.
TEST_P(FoldedZoo, MixedWidthsAndBitsPerComponentAreQuantizedAsThePipelineDoes) {
  const std::string model = GetParam();
  const ZooUnderPlan z = zoo_under_plan(model);
  QuantSettings q;
  q.matrix_bits = 8;
  q.component_bits = ComponentBits::variance;
  for (std::size_t p = 0; p < z.k.size(); ++p)
    q.point_bits.push_back(z.k[p] < z.cal.points[p].channels ? 3 + static_cast<int>(p % 4)
                                                             : 8 - static_cast<int>(p % 4));
  const Compressor mixed(z.cal, z.k, q);
  const auto x = torch::randn({6, 1, 32, 32});
  const auto pipeline = pipeline_logits(z.net, mixed, x);
  const double scale = max_abs(pipeline);

  // Not vacuous: the widths and the allocation over components each change the logits.
  QuantSettings uniform_components = q;
  uniform_components.component_bits = ComponentBits::uniform;
  const auto uniform_logits = pipeline_logits(z.net, Compressor(z.cal, z.k, uniform_components), x);
  EXPECT_GT(max_abs(uniform_logits - pipeline), 1e-4 * scale) << "bits per component must matter";
  const auto eight_bit_logits = pipeline_logits(z.net, Compressor(z.cal, z.k, q.with_point_bits({})), x);
  EXPECT_GT(max_abs(eight_bit_logits - pipeline), 1e-4 * scale) << "the widths must matter";

  FoldedNetwork f32(z.net, mixed, z.input, torch::kFloat32);
  EXPECT_TRUE(torch::equal(f32.forward_unfolded(x), pipeline)) << model;
  FoldedNetwork f64(z.net, mixed, z.input, torch::kFloat64);
  const auto unfolded = f64.forward_unfolded(x);
  EXPECT_LE(max_abs(f64.forward_folded(x) - unfolded), 1e-9 * max_abs(unfolded)) << model;
}

INSTANTIATE_TEST_SUITE_P(Zoo, FoldedZoo, ::testing::Values("resnet18", "mobilenetv2", "vgg16"));

}  // namespace
}  // namespace capsim::workloads
