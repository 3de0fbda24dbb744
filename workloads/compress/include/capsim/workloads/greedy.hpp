#pragma once
// Greedy per-layer dimension allocation (the paper's greedy metric, reconstructed): start from
// every point at full dimension and repeatedly reduce the k of the point whose next step costs
// the least validation loss per bit of activation memory access saved, recording the whole
// trajectory (the accuracy-versus-memory curve).
//
// A step at one point cannot change anything upstream of it, so the evaluator caches every node
// output of the current plan on the evaluation images and recomputes only the nodes downstream
// of the changed point. Candidates are re-evaluated lazily (Minoux's lazy greedy): a stale cost
// is refreshed only when it reaches the top of the queue.
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "capsim/workloads/compress.hpp"

namespace capsim::workloads {

struct EvalPoint {
  double loss = 0;      // mean cross-entropy
  double accuracy = 0;  // fraction
};

// What the greedy search needs from an evaluation: the loss of the current plan and of the
// current plan with one point changed. CachedEvaluator implements it on a network; tests use a
// synthetic cost table.
// A plan is k per point and, under mixed precision, bits per point (empty: every point at the
// quantization settings' widths).
class GreedyObjective {
 public:
  virtual ~GreedyObjective() = default;
  virtual EvalPoint set_plan(const KeptDims& k, const PointBits& bits) = 0;
  // bits < 0: the point keeps its current bits.
  virtual EvalPoint try_change(std::size_t point, std::int64_t k, int bits) = 0;
  virtual bool has_pending(std::size_t point, std::int64_t k, int bits) const = 0;
  virtual void commit() = 0;
  virtual const KeptDims& plan() const = 0;
  virtual const PointBits& bits() const = 0;
  virtual EvalPoint current() const = 0;
  // The evaluation a naive search would do (no cache), to measure what the cache saves.
  virtual EvalPoint evaluate_uncached(const KeptDims& k, const PointBits& bits) = 0;
};

class CachedEvaluator : public GreedyObjective {
 public:
  CachedEvaluator(GraphNet net, const Calibration& calibration, torch::Tensor inputs, torch::Tensor labels,
                  const QuantSettings& q, std::int64_t batch_size = 250);

  // Learned projections (one per point, nullopt: PCA), used at the points where the plan keeps
  // their dimension (PCA elsewhere). Takes effect at the next set_plan.
  void use_learned(std::vector<std::optional<Projection>> learned) { learned_ = std::move(learned); }
  const std::vector<std::optional<Projection>>& learned() const { return learned_; }
  // Adopts a plan and fills the cache (a full forward pass).
  EvalPoint set_plan(const KeptDims& k, const PointBits& bits = {}) override;
  // The current plan with point p at dimension k and `bits` (everything downstream of p recomputed).
  EvalPoint try_change(std::size_t point, std::int64_t k, int bits = -1) override;
  // The current plan with point p's learned projection replaced by PCA (same k and bits).
  EvalPoint try_pca(std::size_t point);
  // Adopts the last try_change or try_pca.
  void commit() override;
  bool has_pending(std::size_t point, std::int64_t k, int bits = -1) const override {
    return pending_.valid && !pending_.to_pca && pending_.point == point && pending_.k == k &&
           pending_.bits == bits_of(point, k, bits);
  }
  // The same evaluation with a full forward pass and no cache (to measure the cache's worth), with
  // PCA at every projected point (learned projections are not used).
  EvalPoint evaluate_uncached(const KeptDims& k, const PointBits& bits = {}) override;
  const KeptDims& plan() const override { return k_; }
  const PointBits& bits() const override { return q_.point_bits; }
  EvalPoint current() const override { return current_; }

 private:
  // The bits point p stores at with dimension k: `bits` if given, else the plan's.
  int bits_of(std::size_t point, std::int64_t k, int bits) const;
  // The learned projection of point p if it has one at dimension k.
  const Projection* learned_at(std::size_t point, std::int64_t k) const;
  torch::Tensor compress(std::size_t point, std::int64_t k, int bits, const torch::Tensor& raw) const;
  // Recomputes everything downstream of `point`, whose output `first` gives from its raw output.
  EvalPoint rerun_from(std::size_t point, const std::function<torch::Tensor(const torch::Tensor&)>& first);
  EvalPoint score(const std::vector<torch::Tensor>& logits) const;

