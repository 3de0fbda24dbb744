// The learnable projection: encoders and decoders initialised from PCA and trained with the
// backbone frozen (or, with a backbone learning rate, its weights too), through the quantizer with
// a straight-through estimator, stopped early on held-out images.
#include <cmath>
#include <cstdio>

#include "capsim/workloads/data.hpp"
#include "capsim/workloads/greedy.hpp"
#include "capsim/workloads/train.hpp"

namespace capsim::workloads {
namespace {

double cosine_lr(double base, std::int64_t step, std::int64_t steps) {
  return 0.5 * base * (1.0 + std::cos(M_PI * static_cast<double>(step) / static_cast<double>(steps)));
}

// Backbone frozen: batch-norm statistics fixed (eval mode) and no parameter gradients; restored
// on every way out, exceptions included.
class FrozenBackbone {
 public:
  explicit FrozenBackbone(GraphNet& net) : net_(net), was_training_(net->is_training()) {
    net_->eval();
    for (auto& parameter : net_->parameters()) {
      required_.push_back(parameter.requires_grad());
      parameter.requires_grad_(false);
    }
  }
  ~FrozenBackbone() {
    std::size_t i = 0;
    for (auto& parameter : net_->parameters()) parameter.requires_grad_(required_[i++]);
    net_->train(was_training_);
  }
  FrozenBackbone(const FrozenBackbone&) = delete;
  FrozenBackbone& operator=(const FrozenBackbone&) = delete;

 private:
  GraphNet& net_;
  bool was_training_;
  std::vector<bool> required_;
};

// The trainable encoders and decoders of a plan's projected points, and the forward hook that
// compresses every point with them (points at k == C as the plan stores them).
class LearnedProjections {
 public:
  LearnedProjections(GraphNet& net, const Calibration& cal, const KeptDims& k, const QuantSettings& q)
      : cal_(cal),
        q_(q),
        learned_of_point_(cal.points.size(), -1),
        point_of_node_(static_cast<std::size_t>(net->num_nodes()), -1) {
    for (std::size_t p = 0; p < cal.points.size(); ++p) {
      point_of_node_[static_cast<std::size_t>(cal.points[p].node)] = static_cast<int>(p);
      if (k[p] >= cal.points[p].channels) continue;
      const Projection init = pca_projection(cal.stats[p], k[p]);
      learned_of_point_[p] = static_cast<int>(points_.size());
      points_.push_back(
          {p, init.encoder.clone().requires_grad_(true), init.decoder.clone().requires_grad_(true), init});
    }
  }

  bool empty() const { return points_.empty(); }
  std::size_t size() const { return points_.size(); }

  std::vector<torch::Tensor> parameters() const {
    std::vector<torch::Tensor> all;
    for (const auto& lp : points_) all.insert(all.end(), {lp.encoder, lp.decoder});
    return all;
  }

  // Adds each learned point's relative reconstruction error to *reconstruction_loss when given.
  OutputHook hook(torch::Tensor* reconstruction_loss) const {
    return [this, reconstruction_loss](int node, const torch::Tensor& raw) {
      const int p = point_of_node_[static_cast<std::size_t>(node)];
      if (p < 0) return raw;
      const auto point = static_cast<std::size_t>(p);
      const int l = learned_of_point_[point];
      if (l < 0) return reconstruct(nullptr, cal_.stats[point], raw, q_, q_.bits_at(point, false));
      const auto& lp = points_[static_cast<std::size_t>(l)];
      const Projection current{lp.encoder, lp.decoder, lp.fixed.mean, lp.fixed.clip};
      auto out = reconstruct(&current, cal_.stats[point], raw, q_, q_.bits_at(point, true));
      if (reconstruction_loss) {
        const auto target = raw.detach();
        *reconstruction_loss =
            *reconstruction_loss + (out - target).pow(2).mean() / target.pow(2).mean().clamp_min(1e-12);
      }
      return out;
    };
  }

