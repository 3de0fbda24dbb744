// The compression pipeline on small tensors: PCA, projection, quantization, the cached greedy
// evaluator and the greedy allocation against a brute-force optimum.
#include "capsim/workloads/compress.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <numeric>
#include <set>

#include "capsim/common/error.hpp"
#include "capsim/trace/plan.hpp"
#include "capsim/workloads/greedy.hpp"
#include "capsim/workloads/study.hpp"
#include "capsim/workloads/train.hpp"

namespace capsim::workloads {
namespace {

NodeSpec conv1x1(const std::string& name, std::vector<int> inputs, std::int64_t in, std::int64_t out) {
  NodeSpec s;
  s.name = name;
  s.op = NodeOp::Conv;
  s.inputs = std::move(inputs);
  s.in_channels = in;
  s.out_channels = out;
  return s;
}

// input (4 channels) -> "planted" (8 channels that span only a 4-dimensional subspace, offset by
// a mean) -> "mix" (1x1 conv) -> global average -> "fc" (3 classes).
GraphNet planted_network(const torch::Tensor& basis_weight, const torch::Tensor& offset) {
  std::vector<NodeSpec> nodes = {conv1x1("planted", {-1}, 4, 8), conv1x1("mix", {0}, 8, 6)};
  NodeSpec pool;
  pool.name = "pool";
  pool.op = NodeOp::AdaptiveAvgPool;
  pool.inputs = {1};
  pool.adaptive_output = 1;
  NodeSpec fc;
  fc.name = "fc";
  fc.op = NodeOp::Linear;
  fc.inputs = {2};
  fc.in_channels = 6;
  fc.out_channels = 3;
  fc.bias = true;
  nodes.push_back(pool);
  nodes.push_back(fc);
  nodes[0].bias = true;
  GraphNet net(ModelInfo{"planted", ModelOptions{"cifar", 4, 3, 1.0}}, nodes);
  torch::NoGradGuard no_grad;
  net->conv_module(0)->weight.copy_(basis_weight.view({8, 4, 1, 1}));
  net->conv_module(0)->bias.copy_(offset);
  net->eval();
  return net;
}

TEST(Pca, RecoversAPlantedLowRankBasis) {
  torch::manual_seed(3);
  const auto weight = torch::randn({8, 4});
  const auto offset = torch::randn({8});
  GraphNet net = planted_network(weight, offset);
  const auto inputs = torch::randn({64, 4, 6, 6});
  const Calibration cal = calibrate(net, inputs, 16);
  ASSERT_EQ(cal.points.size(), 3u) << "planted, mix and pool are read by another layer; fc is the output";
  const auto& s = cal.stats[0];
  EXPECT_EQ(cal.points[0].name, "planted");
  EXPECT_EQ(cal.points[0].pixels, 36);
  // Four directions carry all the variance; the other four none.
  EXPECT_LT(s.variances.slice(0, 4).max().item<double>(), 1e-5 * s.variances[0].item<double>());
  EXPECT_NEAR(cal.explained(0, 4), 1.0, 1e-6);
  EXPECT_EQ(cal.k_for_variance(0, 0.999999), 4);
  // The top-4 directions span the columns of the planted weight.
  const auto v4 = s.basis.slice(1, 0, 4);
  const auto residual = weight - v4.mm(v4.t().mm(weight));
  EXPECT_LT(residual.norm().item<double>(), 1e-4 * weight.norm().item<double>());
  // The mean is the bias (inputs have zero mean in expectation).
  EXPECT_LT((s.mean - offset).abs().max().item<double>(), 0.3);
  // The basis is orthonormal.
  EXPECT_TRUE(torch::allclose(s.basis.t().mm(s.basis), torch::eye(8), 1e-4, 1e-4));
}

TEST(Projection, FullDimensionWithEnoughBitsReconstructsExactly) {
  torch::manual_seed(4);
  GraphNet net = planted_network(torch::randn({8, 4}), torch::randn({8}));
  const auto inputs = torch::randn({32, 4, 5, 5});
  const Calibration cal = calibrate(net, inputs, 16);
  QuantSettings q;
  q.coefficient_bits = 16;
  const auto raw = net->run_node(0, {inputs});
  for (std::int64_t k : {8, 4}) {  // all directions, and exactly the planted rank
    const Projection p = pca_projection(cal.stats[0], k);
    const auto out = reconstruct(&p, cal.stats[0], raw, q);
    EXPECT_LT((out - raw).abs().max().item<double>(), 1e-3 * raw.abs().max().item<double>()) << "k=" << k;
  }
  // Three directions lose the variance of the others (the fourth; the last four are ~0): the
  // squared error per value is the variance dropped, summed over directions, over C = 8 channels
  // (calibration saw exactly these pixels; biased covariance; 16-bit coefficients add ~nothing).
  const Projection p3 = pca_projection(cal.stats[0], 3);
  const auto out3 = reconstruct(&p3, cal.stats[0], raw, q);
  const double dropped = cal.stats[0].variances.slice(0, 3).sum().item<double>() / 8.0;
  ASSERT_GT(dropped, 0.0);
  EXPECT_NEAR((out3 - raw).pow(2).mean().item<double>(), dropped, 0.02 * dropped);
}

TEST(Quantization, RoundTripErrorIsBoundedByHalfAStep) {
  const auto x =
      torch::linspace(-3, 3, 601).view({1, 1, 601}).expand({1, 2, 601}).reshape({1, 2, 601, 1}).clone();
  const auto clip = torch::tensor({2.0f, 4.0f});
  for (int bits : {2, 4, 8}) {
    const double levels = std::ldexp(1.0, bits - 1) - 1;
    const auto q = fake_quantize_symmetric(x, clip, bits);
    for (int c = 0; c < 2; ++c) {
      const double step = clip[c].item<double>() / levels;
      const auto xc = x.select(1, c), qc = q.select(1, c);
      const auto inside = xc.abs() <= clip[c].item<double>();
      EXPECT_LE((qc - xc).abs().masked_select(inside).max().item<double>(), step / 2 + 1e-6) << bits;
      EXPECT_NEAR(qc.max().item<double>(), std::min(3.0, clip[c].item<double>()), step / 2 + 1e-6);
      EXPECT_LE(qc.abs().max().item<double>(), clip[c].item<double>() + 1e-6) << "saturates at the clip";
    }
  }
  // Asymmetric range quantization: 8 bits over [0, 255] is the identity on integers.
  const auto ints = torch::arange(0, 256, torch::kFloat32).view({1, 1, 256});
  const auto same = fake_quantize_range(ints, torch::tensor({0.0f}), torch::tensor({255.0f}), 8);
  EXPECT_TRUE(torch::allclose(same, ints));
}

// Side data at matrix_bits: one symmetric scale per row, max |row| / (2^(b-1) - 1); nothing clips,
// so every entry is within half a step of its value.
TEST(Quantization, MatrixRowsRoundTripWithinHalfAStepAt8And16Bits) {
  torch::manual_seed(21);
  // float64, so that the grid check below is not limited by float32's 24-bit mantissa at 16 bits.
  auto m = torch::randn({12, 40}, torch::kFloat64);
  m[3].mul_(100.0);  // rows of very different magnitude keep their own scales
  m[7].mul_(1e-3);
  double previous = 0;
  for (int bits : {8, 16}) {
    const double levels = std::ldexp(1.0, bits - 1) - 1;
    const auto q = fake_quantize_rows(m, bits);
    for (int r = 0; r < 12; ++r) {
      const double step = m[r].abs().max().item<double>() / levels;
      EXPECT_LE((q[r] - m[r]).abs().max().item<double>(), step / 2 * (1 + 1e-9))
          << bits << " bits, row " << r;
      // On the grid: integers times the row's step.
      const auto units = q[r] / step;
      EXPECT_LE((units - units.round()).abs().max().item<double>(), 1e-6) << bits;
    }
    const double error = (q - m).norm().item<double>() / m.norm().item<double>();
    EXPECT_GT(error, 0.0) << bits;
    if (bits == 16) {
      EXPECT_LT(error, previous / 100) << "256x finer steps";
    }
    previous = error;
  }
  EXPECT_TRUE(torch::equal(fake_quantize_rows(m, 32), m)) << ">= 32 bits: float, unchanged";
  EXPECT_THROW(fake_quantize_rows(m, 1), std::invalid_argument);
  // A projection's side data: E per row, D per column (one scale per direction), the mean as one vector.
  const Projection p{torch::randn({3, 8}), torch::randn({8, 3}), torch::randn({8}), torch::ones({3})};
  const Projection s = quantize_side_data(p, 8);
  for (int j = 0; j < 3; ++j) {
    const double step = p.decoder.select(1, j).abs().max().item<double>() / 127;
    EXPECT_LE((s.decoder.select(1, j) - p.decoder.select(1, j)).abs().max().item<double>(),
              step / 2 * (1 + 1e-5));
  }
  EXPECT_LE((s.mean - p.mean).abs().max().item<double>(),
            p.mean.abs().max().item<double>() / 254 * (1 + 1e-5));
  EXPECT_FALSE(torch::equal(s.encoder, p.encoder));
  EXPECT_TRUE(torch::equal(s.clip, p.clip));
}

// The pipeline measures what 8-bit side data costs: logits move, but boundedly.
TEST(Quantization, EightBitMatricesChangeLogitsByABoundedNonzeroAmount) {
  torch::manual_seed(22);
  GraphNet net = planted_network(torch::randn({8, 4}), torch::randn({8}));
  const auto inputs = torch::randn({32, 4, 5, 5});
  const Calibration cal = calibrate(net, inputs, 16);
  const KeptDims k{3, 4, cal.points[2].channels};
  auto logits = [&](int matrix_bits) {
    QuantSettings q;
    q.coefficient_bits = 16;  // fine coefficients: the difference is the matrices'
    q.baseline_bits = 16;
    q.matrix_bits = matrix_bits;
    const Compressor compressor(cal, k, q);
    torch::NoGradGuard no_grad;
    return net->forward(inputs, compressor.hook());
  };
  const auto exact = logits(32), m16 = logits(16), m8 = logits(8);
  const double scale = exact.abs().max().item<double>();
  const double d8 = (m8 - exact).abs().max().item<double>(), d16 = (m16 - exact).abs().max().item<double>();
  EXPECT_GT(d8, 0.0) << "8-bit matrices are applied, not only counted";
  // Entries off by at most 1/254 of their row's largest: a few tenths of a percent of the logits.
  EXPECT_LT(d8, 0.02 * scale);
  EXPECT_LT(d16, d8 / 20);
}

// A channel whose calibrated range excludes 0 (an average-pool output, say) is quantized over the
// range widened to contain 0: nothing inside [lo, hi] may be clipped.
TEST(Quantization, RangeNotContainingZeroIsWidenedNotClipped) {
  const auto x = torch::linspace(2.0, 10.0, 81).view({1, 1, 81});
  const auto q = fake_quantize_range(x, torch::tensor({2.0f}), torch::tensor({10.0f}), 8);
  const double step = 10.0 / 255;
  EXPECT_LE((q - x).abs().max().item<double>(), step / 2 + 1e-6);
  const auto negative = -x;
  const auto qn = fake_quantize_range(negative, torch::tensor({-10.0f}), torch::tensor({-2.0f}), 8);
  EXPECT_LE((qn - negative).abs().max().item<double>(), step / 2 + 1e-6);
}

TEST(Quantization, StraightThroughGradientPassesInsideTheClipRange) {
  auto x = torch::randn({2, 3, 4, 4}, torch::requires_grad());
  fake_quantize_symmetric(x, torch::ones({3}), 4).sum().backward();
  const auto inside = (torch::round(x.detach() * 7).abs() <= 7).to(torch::kFloat32);  // 4 bits: 7 levels
  EXPECT_TRUE(torch::allclose(x.grad(), inside)) << "1 inside [-clip, clip], 0 where the quantizer saturates";
}

// The cache must change nothing: a step evaluated from cached tensors equals a full forward pass.
TEST(CachedEvaluator, EqualsAFullForwardPassForEveryChange) {
  torch::manual_seed(5);
  GraphNet net = make_model("resnet18", ModelOptions{"cifar", 1, 10, 0.125});
  net->eval();
  const auto inputs = torch::randn({24, 1, 16, 16});
  const auto labels = torch::randint(0, 10, {24}, torch::kLong);
  const Calibration cal = calibrate(net, inputs, 8);
  QuantSettings q;
  CachedEvaluator evaluator(net, cal, inputs, labels, q, 8);
  KeptDims plan = full_dims(cal);
  evaluator.set_plan(plan);
  EXPECT_NEAR(evaluator.current().loss, evaluator.evaluate_uncached(plan).loss, 1e-5);
  for (std::size_t p : {std::size_t{0}, cal.points.size() / 2, cal.points.size() - 1}) {
    const std::int64_t k = std::max<std::int64_t>(1, cal.points[p].channels / 2);
    const EvalPoint cached = evaluator.try_change(p, k);
    KeptDims changed = plan;
    changed[p] = k;
    const EvalPoint full = evaluator.evaluate_uncached(changed);
    EXPECT_NEAR(cached.loss, full.loss, 1e-5) << cal.points[p].name;
    EXPECT_DOUBLE_EQ(cached.accuracy, full.accuracy) << cal.points[p].name;
    evaluator.commit();
    plan = changed;
    EXPECT_EQ(evaluator.plan(), plan);
  }
  EXPECT_NEAR(evaluator.current().loss, evaluator.evaluate_uncached(plan).loss, 1e-5) << "after commits";
}

// A plan with learned projections at three points (the PCA ones perturbed), the rest at full
// dimension: k per point, the projections in Compressor layout, and labels the uncompressed
// network predicts (so a worse reconstruction means a higher loss).
struct LearnedPlan {
  KeptDims k;
  std::vector<std::optional<Projection>> learned;
  std::vector<std::size_t> projected;
};

LearnedPlan learned_plan(const Calibration& cal, const std::vector<double>& noise) {
  LearnedPlan plan{full_dims(cal), std::vector<std::optional<Projection>>(cal.points.size()), {}};
  for (std::size_t p = 0; p < cal.points.size() && plan.projected.size() < noise.size(); ++p) {
    if (cal.points[p].channels < 4) continue;
    const double sigma = noise[plan.projected.size()];
    plan.k[p] = cal.points[p].channels / 2;
    Projection pr = pca_projection(cal.stats[p], plan.k[p]);
    pr.decoder = pr.decoder + sigma * torch::randn_like(pr.decoder);
    plan.learned[p] = pr;
    plan.projected.push_back(p);
  }
  return plan;
}

EvalResult evaluate_with(GraphNet& net, const Calibration& cal,
                         const std::vector<std::optional<Projection>>& projections, const QuantSettings& q,
                         const HeldOut& images) {
  const Compressor compressor(cal, projections, q);
  return evaluate(net, images.inputs, images.labels, 8, compressor.hook());  // the evaluators' batches
}

// With learned projections the cached evaluator still equals full forward passes: the plan as
// learned, then each point given back to PCA (try_pca), committed one after another.
TEST(CachedEvaluator, LearnedProjectionsAndTryPcaEqualFullForwardPasses) {
  torch::manual_seed(6);
  GraphNet net = make_model("resnet18", ModelOptions{"cifar", 1, 10, 0.125});
  net->eval();
  const auto inputs = torch::randn({24, 1, 16, 16});
  const auto labels = torch::randint(0, 10, {24}, torch::kLong);
  const Calibration cal = calibrate(net, inputs, 8);
  const LearnedPlan plan = learned_plan(cal, {0.2, 0.2, 0.2});
  ASSERT_EQ(plan.projected.size(), 3u);
  QuantSettings q;
  q.coefficient_bits = 6;
  CachedEvaluator evaluator(net, cal, inputs, labels, q, 8);
  evaluator.use_learned(plan.learned);
  auto projections = plan.learned;
  const EvalPoint learned = evaluator.set_plan(plan.k);
  EXPECT_NEAR(learned.loss, evaluate_with(net, cal, projections, q, {inputs, labels}).loss, 1e-5);
  EXPECT_NE(learned.loss, evaluator.evaluate_uncached(plan.k).loss) << "not vacuous: the learned ones differ";
  for (std::size_t p : plan.projected) {
    SCOPED_TRACE(cal.points[p].name);
    const EvalPoint cached = evaluator.try_pca(p);
    EXPECT_FALSE(evaluator.has_pending(p, plan.k[p])) << "a try_pca is not a try_change";
    projections[p] = pca_projection(cal.stats[p], plan.k[p]);
    const EvalResult full = evaluate_with(net, cal, projections, q, {inputs, labels});
    EXPECT_NEAR(cached.loss, full.loss, 1e-5);
    EXPECT_DOUBLE_EQ(cached.accuracy, full.accuracy);
    evaluator.commit();
    EXPECT_FALSE(evaluator.learned()[p].has_value()) << "committed: PCA from now on";
  }
  EXPECT_NEAR(evaluator.current().loss, evaluator.evaluate_uncached(plan.k).loss, 1e-5) << "all PCA again";
  EXPECT_THROW(evaluator.try_pca(plan.projected[0]), std::logic_error) << "nothing learned left there";
}

// The per-point fall-back gives a point back to PCA exactly when that lowers the held-out loss:
// a projection equal to PCA stays (no gain), a wrecked decoder goes back to PCA, a slightly
// perturbed one is decided by the loss; the loss it reports is the returned projections' own.
TEST(FallBack, RestoresPcaWhereTheLearnedProjectionLosesOnHeldOutImages) {
  torch::manual_seed(7);
  GraphNet net = make_model("resnet18", ModelOptions{"cifar", 1, 10, 0.125});
  net->eval();
  const auto inputs = torch::randn({32, 1, 16, 16});
  const Calibration cal = calibrate(net, inputs, 16);
  const auto x = torch::randn({32, 1, 16, 16});
  torch::Tensor own;
  {
    // A random network's logits are nearly flat: sharpen the classifier so that its own
    // predictions are confident and a worse reconstruction shows as a higher loss.
    torch::NoGradGuard no_grad;
    for (auto& parameter : net->parameters())
      if (parameter.dim() == 2) parameter.mul_(50.0);
    own = net->forward(x).argmax(1);
  }
  const HeldOut held_out{x, own};
  const LearnedPlan plan = learned_plan(cal, {0.0, 5.0, 0.05});
  ASSERT_EQ(plan.projected.size(), 3u);
  QuantSettings q;
  const PointFallBack fb = fall_back_per_point(net, cal, plan.k, q, plan.learned, held_out, 8);

  const std::size_t same = plan.projected[0], wrecked = plan.projected[1], mild = plan.projected[2];
  EXPECT_TRUE(std::find(fb.restored.begin(), fb.restored.end(), same) == fb.restored.end())
      << "equal to PCA: no gain, the learned one is kept";
  EXPECT_TRUE(std::find(fb.restored.begin(), fb.restored.end(), wrecked) != fb.restored.end());
  EXPECT_TRUE(torch::equal(fb.projections[wrecked]->decoder,
                           pca_projection(cal.stats[wrecked], plan.k[wrecked]).decoder));
  EXPECT_TRUE(torch::equal(fb.projections[same]->decoder, plan.learned[same]->decoder));
  for (std::size_t p = 0; p < cal.points.size(); ++p)
    EXPECT_EQ(fb.projections[p].has_value(), plan.k[p] < cal.points[p].channels) << "Compressor layout";

  // The reported losses are those of the learned and of the returned projections.
  EXPECT_NEAR(fb.learned.loss, evaluate_with(net, cal, plan.learned, q, held_out).loss, 1e-5);
  EXPECT_NEAR(fb.kept.loss, evaluate_with(net, cal, fb.projections, q, held_out).loss, 1e-5);
  EXPECT_LT(fb.kept.loss, fb.learned.loss) << "the wrecked decoder cost loss";
  // The mild point was decided against the plan with the wrecked one already restored.
  auto without_mild = fb.projections;
  const bool mild_restored = std::find(fb.restored.begin(), fb.restored.end(), mild) != fb.restored.end();
  without_mild[mild] = mild_restored ? plan.learned[mild] : pca_projection(cal.stats[mild], plan.k[mild]);
  const double other = evaluate_with(net, cal, without_mild, q, held_out).loss;
  EXPECT_LE(fb.kept.loss, other + 1e-5) << "the mild point took the better of learned and PCA";
}

// The mixed greedy on a tiny network: its first step is the move with the least validation-loss
// increase per activation bit saved over every point's "next lower k" and "next lower bits",
// each evaluated here on its own with a full forward pass (no cache, no lazy queue). Two menus:
// halving k against 4-bit storage (a k move wins), and a quarter of k against 6 bits (a bits
// move wins), so both kinds of choice are checked.
struct BestMove {
  std::string point;
  std::int64_t k = 0;
  int bits = 0;
};

BestMove brute_force_first_move(CachedEvaluator& evaluator, const Calibration& cal, const QuantSettings& q,
                                const GreedyOptions& options) {
  const KeptDims start = full_dims(cal);
  const PointBits start_bits(cal.points.size(), options.bit_levels[0]);
  const double start_loss = evaluator.evaluate_uncached(start, start_bits).loss;
  const double start_access = access_bits(cal.points, start, q.with_point_bits(start_bits), 8);
  const auto levels = dimension_levels(cal.points, options.fractions);
  double best = std::numeric_limits<double>::infinity();
  BestMove move;
  for (std::size_t p = 0; p < cal.points.size(); ++p) {
    for (bool bits_move : {false, true}) {
      KeptDims k = start;
      PointBits bits = start_bits;
      if (bits_move)
        bits[p] = options.bit_levels[1];
      else if (levels[p].size() > 1)
        k[p] = levels[p][1];
      else
        continue;
      const double saved = start_access - access_bits(cal.points, k, q.with_point_bits(bits), 8);
      const double metric = (evaluator.evaluate_uncached(k, bits).loss - start_loss) / saved;
      if (metric < best) {
        best = metric;
        move = {cal.points[p].name, k[p], bits[p]};
      }
    }
  }
  return move;
}

TEST(Greedy, FirstMixedStepOnATinyNetworkIsTheBruteForceBestMove) {
  torch::manual_seed(9);
  GraphNet net = make_model("resnet18", ModelOptions{"cifar", 1, 10, 0.125});
  net->eval();
  const auto inputs = torch::randn({24, 1, 16, 16});
  torch::Tensor labels;
  {
    // Confident own predictions (as in the fall-back test): compression then costs loss.
    torch::NoGradGuard no_grad;
    for (auto& parameter : net->parameters())
      if (parameter.dim() == 2) parameter.mul_(50.0);
    labels = net->forward(inputs).argmax(1);
  }
  const Calibration cal = calibrate(net, inputs, 8);
  const QuantSettings q;
  std::set<bool> kinds;  // true: the winning move lowered the bits
  for (const auto& [fractions, bit_levels] :
       {std::pair{std::vector<double>{1.0, 0.5}, std::vector<int>{8, 4}},
        std::pair{std::vector<double>{1.0, 0.03125}, std::vector<int>{8, 6}}}) {
    GreedyOptions options;
    options.fractions = fractions;
    options.bit_levels = bit_levels;
    options.max_reduction = 1.0;  // stop after the first step
    options.measure_uncached = false;
    CachedEvaluator evaluator(net, cal, inputs, labels, q, 8);
    const GreedyResult r = greedy_search(evaluator, cal.points, q, options, false);
    ASSERT_EQ(r.steps.size(), 2u);
    const BestMove best = brute_force_first_move(evaluator, cal, q, options);
    EXPECT_EQ(r.steps[1].point, best.point);
    EXPECT_EQ(r.steps[1].k, best.k);
    EXPECT_EQ(r.steps[1].bits, best.bits);
    kinds.insert(best.bits < bit_levels[0]);
  }
  EXPECT_EQ(kinds.size(), 2u) << "one menu chose a k move, the other a bits move";
}

// Additive convex costs with equal bits per step: greedy marginal allocation is optimal, so after
// every step its loss must equal the brute-force minimum over plans saving as many bits.
class TableObjective : public GreedyObjective {
 public:
  TableObjective(std::vector<std::vector<double>> cost, std::vector<std::int64_t> channels)
      : cost_(std::move(cost)), channels_(std::move(channels)) {}
  EvalPoint set_plan(const KeptDims& k, const PointBits& bits) override {
    k_ = k;
    bits_ = bits;
    current_ = score(k_);
    return current_;
  }
  EvalPoint try_change(std::size_t p, std::int64_t k, int bits) override {
    KeptDims next = k_;
    next[p] = k;
    pending_ = {p, k};
    EXPECT_LT(bits, 0) << "a k-only objective";
    return score(next);
  }
  bool has_pending(std::size_t p, std::int64_t k, int) const override {
    return pending_ == std::make_pair(p, k);
  }
  void commit() override {
    k_[pending_.first] = pending_.second;
    current_ = score(k_);
  }
  const KeptDims& plan() const override { return k_; }
  const PointBits& bits() const override { return bits_; }
  EvalPoint current() const override { return current_; }
  EvalPoint evaluate_uncached(const KeptDims& k, const PointBits&) override { return score(k); }
  double loss_of(const KeptDims& k) const { return score(k).loss; }