  GraphNet net_;
  const Calibration& cal_;
  QuantSettings q_;
  std::vector<torch::Tensor> inputs_, labels_;  // per batch
  std::vector<int> point_of_node_;
  KeptDims k_;
  std::vector<std::optional<Projection>> learned_;
  EvalPoint current_;
  // Per batch: every node's output as its consumers read it, and each point's raw output.
  std::vector<std::vector<torch::Tensor>> out_, raw_;
  // The last try_change, kept for commit().
  struct Pending {
    std::size_t point = 0;
    std::int64_t k = 0;
    int bits = 0;
    bool to_pca = false;  // try_pca: the point's learned projection replaced by PCA
    EvalPoint result;
    std::vector<std::vector<std::pair<int, torch::Tensor>>> out, raw;  // per batch: (node, tensor)
    bool valid = false;
  } pending_;
};

struct GreedyOptions {
  // Candidate dimensions of a point: round(f * C) for these fractions (at least 1, distinct).
  std::vector<double> fractions = {1.0,   0.75,    0.5,    0.375,    0.25,   0.1875,
                                   0.125, 0.09375, 0.0625, 0.046875, 0.03125};
  double max_accuracy_drop = 0.03;  // stop when validation accuracy fell this much below the start
  double max_reduction = 24.0;      // stop at this reduction against 8-bit activations
  bool measure_uncached = true;     // time one naive step (every candidate, full forward passes)
  // Mixed precision: the bit widths a point steps down through, widest first (e.g. 8 6 5 4 3 2).
  // Each step then chooses, over all points, the best of "next lower k" and "next lower bits"
  // by the same metric. Empty: only k moves, every point at the quantization settings' widths.
  std::vector<int> bit_levels;
  // The denominator of the metric. Unset: activation bits saved (the paper's proxy). Set: the
  // decrease of a hardware cost of the whole plan (DRAM bytes or energy at a deployment shape,
  // `HardwarePlanCost`); a point then moves to the first lower k that lowers the cost, and a step
  // that would raise it is never taken.
  std::function<double(const KeptDims&, const PointBits&)> hardware_cost;
  // Compression-aware search (learning interleaved with the greedy): called after every step with
  // its number and reduction. Returning true says the objective changed (e.g. projections were
  // fine-tuned for the plan reached and handed to the evaluator), so the step is measured again
  // and every candidate re-evaluated before the stop rule and the next choice (lazy costs stale).
  std::function<bool(int step, const Reduction& reduction)> after_step;
};

struct GreedyStep {
  int step = 0;
  std::string point;  // layer whose k changed ("" for the starting plan)
  std::int64_t channels = 0;
  std::int64_t k = 0;
  int bits = 0;  // the changed point's bits after the step (0 for the starting plan)
  Reduction reduction;
  double val_loss = 0;
  double val_accuracy = 0;
  std::int64_t evaluations = 0;  // candidate evaluations so far
  double seconds = 0;            // since the search started
  double hardware_cost = 0;      // the plan's hardware cost (0 without a hardware objective)
  KeptDims plan;
  PointBits plan_bits;  // empty unless the search is mixed
};

struct GreedyTiming {
  std::int64_t points = 0;
  double cached_seconds_per_evaluation = 0;
  double uncached_seconds_per_evaluation = 0;  // measured on the first step's candidates
  double evaluations_per_step = 0;             // lazy greedy
  double seconds_per_step = 0;
  double naive_seconds_per_step = 0;  // every candidate, full forward passes
  double speedup = 0;                 // naive over ours, per step
  double total_seconds = 0;
};

struct GreedyResult {
  std::vector<GreedyStep> steps;
  GreedyTiming timing;
};

// Candidate dimensions of every point: round(f * C) for the option's fractions, largest first.
std::vector<std::vector<std::int64_t>> dimension_levels(const std::vector<CompressionPoint>& points,
                                                        const std::vector<double>& fractions);

GreedyResult greedy_search(GreedyObjective& objective, const std::vector<CompressionPoint>& points,
                           const QuantSettings& q, const GreedyOptions& options, bool progress = true);

std::string trajectory_csv(const std::string& network, const std::vector<GreedyStep>& steps);

// ---- learnable projection -------------------------------------------------------------------

struct FinetuneOptions {
  std::int64_t steps = 300;
  std::int64_t batch_size = 64;
  double lr = 1e-3;                    // Adam, cosine-decayed to zero
  double reconstruction_weight = 1.0;  // weight of sum over points of ||x^ - x||^2 / ||x||^2
  double distillation_weight = 0.0;    // > 0: KL divergence to the uncompressed network's outputs
  double temperature = 4.0;
  // > 0: the backbone's weights are trained too, at this Adam rate (cosine-decayed; batch-norm
  // statistics stay frozen), and returned in Finetuned::backbone. 0: backbone frozen (the paper's).
  double backbone_lr = 0.0;
  // Early stopping: with held-out images, their cross-entropy is measured before the first step
  // and every `eval_every` steps (and after the last), and the projections of the lowest loss are
  // kept; the PCA start included, so fine-tuning never returns worse than it began on held-out data.
  std::int64_t eval_every = 0;
  std::uint64_t seed = 1;
};

// Images the fine-tuning does not train on, for early stopping (empty: no early stopping).
struct HeldOut {
  torch::Tensor inputs, labels;
  bool empty() const { return !inputs.defined() || inputs.size(0) == 0; }
};

struct HeldOutLoss {
  std::int64_t step = 0;  // optimizer steps taken when measured (0: the PCA start)
  double loss = 0;        // mean cross-entropy on the held-out images
  double accuracy = 0;
};

struct Finetuned {
  std::vector<std::optional<Projection>> projections;  // one per point (nullopt where k == C)
  std::vector<HeldOutLoss> held_out;                   // empty without early stopping
  std::int64_t kept_step = 0;                          // the step whose projections were kept
  BackboneWeights backbone;                            // at kept_step (empty: backbone frozen)
  // The held-out measurement of the kept projections (nullptr without early stopping).
  const HeldOutLoss* kept() const {
    for (const auto& h : held_out)
      if (h.step == kept_step) return &h;
    return nullptr;
  }
};

// Learns encoders and decoders for the points a plan projects, initialised from PCA, with the
// backbone frozen (options.backbone_lr > 0: its weights trained too, returned in the result; `net`
// leaves with the weights it came with): cross-entropy on the training images plus the
// reconstruction term (and optionally distillation from the network as it came), stopped early on
// `held_out` when it is given.
Finetuned finetune_projections(GraphNet& net, const Calibration& calibration, const KeptDims& k,
                               const QuantSettings& q, const torch::Tensor& train_inputs,
                               const torch::Tensor& train_labels, const FinetuneOptions& options,
                               const HeldOut& held_out = {}, bool progress = true);

// The per-point fall-back to PCA: where a learned projection does not help, PCA is restored. One
// pass in network order over the learned points: point p goes back to PCA when that lowers the
// held-out loss of the plan as it stands (the points before p already decided), so the plan
// returned is never worse on the held-out images than the learned one. Costs one full and one
// partial forward pass per learned point (the CachedEvaluator's downstream recomputation).
struct PointFallBack {
  // The learned projections with PCA at the restored points (Compressor layout: nullopt only where
  // the plan keeps k == C).
  std::vector<std::optional<Projection>> projections;
  std::vector<std::size_t> restored;  // points given back to PCA, in network order
  EvalPoint learned, kept;            // held-out loss and accuracy before and after
};
PointFallBack fall_back_per_point(const GraphNet& net, const Calibration& calibration, const KeptDims& k,
                                  const QuantSettings& q,
                                  const std::vector<std::optional<Projection>>& learned,
                                  const HeldOut& held_out, std::int64_t batch_size = 250);

}  // namespace capsim::workloads
