// The learnable projection: encoders and decoders initialised from PCA and trained with the
// backbone frozen, through the quantizer with a straight-through estimator.
#include <cmath>
#include <cstdio>

#include "capsim/workloads/data.hpp"
#include "capsim/workloads/greedy.hpp"

namespace capsim::workloads {
namespace {

struct LearnedPoint {
  std::size_t point;
  torch::Tensor encoder, decoder;  // parameters
  Projection fixed;                // mean and clip from calibration
};

double cosine_lr(double base, std::int64_t step, std::int64_t steps) {
  return 0.5 * base * (1.0 + std::cos(M_PI * static_cast<double>(step) / static_cast<double>(steps)));
}

}  // namespace

std::vector<std::optional<Projection>> finetune_projections(GraphNet& net, const Calibration& cal,
                                                            const KeptDims& k, const QuantSettings& q,
                                                            const torch::Tensor& train_inputs,
                                                            const torch::Tensor& train_labels,
                                                            const FinetuneOptions& options, bool progress) {
  // Backbone frozen: batch-norm statistics fixed (eval mode) and no parameter gradients; restored
  // on every way out, exceptions included.
  struct Freeze {
    GraphNet& net;
    bool was_training;
    std::vector<bool> required;
    explicit Freeze(GraphNet& n) : net(n), was_training(n->is_training()) {
      net->eval();
      for (auto& parameter : net->parameters()) {
        required.push_back(parameter.requires_grad());
        parameter.requires_grad_(false);
      }
    }
    ~Freeze() {
      std::size_t i = 0;
      for (auto& parameter : net->parameters()) parameter.requires_grad_(required[i++]);
      net->train(was_training);
    }
  } freeze(net);

  std::vector<LearnedPoint> learned;
  std::vector<int> learned_of_point(cal.points.size(), -1);
  std::vector<torch::Tensor> parameters;
  for (std::size_t p = 0; p < cal.points.size(); ++p) {
    if (k[p] >= cal.points[p].channels) continue;
    Projection init = pca_projection(cal.stats[p], k[p]);
    LearnedPoint lp{p, init.encoder.clone().requires_grad_(true), init.decoder.clone().requires_grad_(true),
                    init};
    learned_of_point[p] = static_cast<int>(learned.size());
    parameters.push_back(lp.encoder);
    parameters.push_back(lp.decoder);
    learned.push_back(std::move(lp));
  }
  std::vector<int> point_of_node(static_cast<std::size_t>(net->num_nodes()), -1);
  for (std::size_t p = 0; p < cal.points.size(); ++p)
    point_of_node[static_cast<std::size_t>(cal.points[p].node)] = static_cast<int>(p);

  if (!learned.empty()) {
    torch::optim::Adam optimizer(parameters, torch::optim::AdamOptions(options.lr));
    Rng rng(options.seed);
    const std::int64_t n = train_inputs.size(0);
    auto order = permutation(n, rng);
    std::size_t cursor = 0;
    for (std::int64_t step = 0; step < options.steps; ++step) {
      std::vector<std::int64_t> picks;
      for (std::int64_t i = 0; i < options.batch_size; ++i) {
        if (cursor == order.size()) {
          order = permutation(n, rng);
          cursor = 0;
        }
        picks.push_back(order[cursor++]);
      }
      const auto index = torch::tensor(picks);
      const auto x = train_inputs.index_select(0, index);
      const auto y = train_labels.index_select(0, index);

      torch::Tensor reconstruction_loss = torch::zeros({});
      const auto logits = net->forward(x, [&](int node, const torch::Tensor& raw) {
        const int p = point_of_node[static_cast<std::size_t>(node)];
        if (p < 0) return raw;
        const int l = learned_of_point[static_cast<std::size_t>(p)];
        const auto point = static_cast<std::size_t>(p);
        if (l < 0) return reconstruct(nullptr, cal.stats[point], raw, q, q.bits_at(point, false));
        const auto& lp = learned[static_cast<std::size_t>(l)];
        const Projection current{lp.encoder, lp.decoder, lp.fixed.mean, lp.fixed.clip};
        const auto out = reconstruct(&current, cal.stats[point], raw, q, q.bits_at(point, true));
        const auto target = raw.detach();
        reconstruction_loss =
            reconstruction_loss + (out - target).pow(2).mean() / target.pow(2).mean().clamp_min(1e-12);
        return out;
      });
      auto loss = torch::nn::functional::cross_entropy(logits, y) +
                  options.reconstruction_weight * reconstruction_loss / static_cast<double>(learned.size());
      if (options.distillation_weight > 0) {
        torch::Tensor teacher;
        {
          torch::NoGradGuard no_grad;
          teacher = net->forward(x);
        }
        const double t = options.temperature;
        const auto kl = torch::nn::functional::kl_div(
            torch::log_softmax(logits / t, 1), torch::softmax(teacher / t, 1),
            torch::nn::functional::KLDivFuncOptions().reduction(torch::kBatchMean));
        loss = loss + options.distillation_weight * t * t * kl;
      }
      for (auto& group : optimizer.param_groups())
        static_cast<torch::optim::AdamOptions&>(group.options())
            .lr(cosine_lr(options.lr, step, options.steps));
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      if (progress && (step % 25 == 0 || step + 1 == options.steps))
        std::fprintf(stderr, "\rfinetune step %lld/%lld  loss %.4f   ", static_cast<long long>(step + 1),
                     static_cast<long long>(options.steps), loss.item<double>());
    }
    if (progress) std::fputc('\n', stderr);
  }

  std::vector<std::optional<Projection>> result(cal.points.size());
  for (const auto& lp : learned)
    result[lp.point] =
        Projection{lp.encoder.detach().clone(), lp.decoder.detach().clone(), lp.fixed.mean, lp.fixed.clip};
  return result;
}

}  // namespace capsim::workloads