 private:
  EvalPoint score(const KeptDims& k) const {
    double loss = 1.0 - compensation_;
    for (std::size_t p = 0; p < k.size(); ++p)
      loss += cost_[p][static_cast<std::size_t>(channels_[p] - k[p])];
    return {loss, 1.0 - loss / 100.0};
  }

 public:
  double compensation_ = 0;  // loss that learning gives back (the interleaved search)

 private:
  std::vector<std::vector<double>> cost_;  // cost_[p][channels dropped]
  std::vector<std::int64_t> channels_;
  KeptDims k_;
  PointBits bits_;
  EvalPoint current_;
  std::pair<std::size_t, std::int64_t> pending_{~std::size_t{0}, 0};
};

TEST(Greedy, PicksTheBruteForceOptimumOnASyntheticConvexTable) {
  // Four points of 4 channels (k = 4, 3, 2, 1); every step saves one channel of the same size.
  const std::vector<std::vector<double>> cost = {
      {0, 0.1, 0.5, 2.0}, {0, 0.02, 0.05, 3.0}, {0, 0.3, 0.7, 1.2}, {0, 0.04, 0.3, 0.9}};
  std::vector<CompressionPoint> points;
  for (int p = 0; p < 4; ++p) points.push_back({p, "p" + std::to_string(p), 4, 10, 1});
  TableObjective objective(cost, {4, 4, 4, 4});
  GreedyOptions options;
  options.fractions = {1.0, 0.75, 0.5, 0.25};
  options.max_accuracy_drop = 1.0;
  options.max_reduction = 1e9;
  options.measure_uncached = false;
  QuantSettings q;
  const GreedyResult result = greedy_search(objective, points, q, options, false);
  ASSERT_EQ(result.steps.size(), 1u + 4 * 3) << "every level of every point, then no candidates left";

  std::map<int, double> best;  // channels dropped in total -> minimum loss
  for (int a = 1; a <= 4; ++a)
    for (int b = 1; b <= 4; ++b)
      for (int c = 1; c <= 4; ++c)
        for (int d = 1; d <= 4; ++d) {
          const KeptDims k{a, b, c, d};
          const int dropped = 16 - a - b - c - d;
          const double loss = objective.loss_of(k);
          if (!best.count(dropped) || loss < best[dropped]) best[dropped] = loss;
        }
  for (const auto& step : result.steps) {
    int dropped = 0;
    for (auto k : step.plan) dropped += static_cast<int>(4 - k);
    EXPECT_EQ(dropped, step.step) << "one channel per step";
    EXPECT_NEAR(step.val_loss, best[dropped], 1e-12) << "step " << step.step;
  }
  EXPECT_GT(result.steps.back().reduction.vs_b8, result.steps[1].reduction.vs_b8);
}

// With a hardware objective the denominator is the cost decrease of the whole plan. Point 0's
// first step raises the cost (its side data outweighs what k = 3 saves) but k = 2 saves: the
// search jumps there. Point 1 only ever raises the cost: never touched. Point 2's steps save, but
// its second step only pays once point 3 has been reduced (a consumer that folds): it waits
// and is taken after. No step raises the cost; the steps are ordered by loss per cost saved.
TEST(Greedy, HardwareObjectiveNeverRaisesTheCostAndSkipsLevelsThatDo) {
  const std::vector<std::vector<double>> loss = {
      {0, 0.1, 0.2, 0.3}, {0, 0.01, 0.02, 0.03}, {0, 0.05, 0.1, 0.15}, {0, 0.2, 0.4, 0.6}};
  std::vector<CompressionPoint> points;
  for (int p = 0; p < 4; ++p) points.push_back({p, "p" + std::to_string(p), 4, 10, 1});
  TableObjective objective(loss, {4, 4, 4, 4});
  auto cost = [](const KeptDims& k) {
    double c = 100;
    c += k[0] == 3 ? 5 : k[0] == 2 ? -10 : k[0] == 1 ? -12 : 0;  // k = 3 costs, lower saves
    c += (4 - static_cast<double>(k[1])) * 3;                    // every step costs
    c -= k[2] <= 3 ? 4 : 0;                                      // first step saves
    c -= k[2] <= 2 && k[3] <= 3 ? 6 : 0;                         // second pays only after p3
    c += k[2] <= 2 && k[3] > 3 ? 1 : 0;
    c -= k[2] <= 1 ? 1 : 0;
    c -= (4 - static_cast<double>(k[3])) * 1;
    return c;
  };
  GreedyOptions options;
  options.fractions = {1.0, 0.75, 0.5, 0.25};
  options.max_accuracy_drop = 1.0;
  options.max_reduction = 1e9;
  options.measure_uncached = false;
  options.hardware_cost = [&cost](const KeptDims& k, const PointBits&) { return cost(k); };
  QuantSettings q;
  const GreedyResult result = greedy_search(objective, points, q, options, false);
  ASSERT_GE(result.steps.size(), 2u);
  EXPECT_DOUBLE_EQ(result.steps.front().hardware_cost, 100.0);
  for (std::size_t i = 1; i < result.steps.size(); ++i) {
    EXPECT_LT(result.steps[i].hardware_cost, result.steps[i - 1].hardware_cost) << "step " << i;
    EXPECT_DOUBLE_EQ(result.steps[i].hardware_cost, cost(result.steps[i].plan));
    EXPECT_NE(result.steps[i].plan[0], 3) << "k = 3 at point 0 raises the cost: skipped";
    EXPECT_EQ(result.steps[i].plan[1], 4) << "point 1 never pays";
  }
  const KeptDims& last = result.steps.back().plan;
  EXPECT_EQ(last[0], 1);
  EXPECT_EQ(last[2], 1) << "point 2's later steps were taken once point 3 made them pay";
  EXPECT_EQ(last[3], 1);
  // The best loss per cost saved first: p2 -> 3 (0.05 / 4), then p0 jumping to 2 (0.2 / 10), then
  // p0 -> 1 (0.1 / 2), then p3 -> 3 (0.2 / 1), which lets p2 -> 2 pay (0.05 / 6).
  ASSERT_GE(result.steps.size(), 6u);
  EXPECT_EQ(result.steps[1].point, "p2");
  EXPECT_EQ(result.steps[1].k, 3);
  EXPECT_EQ(result.steps[2].point, "p0");
  EXPECT_EQ(result.steps[2].k, 2);
  EXPECT_EQ(result.steps[3].point, "p0");
  EXPECT_EQ(result.steps[4].point, "p3");
  EXPECT_EQ(result.steps[5].point, "p2");
  EXPECT_EQ(result.steps[5].k, 2);
}

GreedyOptions exhaustive_options() {
  GreedyOptions options;
  options.fractions = {1.0, 0.75, 0.5, 0.25};
  options.max_accuracy_drop = 1.0;
  options.max_reduction = 1e9;
  options.measure_uncached = false;
  return options;
}

// The metric divides the loss increase by the activation bits a step saves: (1 + consumers) x
// pixels x (C x b0 - k x b) for a point's first step, x (k - k') x b after. With b0 = 16, b = 8:
// a (10 pixels): first step saves 2 x 10 x (64 - 24) = 800 bits, later steps 160;
// b (40 pixels): first 3200, later 640. Loss per bit, hand-computed: b->3 0.2/3200 = 6.3e-5,
// a->3 0.08/800 = 1e-4, a->2 and a->1 0.02/160 = 1.25e-4, b->2 0.3/640 = 4.7e-4, b->1 likewise.
// Without the division a (0.08) would go first; with b0 taken as 8, b->2 (4.7e-4) would come
// before a->3 (0.08/160 = 5e-4).
TEST(Greedy, MetricIsLossPerActivationBitSavedAtTheBaselineBits) {
  std::vector<CompressionPoint> points = {{0, "a", 4, 10, 1}, {1, "b", 4, 40, 1}};
  TableObjective objective({{0, 0.08, 0.10, 0.12}, {0, 0.2, 0.5, 0.8}}, {4, 4});
  QuantSettings q;
  q.baseline_bits = 16;
  const GreedyResult result = greedy_search(objective, points, q, exhaustive_options(), false);
  std::vector<std::pair<std::string, std::int64_t>> order;
  for (std::size_t i = 1; i < result.steps.size(); ++i)
    order.emplace_back(result.steps[i].point, result.steps[i].k);
  const std::vector<std::pair<std::string, std::int64_t>> expected = {{"b", 3}, {"a", 3}, {"a", 2},
                                                                      {"a", 1}, {"b", 2}, {"b", 1}};
  EXPECT_EQ(order, expected);
}

// Stop rules: the search stops after the first step whose validation accuracy is more than
// max_accuracy_drop below the start's, or whose reduction against 8-bit activations reaches
// max_reduction; that step is the last one recorded.
// Compression-aware search: when after_step says learning changed the objective, the step is
// measured again and every candidate re-evaluated, so the stop rule and the next choices see the
// compensated network. The table below stops after step 2 without learning (as in the test after
// this one); learning that gives back 0.5 loss after step 1 lets it take step 3.
TEST(Greedy, AfterStepLearningIsMeasuredAgainAndTheSearchGoesOn) {
  const std::vector<CompressionPoint> points = {{0, "p", 4, 1, 0}};
  const std::vector<std::vector<double>> loss = {{0, 0.5, 1.0, 1.5}};
  QuantSettings q;
  TableObjective objective(loss, {4});
  GreedyOptions options = exhaustive_options();
  options.max_accuracy_drop = 0.0075;
  std::vector<int> called;
  options.after_step = [&](int step, const Reduction& r) {
    called.push_back(step);
    EXPECT_GT(r.vs_b8, 1.0);
    if (step != 1) return false;
    objective.compensation_ = 0.5;
    return true;
  };
  const GreedyResult r = greedy_search(objective, points, q, options, false);
  ASSERT_EQ(r.steps.size(), 4u) << "drops 0, 0.005, then 0.010 past the budget";
  EXPECT_DOUBLE_EQ(r.steps[1].val_loss, 1.0) << "step 1 measured again after learning";
  EXPECT_DOUBLE_EQ(r.steps[1].val_accuracy, r.steps[0].val_accuracy);
  EXPECT_DOUBLE_EQ(r.steps[2].val_loss, 1.5);
  EXPECT_EQ(r.steps.back().k, 1);
  EXPECT_EQ(called, (std::vector<int>{1, 2, 3}));
}

TEST(Greedy, StopsAtTheFirstStepPastTheAccuracyDropOrReachingTheReduction) {
  // One point of 4 channels, 1 pixel, no consumer: access bits 32, 24, 16, 8 at k = 4, 3, 2, 1,
  // reductions 4/3, 2, 4. TableObjective's accuracy is 1 - loss / 100: every step below costs
  // 0.5 loss, 0.005 accuracy.
  const std::vector<CompressionPoint> points = {{0, "p", 4, 1, 0}};
  const std::vector<std::vector<double>> loss = {{0, 0.5, 1.0, 1.5}};
  QuantSettings q;
  {
    TableObjective objective(loss, {4});
    GreedyOptions options = exhaustive_options();
    options.max_accuracy_drop = 0.0075;  // exceeded at step 2 (0.010), not at step 1 (0.005)
    const GreedyResult r = greedy_search(objective, points, q, options, false);
    ASSERT_EQ(r.steps.size(), 3u);
    EXPECT_EQ(r.steps.back().k, 2);
    EXPECT_NEAR(r.steps.front().val_accuracy - r.steps.back().val_accuracy, 0.010, 1e-12);
  }
  {
    TableObjective objective(loss, {4});
    GreedyOptions options = exhaustive_options();
    options.max_reduction = 2.0;  // reached exactly at k = 2
    const GreedyResult r = greedy_search(objective, points, q, options, false);
    ASSERT_EQ(r.steps.size(), 3u);
    EXPECT_EQ(r.steps.back().k, 2);
    EXPECT_DOUBLE_EQ(r.steps.back().reduction.vs_b8, 2.0);
    EXPECT_DOUBLE_EQ(r.steps[1].reduction.vs_b8, 4.0 / 3.0);
  }
  {
    TableObjective objective(loss, {4});
    GreedyOptions options = exhaustive_options();
    options.max_reduction = 1.9;        // passed at k = 2 as well
    options.max_accuracy_drop = 0.004;  // already exceeded at step 1: one step only
    const GreedyResult r = greedy_search(objective, points, q, options, false);
    ASSERT_EQ(r.steps.size(), 2u);
    EXPECT_EQ(r.steps.back().k, 3);
  }
  {
    TableObjective objective(loss, {4});
    const GreedyResult r = greedy_search(objective, points, q, exhaustive_options(), false);
    EXPECT_EQ(r.steps.size(), 4u) << "no stop rule: every level down to k = 1";
    EXPECT_DOUBLE_EQ(r.steps.back().reduction.vs_b8, 4.0);
  }
}

TEST(Plans, RoundTripThroughPlanFiles) {
  torch::manual_seed(6);
  GraphNet net = planted_network(torch::randn({8, 4}), torch::randn({8}));
  const Calibration cal = calibrate(net, torch::randn({8, 4, 5, 5}), 8);
  const KeptDims k{3, 4, cal.points[2].channels};  // planted 8 -> 3, mix 6 -> 4, pool kept
  QuantSettings q;
  const trace::Plan plan = to_plan(cal, k, q, "roundtrip", "test", {{2.5, 0.1}, {3.0, 0.2}, {1.0, 0.0}});
  const std::string file = (std::filesystem::temp_directory_path() / "capsim_roundtrip_plan.yaml").string();
  trace::write_plan(plan, file);
  const trace::Plan back = trace::read_plan(file);
  EXPECT_EQ(dims_from_plan(cal, back), k);
  EXPECT_EQ(back.layers.size(), 2u) << "points kept at full dimension are not listed";
  EXPECT_DOUBLE_EQ(*back.layers.at("planted").entropy_bits_per_value, 2.5);
  std::filesystem::remove(file);
}

TEST(Costs, AccessBitsCountWritesAndReadsAndOverheadCountsMatrices) {
  std::vector<CompressionPoint> points = {{0, "a", 16, 100, 2}, {1, "b", 8, 25, 1}};
  QuantSettings q;
  // a: written once, read twice: 3 x 100 pixels x 16 channels x 8 bits; b: 2 x 25 x 8 x 8.
  EXPECT_DOUBLE_EQ(access_bits(points, {16, 8}, q, 8), 3 * 100 * 16 * 8 + 2 * 25 * 8 * 8);
  EXPECT_DOUBLE_EQ(access_bits(points, {16, 8}, q, 16), 2 * (3 * 100 * 16 * 8 + 2 * 25 * 8 * 8));
  EXPECT_DOUBLE_EQ(access_bits(points, {4, 8}, q, 8), 3 * 100 * 4 * 8 + 2 * 25 * 8 * 8);
  // a projected to 4: (4x16 matrix + 16 means + 4 scales) x 16 bits, fetched 3 times.
  EXPECT_DOUBLE_EQ(overhead_bits(points, {4, 8}, q), 3 * (64 + 16 + 4) * 16);
  const Reduction r = reduction_of(points, {4, 8}, q);
  EXPECT_NEAR(r.vs_b8, (3 * 100 * 16 * 8 + 2 * 25 * 64) / double(3 * 100 * 4 * 8 + 2 * 25 * 64), 1e-12);
  EXPECT_LT(r.vs_b8_with_overhead, r.vs_b8);
  // Against 16-bit the plan keeps the bits it is measured with: b stays at the 8-bit baseline, so
  // both references see the same plan bits and the reduction doubles (the old accounting counted
  // b at 16 bits: (3*100*16*16 + 2*25*8*16) / (3*100*4*8 + 2*25*8*16), below 2x vs_b8).
  const double plan_bits = 3 * 100 * 4 * 8 + 2 * 25 * 64;
  EXPECT_DOUBLE_EQ(r.vs_b16, 2 * (3 * 100 * 16 * 8 + 2 * 25 * 64) / plan_bits);
  EXPECT_DOUBLE_EQ(r.vs_b16, 2 * r.vs_b8);
  EXPECT_DOUBLE_EQ(r.vs_b16_with_overhead,
                   2 * (3 * 100 * 16 * 8 + 2 * 25 * 64) / (plan_bits + 3 * (64 + 16 + 4) * 16));
  // A baseline of 16 bits (b0 = 16) stores b at 16 bits, and both references see that.
  q.baseline_bits = 16;
  const Reduction r16 = reduction_of(points, {4, 8}, q);
  EXPECT_DOUBLE_EQ(r16.vs_b16, 2 * (3 * 100 * 16 * 8 + 2 * 25 * 64) / (3 * 100 * 4 * 8 + 2 * 25 * 8 * 16.0));
  EXPECT_DOUBLE_EQ(r16.vs_b8, r16.vs_b16 / 2);
}

TEST(Baselines, UniformVarianceAndCeilingAllocations) {
  torch::manual_seed(7);
  GraphNet net = planted_network(torch::randn({8, 4}), torch::randn({8}));
  const Calibration cal = calibrate(net, torch::randn({32, 4, 5, 5}), 8);
  EXPECT_EQ(uniform_dims(cal, 0.5)[0], 4);
  EXPECT_EQ(uniform_dims(cal, 0.01)[0], 1);
  EXPECT_EQ(variance_dims(cal, 0.999999)[0], 4) << "the planted rank";
  QuantSettings q;
  // "planted" is 8 channels x 25 pixels x 8 bits = 1600 bits; a 400-bit ceiling keeps 2 coefficients.
  const KeptDims ceiling = ceiling_dims(cal, q, 400);
  EXPECT_EQ(ceiling[0], 2);
  EXPECT_EQ(ceiling[2], cal.points[2].channels) << "the pooled 6-value tensor is under the ceiling";
}

}  // namespace
}  // namespace capsim::workloads