  std::vector<std::optional<Projection>> snapshot() const {
    std::vector<std::optional<Projection>> result(cal_.points.size());
    for (const auto& lp : points_)
      result[lp.point] =
          Projection{lp.encoder.detach().clone(), lp.decoder.detach().clone(), lp.fixed.mean, lp.fixed.clip};
    return result;
  }

 private:
  struct LearnedPoint {
    std::size_t point;
    torch::Tensor encoder, decoder;  // parameters
    Projection fixed;                // mean and clip from calibration
  };
  const Calibration& cal_;
  const QuantSettings& q_;
  std::vector<LearnedPoint> points_;
  std::vector<int> learned_of_point_, point_of_node_;
};

// Knowledge distillation (Hinton et al. 2015): KL divergence to the uncompressed network's
// softened outputs, scaled by T^2 so its gradients keep their size across temperatures.
torch::Tensor distillation_loss(GraphNet& teacher_net, const torch::Tensor& x, const torch::Tensor& logits,
                                double t) {
  torch::Tensor teacher;
  {
    torch::NoGradGuard no_grad;
    teacher = teacher_net->forward(x);
  }
  const auto kl =
      torch::nn::functional::kl_div(torch::log_softmax(logits / t, 1), torch::softmax(teacher / t, 1),
                                    torch::nn::functional::KLDivFuncOptions().reduction(torch::kBatchMean));
  return t * t * kl;
}

// Endless shuffled passes over the training images, batch by batch.
class BatchSampler {
 public:
  BatchSampler(std::int64_t images, std::uint64_t seed) : images_(images), rng_(seed) {}
  torch::Tensor next(std::int64_t batch_size) {
    std::vector<std::int64_t> picks;
    for (std::int64_t i = 0; i < batch_size; ++i) {
      if (cursor_ == order_.size()) {
        order_ = permutation(images_, rng_);
        cursor_ = 0;
      }
      picks.push_back(order_[cursor_++]);
    }
    return torch::tensor(picks);
  }

