// The cached evaluator and the lazy greedy search.
#include "capsim/workloads/greedy.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <queue>
#include <set>

namespace capsim::workloads {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::vector<int> map_points(const GraphNet& net, const Calibration& cal) {
  std::vector<int> map(static_cast<std::size_t>(net->num_nodes()), -1);
  for (std::size_t p = 0; p < cal.points.size(); ++p)
    map[static_cast<std::size_t>(cal.points[p].node)] = static_cast<int>(p);
  return map;
}

}  // namespace

// ---- CachedEvaluator -------------------------------------------------------------------------

CachedEvaluator::CachedEvaluator(GraphNet net, const Calibration& calibration, torch::Tensor inputs,
                                 torch::Tensor labels, const QuantSettings& q, std::int64_t batch_size)
    : net_(std::move(net)), cal_(calibration), q_(q), point_of_node_(map_points(net_, calibration)) {
  for (std::int64_t start = 0; start < inputs.size(0); start += batch_size) {
    const std::int64_t end = std::min(inputs.size(0), start + batch_size);
    inputs_.push_back(inputs.slice(0, start, end));
    labels_.push_back(labels.slice(0, start, end));
  }
}

int CachedEvaluator::bits_of(std::size_t point, std::int64_t k, int bits) const {
  if (bits > 0) return bits;
  return q_.bits_at(point, k < cal_.points[point].channels);
}

const Projection* CachedEvaluator::learned_at(std::size_t point, std::int64_t k) const {
  if (point >= learned_.size() || !learned_[point] || learned_[point]->encoder.size(0) != k) return nullptr;
  return &*learned_[point];
}

torch::Tensor CachedEvaluator::compress(std::size_t point, std::int64_t k, int bits,
                                        const torch::Tensor& raw) const {
  if (k >= cal_.points[point].channels) return reconstruct(nullptr, cal_.stats[point], raw, q_, bits);
  if (const Projection* learned = learned_at(point, k))
    return reconstruct(learned, cal_.stats[point], raw, q_, bits);
  const Projection projection = pca_projection(cal_.stats[point], k);
  return reconstruct(&projection, cal_.stats[point], raw, q_, bits);
}