namespace capsim::workloads {
namespace {

TEST(Finetune, ChangesOnlyTheProjectionsAndRestoresTheBackbone) {
  torch::manual_seed(8);
  GraphNet net = make_model("resnet18", ModelOptions{"cifar", 1, 10, 0.125});
  net->train();
  const auto inputs = torch::randn({32, 1, 16, 16});
  const auto labels = torch::randint(0, 10, {32}, torch::kLong);
  const Calibration cal = calibrate(net, inputs, 16);
  std::vector<torch::Tensor> before;
  for (const auto& t : net->parameters()) before.push_back(t.detach().clone());
  for (const auto& t : net->buffers()) before.push_back(t.detach().clone());
  KeptDims k = full_dims(cal);
  k[0] = std::max<std::int64_t>(1, cal.points[0].channels / 2);
  FinetuneOptions options;
  options.steps = 3;
  options.batch_size = 8;
  options.lr = 1e-2;
  QuantSettings q;
  const auto projections =
      finetune_projections(net, cal, k, q, inputs, labels, options, {}, false).projections;

  std::size_t i = 0;
  for (const auto& t : net->parameters()) {
    EXPECT_TRUE(torch::equal(t, before[i++])) << "backbone weights are frozen";
    EXPECT_TRUE(t.requires_grad()) << "requires_grad restored";
  }
  for (const auto& t : net->buffers())
    EXPECT_TRUE(torch::equal(t, before[i++])) << "batch-norm statistics untouched";
  EXPECT_TRUE(net->is_training()) << "training flag restored";
  ASSERT_TRUE(projections[0].has_value());
  EXPECT_FALSE(projections[1].has_value()) << "k == C: no projection";
  const Projection init = pca_projection(cal.stats[0], k[0]);
  // Learned, and finite (NaN differs from everything too). Adam moves an entry at most about lr per
  // step (|m^| / sqrt(v^) <= 1.06 over three steps): the cosine schedule's lr x (1 + 0.75 + 0.25).
  for (const auto& [learned, start] :
       {std::pair{projections[0]->encoder, init.encoder}, std::pair{projections[0]->decoder, init.decoder}}) {
    ASSERT_TRUE(torch::isfinite(learned).all().item<bool>());
    const double moved = (learned - start).abs().max().item<double>();
    EXPECT_GT(moved, 0.0) << "the projection learned something";
    EXPECT_LE(moved, 1.06 * 2.0 * options.lr);
  }
}

// With a backbone rate the network's weights learn too, in their own Adam group: Adam's first step
// moves every entry with a non-zero gradient by exactly its group's rate (m^ / sqrt(v^) = g / |g|),
// so the projections move by lr and the backbone by backbone_lr. The network leaves with the
// weights it came with; the learned ones come back in the result.
TEST(Finetune, ABackboneRateTrainsTheWeightsInTheirOwnGroupAndReturnsThem) {
  torch::manual_seed(8);
  GraphNet net = make_model("resnet18", ModelOptions{"cifar", 1, 10, 0.125});
  const auto inputs = torch::randn({16, 1, 16, 16});
  const auto labels = torch::randint(0, 10, {16}, torch::kLong);
  const Calibration cal = calibrate(net, inputs, 16);
  const BackboneWeights before = backbone_weights(net);
  KeptDims k = full_dims(cal);
  k[0] = std::max<std::int64_t>(1, cal.points[0].channels / 2);
  FinetuneOptions options;
  options.steps = 1;
  options.batch_size = 8;
  options.lr = 1e-2;
  options.backbone_lr = 1e-3;
  options.distillation_weight = 1.0;  // from a copy of the network as it came
  const Finetuned tuned =
      finetune_projections(net, cal, k, QuantSettings{}, inputs, labels, options, {}, false);

  const auto after = net->parameters();
  ASSERT_EQ(tuned.backbone.size(), after.size());
  double backbone_moved = 0;
  for (std::size_t i = 0; i < after.size(); ++i) {
    EXPECT_TRUE(torch::equal(after[i], before[i])) << "the network leaves as it came, parameter " << i;
    ASSERT_TRUE(torch::isfinite(tuned.backbone[i]).all().item<bool>());
    backbone_moved = std::max(backbone_moved, (tuned.backbone[i] - before[i]).abs().max().item<double>());
  }
  EXPECT_NEAR(backbone_moved, options.backbone_lr, 1e-3 * options.backbone_lr);
  ASSERT_TRUE(tuned.projections[0].has_value());
  const double projection_moved =
      (tuned.projections[0]->encoder - pca_projection(cal.stats[0], k[0]).encoder).abs().max().item<double>();
  EXPECT_NEAR(projection_moved, options.lr, 1e-3 * options.lr);

  // Frozen (the default), nothing comes back and the result is the projections' alone.
  options.backbone_lr = 0;
  EXPECT_TRUE(finetune_projections(net, cal, k, QuantSettings{}, inputs, labels, options, {}, false)
                  .backbone.empty());
}

// A BackboneSwap installs weights for its lifetime and restores the network's own on the way out;
// empty weights are no swap, and weights of another network are refused before anything changes.
TEST(Finetune, BackboneSwapInstallsAndRestores) {
  torch::manual_seed(8);
  GraphNet net = make_model("resnet18", ModelOptions{"cifar", 1, 10, 0.125});
  const BackboneWeights own = backbone_weights(net);
  BackboneWeights other;
  for (const auto& t : own) other.push_back(t + 1.0);
  {
    const BackboneSwap swap(net, other);
    EXPECT_TRUE(torch::equal(net->parameters()[0], other[0]));
    EXPECT_TRUE(torch::equal(net->parameters().back(), other.back()));
  }
  for (std::size_t i = 0; i < own.size(); ++i) EXPECT_TRUE(torch::equal(net->parameters()[i], own[i])) << i;
  { const BackboneSwap none(net, {}); }
  EXPECT_TRUE(torch::equal(net->parameters()[0], own[0]));
  BackboneWeights short_by_one(other.begin(), other.end() - 1);
  EXPECT_THROW(BackboneSwap(net, short_by_one), std::invalid_argument);
  BackboneWeights misshapen = other;
  misshapen[0] = torch::zeros({1});
  EXPECT_THROW(BackboneSwap(net, misshapen), std::invalid_argument);
  for (std::size_t i = 0; i < own.size(); ++i) EXPECT_TRUE(torch::equal(net->parameters()[i], own[i])) << i;
}

// measure_points runs the network with the compressor's backbone weights, exactly as if they were
// installed by hand, and not with the network's own.
TEST(Finetune, MeasurePointsRunsWithTheCompressorsBackbone) {
  torch::manual_seed(8);
  GraphNet net = make_model("resnet18", ModelOptions{"cifar", 1, 10, 0.125});
  const auto inputs = torch::randn({16, 1, 16, 16});
  const Calibration cal = calibrate(net, inputs, 16);
  KeptDims k = full_dims(cal);
  k[0] = std::max<std::int64_t>(1, cal.points[0].channels / 2);
  BackboneWeights other;
  for (const auto& t : backbone_weights(net)) other.push_back(t + 0.2 * torch::randn_like(t));
  const Compressor plain(cal, k, QuantSettings{});
  Compressor tuned(cal, k, QuantSettings{});
  tuned.with_backbone(other);
  const auto with_weights = measure_points(net, tuned, inputs);
  const auto own_weights = measure_points(net, plain, inputs);
  std::vector<PointMeasure> by_hand;
  {
    const BackboneSwap swap(net, other);
    by_hand = measure_points(net, plain, inputs);
  }
  double differs = 0;
  for (std::size_t p = 0; p < with_weights.size(); ++p) {
    EXPECT_DOUBLE_EQ(with_weights[p].nrmse, by_hand[p].nrmse) << p;
    EXPECT_DOUBLE_EQ(with_weights[p].entropy_bits_per_value, by_hand[p].entropy_bits_per_value) << p;
    differs += std::abs(with_weights[p].entropy_bits_per_value - own_weights[p].entropy_bits_per_value);
  }
  EXPECT_GT(differs, 1e-3) << "the weights change what the points hold";
  EXPECT_TRUE(torch::equal(net->parameters()[0], backbone_weights(net)[0]));
}

// Early stopping with the backbone learning: the weights kept are those of the kept step (not the
// last: the held-out loss rises after it), so the kept projections with them give back exactly
// the held-out loss recorded for it.
TEST(Finetune, EarlyStoppingKeepsTheBackboneOfTheKeptStep) {
  torch::manual_seed(9);
  GraphNet net = make_model("resnet18", ModelOptions{"cifar", 1, 10, 0.125});
  const auto inputs = torch::randn({32, 1, 16, 16});
  const auto labels = torch::randint(0, 10, {32}, torch::kLong);
  const HeldOut held_out{inputs.slice(0, 0, 16), labels.slice(0, 0, 16)};  // learnable: loss falls
  const Calibration cal = calibrate(net, inputs, 16);
  KeptDims k = full_dims(cal);
  k[0] = std::max<std::int64_t>(1, cal.points[0].channels / 4);
  FinetuneOptions options;
  options.steps = 3;
  options.eval_every = 1;
  options.batch_size = 16;
  options.lr = 1e-2;
  options.backbone_lr = 1e-2;  // held-out loss 2.372, 2.383, 2.317, 2.323: step 2 is kept
  const Finetuned tuned =
      finetune_projections(net, cal, k, QuantSettings{}, inputs, labels, options, held_out, false);
  ASSERT_NE(tuned.kept(), nullptr);
  EXPECT_GT(tuned.kept_step, 0) << "training on the held-out images lowers their loss";
  EXPECT_LT(tuned.kept_step, options.steps) << "and then raises it: the kept weights are not the last";
  Compressor kept(cal, tuned.projections, QuantSettings{});
  kept.with_backbone(tuned.backbone);
  const EvalResult with_own_weights = evaluate(net, held_out.inputs, held_out.labels, 500, kept.hook());
  const BackboneSwap swap(net, kept.backbone());
  const EvalResult again = evaluate(net, held_out.inputs, held_out.labels, 500, kept.hook());
  EXPECT_NEAR(again.loss, tuned.kept()->loss, 1e-5);
  EXPECT_GT(std::abs(with_own_weights.loss - again.loss), 1e-4) << "the kept weights matter";
}

// Early stopping measures the held-out loss at the PCA start, every eval_every steps and after the
// last, and returns the projections of the lowest: evaluated again through a Compressor, they give
// back exactly the loss recorded for the kept step (a round trip through the stored projections).
TEST(Finetune, EarlyStoppingKeepsTheProjectionsOfTheLowestHeldOutLoss) {
  torch::manual_seed(8);
  GraphNet net = make_model("resnet18", ModelOptions{"cifar", 1, 10, 0.125});
  const auto inputs = torch::randn({32, 1, 16, 16});
  const auto labels = torch::randint(0, 10, {32}, torch::kLong);
  const HeldOut held_out{torch::randn({24, 1, 16, 16}), torch::randint(0, 10, {24}, torch::kLong)};
  const Calibration cal = calibrate(net, inputs, 16);
  KeptDims k = full_dims(cal);
  k[0] = std::max<std::int64_t>(1, cal.points[0].channels / 4);
  QuantSettings q;
  q.coefficient_bits = 4;
  FinetuneOptions options;
  options.steps = 5;
  options.eval_every = 2;
  options.batch_size = 8;
  options.lr = 0.5;  // large: some steps make the held-out loss worse
  const Finetuned tuned = finetune_projections(net, cal, k, q, inputs, labels, options, held_out, false);

  std::vector<std::int64_t> steps;
  for (const auto& h : tuned.held_out) steps.push_back(h.step);
  EXPECT_EQ(steps, (std::vector<std::int64_t>{0, 2, 4, 5})) << "start, every 2 steps, and the last";
  ASSERT_NE(tuned.kept(), nullptr);
  for (const auto& h : tuned.held_out) EXPECT_GE(h.loss, tuned.kept()->loss) << "step " << h.step;

  const Compressor kept(cal, tuned.projections, q);
  const EvalResult again = evaluate(net, held_out.inputs, held_out.labels, 500, kept.hook());
  EXPECT_NEAR(again.loss, tuned.kept()->loss, 1e-5);
  EXPECT_DOUBLE_EQ(again.accuracy, tuned.kept()->accuracy);
  if (tuned.kept_step == 0) {  // the PCA start won: exactly the PCA projection comes back
    const Projection init = pca_projection(cal.stats[0], k[0]);
    EXPECT_TRUE(torch::equal(tuned.projections[0]->encoder, init.encoder));
  }
}

// Without held-out images there is no early stopping: the last step's projections come back.
TEST(Finetune, WithoutHeldOutImagesTheLastStepIsKept) {
  torch::manual_seed(8);
  GraphNet net = make_model("resnet18", ModelOptions{"cifar", 1, 10, 0.125});
  const auto inputs = torch::randn({16, 1, 16, 16});
  const auto labels = torch::randint(0, 10, {16}, torch::kLong);
  const Calibration cal = calibrate(net, inputs, 16);
  KeptDims k = full_dims(cal);
  k[0] = std::max<std::int64_t>(1, cal.points[0].channels / 2);
  FinetuneOptions options;
  options.steps = 2;
  options.eval_every = 1;
  options.batch_size = 8;
  const Finetuned tuned =
      finetune_projections(net, cal, k, QuantSettings{}, inputs, labels, options, {}, false);
  EXPECT_TRUE(tuned.held_out.empty());
  EXPECT_EQ(tuned.kept(), nullptr);
  ASSERT_TRUE(tuned.projections[0].has_value());
  EXPECT_FALSE(torch::equal(tuned.projections[0]->encoder, pca_projection(cal.stats[0], k[0]).encoder));
}

// Adam's first step moves every entry with a non-zero gradient by exactly lr (bias-corrected
// m^ / sqrt(v^) = g / |g|), and the cosine schedule starts at the configured lr: one step of
// finetuning displaces the PCA initialisation by lr, entry by entry.
TEST(Finetune, OneStepMovesEveryLearnedEntryByTheLearningRate) {
  torch::manual_seed(8);
  GraphNet net = make_model("resnet18", ModelOptions{"cifar", 1, 10, 0.125});
  const auto inputs = torch::randn({16, 1, 16, 16});
  const auto labels = torch::randint(0, 10, {16}, torch::kLong);
  const Calibration cal = calibrate(net, inputs, 16);
  KeptDims k = full_dims(cal);
  k[0] = std::max<std::int64_t>(1, cal.points[0].channels / 2);
  FinetuneOptions options;
  options.steps = 1;
  options.batch_size = 8;
  options.lr = 1e-3;
  const auto projections =
      finetune_projections(net, cal, k, QuantSettings{}, inputs, labels, options, {}, false).projections;
  ASSERT_TRUE(projections[0].has_value());
  const Projection init = pca_projection(cal.stats[0], k[0]);
  for (const auto& [learned, start] :
       {std::pair{projections[0]->encoder, init.encoder}, std::pair{projections[0]->decoder, init.decoder}}) {
    const auto moved = (learned - start).abs();
    ASSERT_TRUE(torch::isfinite(moved).all().item<bool>());
    EXPECT_NEAR(moved.max().item<double>(), options.lr, 1e-3 * options.lr);
    // Entries whose gradient is not ~0 (float32 rounding of start + lr aside) moved by lr.
    const auto by_lr = (moved - options.lr).abs().lt(1e-6);
    EXPECT_GT(by_lr.to(torch::kFloat64).mean().item<double>(), 0.9) << "nearly every entry moved by lr";
  }
}

TEST(Calibration, CorruptFilesAndOtherNetworksAreInputErrors) {
  torch::manual_seed(9);
  GraphNet net = make_model("resnet18", ModelOptions{"cifar", 1, 10, 0.125});
  const Calibration cal = calibrate(net, torch::randn({8, 1, 16, 16}), 8);
  const std::string file = (std::filesystem::temp_directory_path() / "capsim_calibration_test.pt").string();
  save_calibration(cal, file);
  const Calibration back = load_calibration(file);
  EXPECT_EQ(back.points.size(), cal.points.size());
  EXPECT_TRUE(torch::equal(back.stats[3].basis, cal.stats[3].basis));
  check_calibration_matches(back, net, file);
  GraphNet wider = make_model("resnet18", ModelOptions{"cifar", 1, 10, 0.25});
  EXPECT_THROW(check_calibration_matches(back, wider, file), InputError);
  { std::ofstream(file, std::ios::binary | std::ios::trunc) << "not a calibration"; }
  EXPECT_THROW(load_calibration(file), InputError);
  std::filesystem::remove(file);
}

}  // namespace
}  // namespace capsim::workloads