 private:
  std::int64_t images_;
  Rng rng_;
  std::vector<std::int64_t> order_;
  std::size_t cursor_ = 0;
};

// The optimizer's parameter groups: the projections at options.lr, and the backbone (made
// trainable) at options.backbone_lr when that is > 0.
std::vector<torch::optim::OptimizerParamGroup> parameter_groups(GraphNet& net,
                                                                const LearnedProjections& learned,
                                                                const FinetuneOptions& options) {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(learned.parameters(), std::make_unique<torch::optim::AdamOptions>(options.lr));
  if (options.backbone_lr > 0) {
    std::vector<torch::Tensor> backbone;
    for (auto& parameter : net->parameters()) backbone.push_back(parameter.requires_grad_(true));
    groups.emplace_back(backbone, std::make_unique<torch::optim::AdamOptions>(options.backbone_lr));
  }
  return groups;
}

// The uncompressed network distillation learns from: the trained one, a copy of it when the
// backbone itself is trained (the teacher must not move with the student).
GraphNet distillation_teacher(GraphNet& net, const FinetuneOptions& options) {
  if (options.distillation_weight <= 0 || options.backbone_lr <= 0) return net;
  GraphNet teacher(std::dynamic_pointer_cast<GraphNetImpl>(net->clone()));
  teacher->eval();
  return teacher;
}

}  // namespace

Finetuned finetune_projections(GraphNet& net, const Calibration& cal, const KeptDims& k,
                               const QuantSettings& q, const torch::Tensor& train_inputs,
                               const torch::Tensor& train_labels, const FinetuneOptions& options,
                               const HeldOut& held_out, bool progress) {
  const bool train_backbone = options.backbone_lr > 0;
  const FrozenBackbone frozen(net);
  // The caller's network leaves as it came; the learned backbone is returned, not left installed.
  const BackboneSwap restore_on_exit(net, train_backbone ? backbone_weights(net) : BackboneWeights{});
  LearnedProjections learned(net, cal, k, q);
  Finetuned result;
  result.projections = learned.snapshot();
  if (learned.empty()) {  // nothing projected, nothing to learn: the weights as they came
    if (train_backbone) result.backbone = backbone_weights(net);
    return result;
  }
  GraphNet teacher = distillation_teacher(net, options);
  auto keep_current = [&] {
    result.projections = learned.snapshot();
    if (train_backbone) result.backbone = backbone_weights(net);
  };

  const bool early_stopping = options.eval_every > 0 && !held_out.empty();
  double best_loss = 0;
  auto measure_held_out = [&](std::int64_t step) {
    const EvalResult r = evaluate(net, held_out.inputs, held_out.labels, 500, learned.hook(nullptr));
    result.held_out.push_back({step, r.loss, r.accuracy});
    if (result.held_out.size() == 1 || r.loss < best_loss) {
      best_loss = r.loss;
      result.kept_step = step;
      keep_current();
    }
  };
  if (early_stopping) measure_held_out(0);

  const std::vector<double> base_lr =
      train_backbone ? std::vector<double>{options.lr, options.backbone_lr} : std::vector<double>{options.lr};
  torch::optim::Adam optimizer(parameter_groups(net, learned, options));
  BatchSampler sampler(train_inputs.size(0), options.seed);
  for (std::int64_t step = 0; step < options.steps; ++step) {
    const auto index = sampler.next(options.batch_size);
    const auto x = train_inputs.index_select(0, index);
    const auto y = train_labels.index_select(0, index);
    torch::Tensor reconstruction_loss = torch::zeros({});
    const auto logits = net->forward(x, learned.hook(&reconstruction_loss));
    auto loss = torch::nn::functional::cross_entropy(logits, y) +
                options.reconstruction_weight * reconstruction_loss / static_cast<double>(learned.size());
    if (options.distillation_weight > 0)
      loss = loss + options.distillation_weight * distillation_loss(teacher, x, logits, options.temperature);
    for (std::size_t g = 0; g < base_lr.size(); ++g)
      static_cast<torch::optim::AdamOptions&>(optimizer.param_groups()[g].options())
          .lr(cosine_lr(base_lr[g], step, options.steps));
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    const std::int64_t taken = step + 1;
    if (early_stopping && (taken % options.eval_every == 0 || taken == options.steps))
      measure_held_out(taken);
    if (progress && (step % 25 == 0 || taken == options.steps))
      std::fprintf(stderr, "\rfinetune step %lld/%lld  loss %.4f   ", static_cast<long long>(taken),
                   static_cast<long long>(options.steps), loss.item<double>());
  }
  if (progress) std::fputc('\n', stderr);
  if (!early_stopping) keep_current();
  return result;
}

PointFallBack fall_back_per_point(const GraphNet& net, const Calibration& calibration, const KeptDims& k,
                                  const QuantSettings& q,
                                  const std::vector<std::optional<Projection>>& learned,
                                  const HeldOut& held_out, std::int64_t batch_size) {
  CachedEvaluator evaluator(net, calibration, held_out.inputs, held_out.labels, q, batch_size);
  evaluator.use_learned(learned);
  PointFallBack result;
  result.learned = evaluator.set_plan(k, q.point_bits);
  for (std::size_t p = 0; p < learned.size(); ++p) {
    if (!learned[p] || k[p] >= calibration.points[p].channels) continue;
    if (evaluator.try_pca(p).loss < evaluator.current().loss) {
      evaluator.commit();
      result.restored.push_back(p);
    }
  }
  result.kept = evaluator.current();
  result.projections = learned;
  for (std::size_t p : result.restored) result.projections[p] = pca_projection(calibration.stats[p], k[p]);
  return result;
}

}  // namespace capsim::workloads