EvalPoint CachedEvaluator::score(const std::vector<torch::Tensor>& logits) const {
  double loss = 0, correct = 0, count = 0;
  for (std::size_t b = 0; b < logits.size(); ++b) {
    loss +=
        torch::nn::functional::cross_entropy(
            logits[b], labels_[b], torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
            .item<double>();
    correct += logits[b].argmax(1).eq(labels_[b]).sum().item<double>();
    count += static_cast<double>(labels_[b].size(0));
  }
  return {loss / count, correct / count};
}

EvalPoint CachedEvaluator::set_plan(const KeptDims& k, const PointBits& bits) {
  torch::NoGradGuard no_grad;
  net_->eval();
  k_ = k;
  q_.point_bits = bits;
  pending_.valid = false;
  out_.assign(inputs_.size(), {});
  raw_.assign(inputs_.size(), {});
  std::vector<torch::Tensor> logits;
  for (std::size_t b = 0; b < inputs_.size(); ++b) {
    out_[b].resize(static_cast<std::size_t>(net_->num_nodes()));
    raw_[b].resize(cal_.points.size());
    logits.push_back(net_->forward(inputs_[b], [&](int node, const torch::Tensor& raw) {
      const int p = point_of_node_[static_cast<std::size_t>(node)];
      torch::Tensor out = raw;
      if (p >= 0) {
        raw_[b][static_cast<std::size_t>(p)] = raw;
        const auto point = static_cast<std::size_t>(p);
        out = compress(point, k_[point], bits_of(point, k_[point], -1), raw);
      }
      out_[b][static_cast<std::size_t>(node)] = out;
      return out;
    }));
  }
  current_ = score(logits);
  return current_;
}

EvalPoint CachedEvaluator::try_change(std::size_t point, std::int64_t k, int bits) {
  pending_ = Pending{point, k, bits_of(point, k, bits), false, {}, {}, {}, true};
  return rerun_from(point, [&](const torch::Tensor& raw) { return compress(point, k, pending_.bits, raw); });
}

EvalPoint CachedEvaluator::try_pca(std::size_t point) {
  const std::int64_t k = k_.at(point);
  if (!learned_at(point, k))
    throw std::logic_error("CachedEvaluator::try_pca at a point without a learned projection");
  pending_ = Pending{point, k, bits_of(point, k, -1), true, {}, {}, {}, true};
  const Projection pca = pca_projection(cal_.stats[point], k);
  return rerun_from(point, [&](const torch::Tensor& raw) {
    return reconstruct(&pca, cal_.stats[point], raw, q_, pending_.bits);
  });
}

EvalPoint CachedEvaluator::rerun_from(
    std::size_t point, const std::function<torch::Tensor(const torch::Tensor&)>& first_output) {
  torch::NoGradGuard no_grad;
  const int first = cal_.points[point].node;
  const int nodes = net_->num_nodes();
  const auto& specs = net_->nodes();
  pending_.out.resize(inputs_.size());
  pending_.raw.resize(inputs_.size());
  std::vector<torch::Tensor> logits;
  std::vector<torch::Tensor> fresh(static_cast<std::size_t>(nodes));
  for (std::size_t b = 0; b < inputs_.size(); ++b) {
    std::fill(fresh.begin(), fresh.end(), torch::Tensor());
    fresh[static_cast<std::size_t>(first)] = first_output(raw_[b][point]);
    pending_.out[b].emplace_back(first, fresh[static_cast<std::size_t>(first)]);
    for (int i = first + 1; i < nodes; ++i) {
      const auto& producers = specs[static_cast<std::size_t>(i)].inputs;
      const bool affected = std::any_of(producers.begin(), producers.end(), [&](int j) {
        return j >= 0 && fresh[static_cast<std::size_t>(j)].defined();
      });
      if (!affected) continue;
      std::vector<torch::Tensor> in;
      for (int j : producers) {
        if (j < 0)
          in.push_back(inputs_[b]);
        else
          in.push_back(fresh[static_cast<std::size_t>(j)].defined() ? fresh[static_cast<std::size_t>(j)]
                                                                    : out_[b][static_cast<std::size_t>(j)]);
      }
      torch::Tensor raw = net_->run_node(i, in);
      const int p = point_of_node_[static_cast<std::size_t>(i)];
      torch::Tensor out = raw;
      if (p >= 0) {
        pending_.raw[b].emplace_back(p, raw);
        const auto other = static_cast<std::size_t>(p);
        out = compress(other, k_[other], bits_of(other, k_[other], -1), raw);
      }
      fresh[static_cast<std::size_t>(i)] = out;
      pending_.out[b].emplace_back(i, out);
    }
    logits.push_back(fresh[static_cast<std::size_t>(nodes - 1)].defined()
                         ? fresh[static_cast<std::size_t>(nodes - 1)]
                         : out_[b][static_cast<std::size_t>(nodes - 1)]);
  }
  pending_.result = score(logits);
  return pending_.result;
}

void CachedEvaluator::commit() {
  if (!pending_.valid) throw std::logic_error("CachedEvaluator::commit without a pending change");
  for (std::size_t b = 0; b < inputs_.size(); ++b) {
    for (auto& [node, tensor] : pending_.out[b]) out_[b][static_cast<std::size_t>(node)] = std::move(tensor);
    for (auto& [p, tensor] : pending_.raw[b]) raw_[b][static_cast<std::size_t>(p)] = std::move(tensor);
  }
  k_[pending_.point] = pending_.k;
  if (pending_.point < q_.point_bits.size()) q_.point_bits[pending_.point] = pending_.bits;
  if (pending_.to_pca) learned_[pending_.point].reset();
  current_ = pending_.result;
  pending_ = Pending{};
}

EvalPoint CachedEvaluator::evaluate_uncached(const KeptDims& k, const PointBits& bits) {
  torch::NoGradGuard no_grad;
  net_->eval();
  const Compressor compressor(cal_, k, q_.with_point_bits(bits));
  const OutputHook hook = compressor.hook();
  std::vector<torch::Tensor> logits;
  for (const auto& batch : inputs_) logits.push_back(net_->forward(batch, hook));
  return score(logits);
}

// ---- greedy search ------------------------------------------------------------------------------

std::vector<std::vector<std::int64_t>> dimension_levels(const std::vector<CompressionPoint>& points,
                                                        const std::vector<double>& fractions) {
  std::vector<std::vector<std::int64_t>> levels;
  for (const auto& p : points) {
    std::set<std::int64_t, std::greater<>> ks{p.channels};
    for (double f : fractions)
      ks.insert(std::clamp<std::int64_t>(
          static_cast<std::int64_t>(std::llround(f * static_cast<double>(p.channels))), 1, p.channels));
    levels.emplace_back(ks.begin(), ks.end());
  }
  return levels;
}

namespace {

// Where a move takes one point: its k level and its bit level (one of the two lowered).
struct Move {
  std::size_t k_level;
  std::size_t bit_level;
};

struct Candidate {
  double metric;  // loss increase per unit of cost saved (lower is better)
  std::size_t point;
  int evaluated_at_step;  // -1: never evaluated at this level
  Move target;
  bool bits_move;  // lowers the bits (mixed precision) rather than k
  bool operator>(const Candidate& o) const { return metric > o.metric; }
};

GreedyStep record(int step, const std::string& point, std::int64_t channels, std::int64_t k, int bits,
                  const KeptDims& plan, const PointBits& plan_bits, const EvalPoint& e,
                  const std::vector<CompressionPoint>& points, const QuantSettings& q,
                  std::int64_t evaluations, double seconds, double hardware_cost) {
  return {step,     point,         channels,
          k,        bits,          reduction_of(points, plan, q.with_point_bits(plan_bits)),
          e.loss,   e.accuracy,    evaluations,
          seconds,  hardware_cost, plan,
          plan_bits};
}

}  // namespace

GreedyResult greedy_search(GreedyObjective& evaluator, const std::vector<CompressionPoint>& points,
                           const QuantSettings& q, const GreedyOptions& options, bool progress) {
  const auto started = Clock::now();
  const auto levels = dimension_levels(points, options.fractions);
  const std::vector<int>& bit_levels = options.bit_levels;
  const bool mixed = !bit_levels.empty();
  std::vector<std::size_t> level(points.size(), 0), bit_level(points.size(), 0);
  KeptDims plan;
  for (const auto& p : points) plan.push_back(p.channels);
  PointBits plan_bits = mixed ? PointBits(points.size(), bit_levels.front()) : PointBits{};
  GreedyResult result;
  const EvalPoint start = evaluator.set_plan(plan, plan_bits);
  const bool hardware = static_cast<bool>(options.hardware_cost);
  double current_cost = hardware ? options.hardware_cost(plan, plan_bits) : 0.0;
  result.steps.push_back(record(0, "", 0, 0, 0, plan, plan_bits, start, points, q, 0, 0.0, current_cost));

  // What a move of point p saves: activation bits, or the hardware cost of the plan.
  auto saving = [&](std::size_t p, Move m) {
    KeptDims next = evaluator.plan();
    PointBits next_bits = evaluator.bits();
    next[p] = levels[p][m.k_level];
    if (mixed) next_bits[p] = bit_levels[m.bit_level];
    if (hardware) return current_cost - options.hardware_cost(next, next_bits);
    return access_bits(points, evaluator.plan(), q.with_point_bits(evaluator.bits()), q.baseline_bits) -
           access_bits(points, next, q.with_point_bits(next_bits), q.baseline_bits);
  };
  auto has_more = [&](std::size_t p, bool bits_move) {
    return bits_move ? mixed && bit_level[p] + 1 < bit_levels.size() : level[p] + 1 < levels[p].size();
  };
  // A point's next move of one kind: the next lower k (or bits), or with a hardware objective the
  // first lower one that saves cost (none: the point waits while the rest of the plan stays).
  auto target_of = [&](std::size_t p, bool bits_move) -> std::optional<Move> {
    const std::size_t from = (bits_move ? bit_level[p] : level[p]) + 1;
    const std::size_t to = bits_move ? (mixed ? bit_levels.size() : 0) : levels[p].size();
    for (std::size_t j = from; j < to; ++j) {
      const Move m = bits_move ? Move{level[p], j} : Move{j, bit_level[p]};
      if (!hardware || saving(p, m) > 0) return m;
    }
    return std::nullopt;
  };
  auto bits_arg = [&](Move m) { return mixed ? bit_levels[m.bit_level] : -1; };

  std::int64_t evaluations = 0;
  double evaluation_seconds = 0;
  auto evaluate = [&](std::size_t p, bool bits_move, int step) -> std::optional<Candidate> {
    const auto target = target_of(p, bits_move);
    if (!target) return std::nullopt;
    const auto t = Clock::now();
    const EvalPoint e = evaluator.try_change(p, levels[p][target->k_level], bits_arg(*target));
    evaluation_seconds += seconds_since(t);
    ++evaluations;
    return Candidate{
        (e.loss - evaluator.current().loss) / std::max(saving(p, *target), hardware ? 1e-12 : 1.0), p, step,
        *target, bits_move};
  };

  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  // Moves whose every lower level raised the hardware cost when last asked: asked again after
  // each step, since the rest of the plan (a consumer that folds, a neighbour's tiling) can change that.
  std::vector<std::pair<std::size_t, bool>> parked;
  auto push = [&](std::size_t p, bool bits_move, int step) {
    if (auto c = evaluate(p, bits_move, step))
      queue.push(*c);
    else if (hardware && has_more(p, bits_move))
      parked.emplace_back(p, bits_move);
  };
  for (std::size_t p = 0; p < points.size(); ++p)
    for (bool bits_move : {false, true})
      if (has_more(p, bits_move)) push(p, bits_move, 0);
  const double first_round_seconds = evaluation_seconds;

  if (options.measure_uncached) {
    // A naive greedy step: every candidate evaluated with a full forward pass.
    const auto t = Clock::now();
    std::size_t candidates = 0;
    for (std::size_t p = 0; p < points.size(); ++p) {
      if (level[p] + 1 >= levels[p].size()) continue;
      KeptDims candidate = plan;
      candidate[p] = levels[p][level[p] + 1];
      evaluator.evaluate_uncached(candidate, plan_bits);
      ++candidates;
    }
    result.timing.naive_seconds_per_step = seconds_since(t);
    result.timing.uncached_seconds_per_evaluation =
        candidates > 0 ? result.timing.naive_seconds_per_step / static_cast<double>(candidates) : 0.0;
  }

  int step = 0;
  const auto step_clock = Clock::now();
  while (!queue.empty()) {
    Candidate top = queue.top();
    queue.pop();
    if (top.evaluated_at_step != step) {  // stale: refresh and let it compete again
      push(top.point, top.bits_move, step);
      continue;
    }
    const std::size_t p = top.point;
    if (!(evaluator.plan()[p] == levels[p][level[p]])) throw std::logic_error("greedy bookkeeping");
    const std::int64_t k = levels[p][top.target.k_level];
    if (!evaluator.has_pending(p, k,
                               bits_arg(top.target))) {  // another candidate was refreshed after this one
      const auto t = Clock::now();
      evaluator.try_change(p, k, bits_arg(top.target));
      evaluation_seconds += seconds_since(t);
      ++evaluations;
    }
    evaluator.commit();
    level[p] = top.target.k_level;
    bit_level[p] = top.target.bit_level;
    ++step;
    plan = evaluator.plan();
    plan_bits = evaluator.bits();
    if (hardware) current_cost = options.hardware_cost(plan, plan_bits);
    EvalPoint now = evaluator.current();
    const int bits = q.with_point_bits(plan_bits).bits_at(p, plan[p] < points[p].channels);
    result.steps.push_back(record(step, points[p].name, points[p].channels, plan[p], bits, plan, plan_bits,
                                  now, points, q, evaluations, seconds_since(started), current_cost));
    const auto& r = result.steps.back().reduction;
    const bool changed = options.after_step && options.after_step(step, r);
    if (changed) {  // learning compensated the plan: it and every candidate are measured again
      now = evaluator.set_plan(plan, plan_bits);
      result.steps.back().val_loss = now.loss;
      result.steps.back().val_accuracy = now.accuracy;
    }
    if (progress)
      std::fprintf(stderr,
                   "\rgreedy step %d: %s k=%lld/%lld %d-bit  reduction %.2fx (8-bit)  val acc %.4f  %lld "
                   "evals  %.0f s   ",
                   step, points[p].name.c_str(), static_cast<long long>(plan[p]),
                   static_cast<long long>(points[p].channels), bits, r.vs_b8, now.accuracy,
                   static_cast<long long>(evaluations), seconds_since(started));
    if (start.accuracy - now.accuracy > options.max_accuracy_drop || r.vs_b8 >= options.max_reduction) break;
    if (changed) {
      queue = {};
      parked.clear();
      for (std::size_t point = 0; point < points.size(); ++point)
        for (bool bits_move : {false, true})
          if (has_more(point, bits_move)) push(point, bits_move, step);
      continue;
    }
    if (has_more(p, top.bits_move))  // cost unknown until it surfaces
      queue.push(Candidate{top.metric, p, -1, top.target, top.bits_move});
    std::vector<std::pair<std::size_t, bool>> retry;
    retry.swap(parked);
    for (const auto& [waiting, bits_move] : retry) push(waiting, bits_move, step);
  }
  if (progress) std::fputc('\n', stderr);

  auto& timing = result.timing;
  timing.points = static_cast<std::int64_t>(points.size());
  timing.cached_seconds_per_evaluation =
      evaluations > 0 ? evaluation_seconds / static_cast<double>(evaluations) : 0;
  // Per step, the first round of evaluations (every candidate once) included in both figures.
  timing.evaluations_per_step = step > 0 ? static_cast<double>(evaluations) / step : 0;
  timing.seconds_per_step = step > 0 ? (seconds_since(step_clock) + first_round_seconds) / step : 0;
  timing.speedup = timing.seconds_per_step > 0 ? timing.naive_seconds_per_step / timing.seconds_per_step : 0;
  timing.total_seconds = seconds_since(started);
  return result;
}

std::string trajectory_csv(const std::string& network, const std::vector<GreedyStep>& steps) {
  std::string out =
      "network,step,point,channels,k,bits,reduction_vs_b8,reduction_vs_b8_with_overhead,val_loss,val_"
      "accuracy,"
      "evaluations,seconds,hardware_cost\n";
  // Against 16-bit activations (baseline b0 = 8) every reduction is twice these (struct Reduction).
  for (const auto& s : steps)
    out += fmt::format("{},{},{},{},{},{},{:.4f},{:.4f},{:.5f},{:.5f},{},{:.1f},{:.6g}\n", network, s.step,
                       s.point, s.channels, s.k, s.bits, s.reduction.vs_b8, s.reduction.vs_b8_with_overhead,
                       s.val_loss, s.val_accuracy, s.evaluations, s.seconds, s.hardware_cost);
  return out;
}

}  // namespace capsim::workloads