namespace capsim::workloads {
namespace {

TEST(ValidationSplit, SlicesAreDisjointAndClassBalanced) {
  Dataset data;
  data.classes = 3;
  data.val.labels = torch::arange(0, 30, torch::kLong).remainder(3);  // 10 images per class
  data.val.images = torch::zeros({30, 1, 2, 2}, torch::kUInt8);
  data.val.images.select(1, 0).select(1, 0).select(1, 0).copy_(
      torch::arange(0, 30, torch::kUInt8));  // image id
  const ValidationSplit split = split_validation(data, 2, 3, 4, 7);
  std::set<int> seen;
  for (const ImageSet* part : {&split.calibration, &split.greedy, &split.val}) {
    for (std::int64_t i = 0; i < part->size(); ++i)
      EXPECT_TRUE(seen.insert(part->images[i][0][0][0].item<int>()).second) << "an image used twice";
  }
  EXPECT_EQ(split.calibration.size(), 6);
  EXPECT_EQ(split.greedy.size(), 9);
  EXPECT_EQ(split.val.size(), 12);
  EXPECT_EQ(split.val.labels.eq(2).sum().item<int>(), 4);
  const ValidationSplit again = split_validation(data, 2, 3, 4, 7);
  EXPECT_TRUE(torch::equal(again.val.images, split.val.images)) << "deterministic for a seed";
  EXPECT_THROW(split_validation(data, 4, 4, 4, 7), InputError) << "12 per class needed, 10 available";
}

}  // namespace
}  // namespace capsim::workloads

// ---- mixed precision: quantizers at every width, the mixed greedy, plans and intervals ----------

namespace capsim::workloads {
namespace {

// Statistics of a 2-channel point measured from samples: channel 0 one-sided (|Laplace|, a ReLU
// output), channel 1 two-sided Laplace; the identity basis (the channels are independent).
PointStatistics laplace_statistics(const torch::Tensor& x) {
  const auto flat = x.transpose(0, 1).reshape({2, -1});
  PointStatistics s;
  s.mean = flat.mean(1);
  s.variances = flat.var(1, false);
  s.basis = torch::eye(2);
  s.coefficient_clip = (flat - s.mean.view({2, 1})).abs().amax(1);
  s.channel_min = flat.amin(1);
  s.channel_max = flat.amax(1);
  return s;
}

torch::Tensor laplace_samples(std::int64_t n) {
  torch::manual_seed(31);
  const auto u = torch::rand({n, 2, 1, 1}) - 0.5;
  auto x = -u.sign() * torch::log1p(-2 * u.abs());  // Laplace(0, 1)
  x.select(1, 0).abs_();
  return x;
}

TEST(Quantization, LaplaceClipGrowsWithTheBitsAndMatchesBannerEtAl) {
  EXPECT_NEAR(laplace_clip_sigmas(4), 5.03 / std::sqrt(2.0), 1e-12);
  for (int bits = 3; bits <= 8; ++bits)
    EXPECT_GT(laplace_clip_sigmas(bits), laplace_clip_sigmas(bits - 1)) << bits;
  EXPECT_TRUE(std::isinf(laplace_clip_sigmas(9)));
  EXPECT_THROW(laplace_clip_sigmas(1), std::invalid_argument);
}

// The quantizer of a point kept at full dimension, at every width of the mixed greedy: at most
// 2^b values per channel; at 8 bits the calibrated range (nothing clips, every error within half a
// step); below, the Laplace clip, which must beat the full range on a Laplace signal.
TEST(Quantization, ChannelQuantizerAtEveryMixedWidth) {
  const auto x = laplace_samples(20000);
  const PointStatistics s = laplace_statistics(x);
  QuantSettings q;
  for (int bits : {8, 6, 5, 4, 3, 2}) {
    const auto out = reconstruct(nullptr, s, x, q, bits);
    for (int c = 0; c < 2; ++c)
      EXPECT_LE(std::get<0>(at::_unique(out.select(1, c).flatten())).size(0), std::int64_t{1} << bits)
          << bits << " bits, channel " << c;
    const auto full = fake_quantize_range(x, s.channel_min, s.channel_max, bits);
    const double mse = (out - x).pow(2).mean().item<double>(),
                 mse_full = (full - x).pow(2).mean().item<double>();
    if (bits == 8) {
      EXPECT_TRUE(torch::equal(out, full)) << "8 bits: the calibrated range, unchanged";
    } else {
      EXPECT_LT(mse, mse_full) << bits << " bits: the clip lowers the error of a heavy-tailed signal";
    }
  }
}

// The coefficient quantizer of a projected point at every width: at most 2^b - 1 levels, and the
// same Laplace clip rule on the coefficients' standard deviations (PCA variances).
TEST(Quantization, CoefficientQuantizerAtEveryMixedWidth) {
  const auto x = laplace_samples(20000) - 0.3;
  const PointStatistics s = laplace_statistics(x);
  const auto centred = x - s.mean.view({1, 2, 1, 1});
  for (int bits : {8, 6, 5, 4, 3, 2}) {
    const auto clip = clip_for_bits(s.coefficient_clip, s.variances.sqrt(), bits);
    const auto coded = fake_quantize_symmetric(centred, clip, bits);
    for (int c = 0; c < 2; ++c)
      EXPECT_LE(std::get<0>(at::_unique(coded.select(1, c).flatten())).size(0), (std::int64_t{1} << bits) - 1)
          << bits;
    const auto unclipped = fake_quantize_symmetric(centred, s.coefficient_clip, bits);
    const double mse = (coded - centred).pow(2).mean().item<double>();
    const double mse_unclipped = (unclipped - centred).pow(2).mean().item<double>();
    if (bits >= 8)
      EXPECT_DOUBLE_EQ(mse, mse_unclipped);
    else
      EXPECT_LT(mse, mse_unclipped) << bits;
  }
}

// A synthetic additive objective over (k, bits) per point: loss = 1 + k_cost[p][levels of k
// dropped] + bits_cost[p][levels of bits dropped].
class MixedTableObjective : public GreedyObjective {
 public:
  MixedTableObjective(std::vector<std::map<std::int64_t, double>> k_cost,
                      std::vector<std::map<int, double>> bits_cost)
      : k_cost_(std::move(k_cost)), bits_cost_(std::move(bits_cost)) {}
  EvalPoint set_plan(const KeptDims& k, const PointBits& bits) override {
    k_ = k;
    bits_ = bits;
    current_ = score(k_, bits_);
    return current_;
  }
  EvalPoint try_change(std::size_t p, std::int64_t k, int bits) override {
    pending_k_ = k_;
    pending_bits_ = bits_;
    pending_k_[p] = k;
    if (bits > 0) pending_bits_[p] = bits;
    return score(pending_k_, pending_bits_);
  }
  bool has_pending(std::size_t, std::int64_t, int) const override { return false; }
  void commit() override {
    k_ = pending_k_;
    bits_ = pending_bits_;
    current_ = score(k_, bits_);
  }
  const KeptDims& plan() const override { return k_; }
  const PointBits& bits() const override { return bits_; }
  EvalPoint current() const override { return current_; }
  EvalPoint evaluate_uncached(const KeptDims& k, const PointBits& bits) override { return score(k, bits); }

 private:
  EvalPoint score(const KeptDims& k, const PointBits& bits) const {
    double loss = 1.0;
    for (std::size_t p = 0; p < k.size(); ++p) loss += k_cost_[p].at(k[p]) + bits_cost_[p].at(bits[p]);
    return {loss, 1.0 - loss / 100.0};
  }
  std::vector<std::map<std::int64_t, double>> k_cost_;
  std::vector<std::map<int, double>> bits_cost_;
  KeptDims k_, pending_k_;
  PointBits bits_, pending_bits_;
  EvalPoint current_;
};

// Two points of 4 channels, 10 pixels, one consumer; k levels 4 -> 2, bits 8 -> 4. At the start
// both moves of a point save the same 2 x 10 x 16 bits (k 4 -> 2 at 8 bits, or bits 8 -> 4 at
// k = 4), so the order is by loss: b's k (0.05), a's bits (0.1). Then each remaining move saves
// 2 x 10 x 8 bits: b's bits (0.3) before a's k (0.4). Hand-worked reductions: 640 / 480 after
// the first step, 640 / 320 = 2 after the second, 640 / 240 after the third, 4 at the end.
TEST(Greedy, MixedStepChoosesTheCheaperOfLoweringKAndLoweringBits) {
  std::vector<CompressionPoint> points = {{0, "a", 4, 10, 1}, {1, "b", 4, 10, 1}};
  MixedTableObjective objective({{{4, 0.0}, {2, 0.4}}, {{4, 0.0}, {2, 0.05}}},
                                {{{8, 0.0}, {4, 0.1}}, {{8, 0.0}, {4, 0.3}}});
  GreedyOptions options = exhaustive_options();
  options.fractions = {1.0, 0.5};
  options.bit_levels = {8, 4};
  QuantSettings q;
  const GreedyResult result = greedy_search(objective, points, q, options, false);
  struct Step {
    std::string point;
    std::int64_t k;
    int bits;
    bool operator==(const Step& o) const { return point == o.point && k == o.k && bits == o.bits; }
  };
  std::vector<Step> order;
  for (std::size_t i = 1; i < result.steps.size(); ++i)
    order.push_back({result.steps[i].point, result.steps[i].k, result.steps[i].bits});
  const std::vector<Step> expected = {{"b", 2, 8}, {"a", 4, 4}, {"b", 2, 4}, {"a", 2, 4}};
  ASSERT_EQ(order.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i)
    EXPECT_TRUE(order[i] == expected[i])
        << "step " << i + 1 << ": " << order[i].point << " k=" << order[i].k << " bits=" << order[i].bits;
  const std::vector<double> reductions = {640.0 / 480, 2.0, 640.0 / 240, 4.0};
  for (std::size_t i = 0; i < reductions.size(); ++i)
    EXPECT_NEAR(result.steps[i + 1].reduction.vs_b8, reductions[i], 1e-12) << "step " << i + 1;
  EXPECT_EQ(result.steps.back().plan_bits, (PointBits{4, 4}));
}

TEST(Costs, NarrowedPointsCountTheirOwnWidthAgainstEitherReference) {
  std::vector<CompressionPoint> points = {{0, "a", 16, 100, 2}, {1, "b", 8, 25, 1}};
  QuantSettings q;
  q.point_bits = {4, 5};  // a projected to k = 4 at 4-bit coefficients; b kept at 8 channels, 5 bits
  EXPECT_DOUBLE_EQ(access_bits(points, {4, 8}, q, 8), 3 * 100 * 4 * 4 + 2 * 25 * 8 * 5);
  EXPECT_DOUBLE_EQ(access_bits(points, {4, 8}, q, 16), 3 * 100 * 4 * 4 + 2 * 25 * 8 * 5);
  q.point_bits = {4, 8};  // b at the baseline width counts the reference width
  EXPECT_DOUBLE_EQ(access_bits(points, {4, 8}, q, 16), 3 * 100 * 4 * 4 + 2 * 25 * 8 * 16);
}

TEST(Plans, MixedPlansRoundTripKAndBits) {
  torch::manual_seed(6);
  GraphNet net = planted_network(torch::randn({8, 4}), torch::randn({8}));
  const Calibration cal = calibrate(net, torch::randn({8, 4, 5, 5}), 8);
  const KeptDims k{3, cal.points[1].channels, cal.points[2].channels};
  QuantSettings q;
  q.point_bits = {4, 8, 6};  // planted: 3 coefficients at 4 bits; mix at 8 (not listed); pool narrowed to 6
  const trace::Plan plan = to_plan(cal, k, q, "mixed", "test");
  EXPECT_EQ(plan.layers.size(), 2u);
  EXPECT_EQ(plan.layers.at(cal.points[2].name).k, cal.points[2].channels) << "narrowed, not projected";
  EXPECT_EQ(plan.layers.at(cal.points[2].name).bits, 6);
  const trace::Plan back = trace::parse_plan(trace::format_plan(plan), "mixed.yaml");
  PointBits bits;
  EXPECT_EQ(dims_from_plan(cal, back, &bits), k);
  EXPECT_EQ(bits, q.point_bits);
  PointBits none{1};
  dims_from_plan(cal, to_plan(cal, k, QuantSettings{}, "plain", "test"), &none);
  EXPECT_TRUE(none.empty()) << "a plan at the baseline widths has no per-point bits";
}

// Bits per component: the greedy marginal allocation worked by hand. Variances 64, 16, 4, 1 at an
// average of 4 bits (16 in all) start at 2 each; each bit goes to the largest variance * 4^-b
// (ties to the lower index): 3,2,2,2 -> 4,2,2,2 -> 4,3,.. -> 5,3,.. -> 5,4,.. -> 5,4,3,.. ->
// 6,4,3,2 -> 6,5,3,2, the integer neighbour of reverse water-filling's 5.5, 4.5, 3.5, 2.5.
TEST(ComponentBits, GreedyAllocationWorkedByHand) {
  EXPECT_EQ(component_bit_widths({64, 16, 4, 1}, 4), (std::vector<int>{6, 5, 3, 2}));
  EXPECT_EQ(component_bit_widths({3, 3, 3}, 5), (std::vector<int>{5, 5, 5})) << "equal variances: uniform";
  EXPECT_EQ(component_bit_widths({1e12, 1}, 9), (std::vector<int>{16, 2})) << "capped at 16, floored at 2";
  EXPECT_EQ(component_bit_widths({5, 0, 0}, 2), (std::vector<int>{2, 2, 2})) << "2 bits: nothing to move";
  EXPECT_EQ(component_bit_widths({1, 0, 0}, 3), (std::vector<int>{5, 2, 2}))
      << "zero variance keeps the floor";
  for (int bits = 2; bits <= 8; ++bits) {
    const std::vector<double> spectrum{9, 7, 3, 2, 0.5, 0.1, 0.01};
    const auto widths = component_bit_widths(spectrum, bits);
    EXPECT_EQ(std::accumulate(widths.begin(), widths.end(), 0), 7 * bits) << "k * b bits, exactly";
    EXPECT_TRUE(std::is_sorted(widths.rbegin(), widths.rend())) << "more variance, never fewer bits";
  }
  EXPECT_THROW(component_bit_widths({1, 2}, 1), std::invalid_argument);
  EXPECT_EQ(to_string(*component_bits_from_string("variance")), std::string("variance"));
  EXPECT_FALSE(component_bits_from_string("entropy"));
}

// A projected point whose coefficients have variances 4^3 : 4^2 : 4 : 1 (an identity basis over
// independent Gaussian channels): at the same k * b bits, widths by variance store the high-variance
// coefficients finer and lower the reconstruction error; with equal variances they change nothing.
TEST(ComponentBits, VarianceWidthsLowerTheErrorAtEqualBitsAndEqualVariancesChangeNothing) {
  torch::manual_seed(12);
  const auto scales = torch::tensor({8.0f, 4.0f, 2.0f, 1.0f, 0.05f});
  const auto x = torch::randn({4000, 5, 1, 1}) * scales.view({1, 5, 1, 1});
  PointStatistics s;
  s.mean = torch::zeros({5});
  s.basis = torch::eye(5);
  s.variances = scales.pow(2);
  s.coefficient_clip = x.abs().amax({0, 2, 3});
  s.channel_min = x.amin({0, 2, 3});
  s.channel_max = x.amax({0, 2, 3});
  const Projection pca = pca_projection(s, 4);
  QuantSettings uniform, by_variance;
  uniform.matrix_bits = by_variance.matrix_bits = 32;
  by_variance.component_bits = ComponentBits::variance;
  for (int bits : {3, 4, 5}) {
    const double mse_uniform = (reconstruct(&pca, s, x, uniform, bits) - x).pow(2).mean().item<double>();
    const double mse_variance = (reconstruct(&pca, s, x, by_variance, bits) - x).pow(2).mean().item<double>();
    EXPECT_LT(mse_variance, 0.8 * mse_uniform) << bits << " bits";
  }
  // The same coefficients in float64 (the composed path) and float32 (the fused kernel).
  const auto wide = reconstruct(&pca, s, x.to(torch::kFloat64), by_variance, 4).to(torch::kFloat32);
  EXPECT_LT((wide - reconstruct(&pca, s, x, by_variance, 4)).abs().max().item<double>(), 1e-4);
  PointStatistics flat = s;
  flat.variances = torch::full({5}, 4.0f);
  for (int bits : {2, 4, 8})
    EXPECT_TRUE(torch::equal(reconstruct(&pca, flat, x, uniform, bits),
                             reconstruct(&pca, flat, x, by_variance, bits)))
        << bits;
}

// The codes an entropy measurement counts: coefficient j takes at most 2^(b_j) - 1 values, shifted
// to [0, 2^b_j - 2], and the plan file carries the allocation.
// A planted network whose first point's variances fall about 10x per component (input channels
// scaled 10 : 3 : 1 : 0.3), calibrated on 16 random images.
struct UnevenSpectrum {
  GraphNet net;
  torch::Tensor inputs;
  Calibration cal;
};
UnevenSpectrum uneven_spectrum() {
  torch::manual_seed(13);
  UnevenSpectrum s{
      planted_network(torch::randn({8, 4}) * torch::tensor({10.0f, 3.0f, 1.0f, 0.3f}), torch::randn({8})),
      torch::randn({16, 4, 5, 5}),
      {}};
  s.cal = calibrate(s.net, s.inputs, 8);
  return s;
}

TEST(ComponentBits, CodesStayInsideEachComponentsWidthAndPlansCarryTheAllocation) {
  auto [net, inputs, cal] = uneven_spectrum();
  const KeptDims k{3, cal.points[1].channels, cal.points[2].channels};
  QuantSettings q;
  q.coefficient_bits = 3;
  q.component_bits = ComponentBits::variance;
  const Compressor compressor(cal, k, q);
  const auto v = cal.stats[0].variances.slice(0, 0, 3).to(torch::kFloat64).contiguous();
  const auto widths =
      component_bit_widths({v[0].item<double>(), v[1].item<double>(), v[2].item<double>()}, 3);
  EXPECT_GT(widths.front(), widths.back()) << "the planted spectrum is not flat";
  torch::Tensor raw;
  net->forward(inputs, [&](int node, const torch::Tensor& out) {
    if (compressor.point_of_node(node) == 0) raw = out;
    return out;
  });
  const auto codes = compressor.quantized_codes(0, raw);
  for (std::int64_t j = 0; j < 3; ++j) {
    const auto c = codes.select(1, j);
    EXPECT_GE(c.min().item<double>(), 0.0) << j;
    EXPECT_LE(c.max().item<double>(), std::ldexp(1.0, widths[static_cast<std::size_t>(j)]) - 2) << j;
  }
  EXPECT_GT(codes.select(1, 0).max().item<double>(), std::ldexp(1.0, 3) - 2)
      << "the first component uses more levels than a uniform 3-bit coefficient has";
  const trace::Plan plan = to_plan(cal, k, q, "components", "test");
  EXPECT_EQ(plan.component_bits, "variance");
  const trace::Plan back = trace::parse_plan(trace::format_plan(plan), "components.yaml");
  EXPECT_EQ(back.component_bits, "variance");
  EXPECT_EQ(trace::parse_plan(trace::format_plan(to_plan(cal, k, QuantSettings{}, "plain", "test")), "p.yaml")
                .component_bits,
            "uniform");
  std::string text = trace::format_plan(plan);
  text.replace(text.find("variance"), 8, "entropy");
  EXPECT_THROW(trace::parse_plan(text, "bad.yaml"), InputError);
}

// A plan file re-read by `capsim finetune` and `capsim fold-check` quantizes as the plan it was
// written from: the same codes at every point, bits per component included (fold-check once
// dropped the allocation and quantized a components plan's coefficients at one width).
TEST(ComponentBits, PlanFileRoundTripQuantizesLikeThePlanItWasWrittenFrom) {
  auto [net, inputs, cal] = uneven_spectrum();
  const KeptDims k{3, cal.points[1].channels, cal.points[2].channels};
  QuantSettings q;
  q.component_bits = ComponentBits::variance;
  q.point_bits = {3, 8, 5};  // the third point stored unprojected at 5 bits
  const trace::Plan back =
      trace::parse_plan(trace::format_plan(to_plan(cal, k, q, "mixed", "test")), "mixed.yaml");
  PointBits bits;
  const KeptDims k_back = dims_from_plan(cal, back, &bits);
  const QuantSettings q_back = quantization_of(back, bits);
  EXPECT_EQ(k_back, k);
  EXPECT_EQ(q_back.point_bits, q.point_bits);
  EXPECT_EQ(q_back.component_bits, ComponentBits::variance);
  const Compressor original(cal, k, q), reread(cal, k_back, q_back);
  std::vector<torch::Tensor> raw(cal.points.size());
  net->forward(inputs, [&](int node, const torch::Tensor& out) {
    if (const int p = original.point_of_node(node); p >= 0) raw[static_cast<std::size_t>(p)] = out;
    return out;
  });
  EXPECT_TRUE(torch::equal(original.quantized_codes(0, raw[0]), reread.quantized_codes(0, raw[0])));
  const QuantSettings at6 = quantization_of(back, bits, 6);
  EXPECT_EQ(at6.coefficient_bits, 6);
  EXPECT_TRUE(at6.point_bits.empty()) << "--bits stores every point at its width";
  EXPECT_EQ(at6.component_bits, ComponentBits::variance);
  QuantSettings uniform_widths = q;
  uniform_widths.component_bits = ComponentBits::uniform;
  EXPECT_FALSE(torch::equal(original.quantized_codes(0, raw[0]),
                            Compressor(cal, k, uniform_widths).quantized_codes(0, raw[0])))
      << "the allocation over components changes the codes, so the first check can fail";
}

// The paired bootstrap against its normal approximation: 10,000 images, 300 only the reference
// gets right and 200 only the plan: drop 0.01, standard error sqrt((0.03 + 0.02 - 0.01^2) / n).
TEST(PairedDrop, BootstrapIntervalMatchesTheNormalApproximation) {
  const std::size_t n = 10000;
  std::vector<std::uint8_t> reference(n, 1), plan(n, 1);
  for (std::size_t i = 0; i < 300; ++i) plan[i] = 0;
  for (std::size_t i = 300; i < 500; ++i) reference[i] = 0;
  const DropInterval d = paired_drop_interval(reference, plan, 0.75);
  const double se = std::sqrt((0.03 + 0.02 - 0.01 * 0.01) / n);
  EXPECT_DOUBLE_EQ(d.drop, 0.01);
  EXPECT_NEAR(d.low, 0.01 - 1.96 * se, 0.1 * 1.96 * se);
  EXPECT_NEAR(d.high, 0.01 + 1.96 * se, 0.1 * 1.96 * se);
  EXPECT_NEAR(d.bound, 0.01 + 0.674 * se, 0.2 * 0.674 * se);
  const DropInterval same = paired_drop_interval(reference, reference, 0.75);
  EXPECT_EQ(same.low, 0.0);
  EXPECT_EQ(same.high, 0.0);
  EXPECT_THROW(paired_drop_interval(reference, std::vector<std::uint8_t>(3, 1), 0.5), std::invalid_argument);
}

// The fall-back rule compares image counts: 2,770 of 3,000 correct read back from a curve file as
// 0.92333 ties a fresh 2,770 / 3,000 (which a double comparison called a gain), and one image more
// is a gain.
TEST(FallBackRule, LearningMustWinAWholeImageOverPcaRoundedInItsCurveFile) {
  const double pca_from_file = 0.92333;
  EXPECT_GT(2770.0 / 3000.0, pca_from_file);
  EXPECT_FALSE(more_images_correct(2770.0 / 3000.0, pca_from_file, 3000));
  EXPECT_TRUE(more_images_correct(2771.0 / 3000.0, pca_from_file, 3000));
  EXPECT_FALSE(more_images_correct(2769.0 / 3000.0, pca_from_file, 3000));
}

}  // namespace
}  // namespace capsim::workloads
