// Applying a plan: PCA or learned projections, coefficient quantization, and measurements.
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <queue>
#include <stdexcept>
#include <string>

#include "capsim/workloads/compress.hpp"

namespace capsim::workloads {
namespace {

// Broadcasts a per-channel vector over dim 1 of x ([N, C, H, W] or [N, C]).
torch::Tensor per_channel(const torch::Tensor& v, const torch::Tensor& x) {
  return x.dim() == 4 ? v.view({1, -1, 1, 1}) : v.view({1, -1});
}

// y = M (x - b) along the channel dimension, for [N, C, H, W] (a 1x1 convolution) or [N, C].
torch::Tensor channel_matmul(const torch::Tensor& x, const torch::Tensor& matrix, const torch::Tensor& bias) {
  if (x.dim() == 4) return torch::conv2d(x, matrix.view({matrix.size(0), matrix.size(1), 1, 1}), bias);
  return torch::addmm(bias, x, matrix.t());
}

std::vector<int> map_nodes(const Calibration& cal) {
  int nodes = 0;
  for (const auto& p : cal.points) nodes = std::max(nodes, p.node + 1);
  std::vector<int> map(static_cast<std::size_t>(nodes) + 1, -1);
  for (std::size_t p = 0; p < cal.points.size(); ++p)
    map[static_cast<std::size_t>(cal.points[p].node)] = static_cast<int>(p);
  return map;
}

bool needs_gradient(const torch::Tensor& x) { return torch::GradMode::is_enabled() && x.requires_grad(); }

// Levels each side of 0 of a symmetric quantizer per width: 2^(b-1) - 1.
std::vector<double> symmetric_levels(const std::vector<int>& widths) {
  std::vector<double> levels(widths.size());
  for (std::size_t j = 0; j < widths.size(); ++j) levels[j] = std::ldexp(1.0, widths[j] - 1) - 1.0;
  return levels;
}

double entropy_bits(const torch::Tensor& histogram) {
  const auto counts = histogram.to(torch::kFloat64);
  const double total = counts.sum().item<double>();
  if (total <= 0) return 0.0;
  const auto p = counts.masked_select(counts > 0) / total;
  return -(p * p.log2()).sum().item<double>();
}

}  // namespace

Projection pca_projection(const PointStatistics& s, std::int64_t k) {
  const auto directions = s.basis.slice(1, 0, k);  // [C, k]
  return {directions.t().contiguous(), directions.contiguous(), s.mean,
          s.coefficient_clip.slice(0, 0, k).clone()};
}

// LibTorch's fused per-channel fake quantization: one pass over the tensor (about a third faster
// than the composed operations here) and a straight-through gradient inside the range.
torch::Tensor fake_quantize_symmetric(const torch::Tensor& x, const torch::Tensor& clip, int bits) {
  const auto levels = static_cast<std::int64_t>(std::ldexp(1.0, bits - 1)) - 1;
  const auto scale = (clip.clamp_min(1e-8) / static_cast<double>(levels)).to(torch::kFloat32).contiguous();
  if (x.scalar_type() != torch::kFloat32) {
    const auto s = per_channel(scale.to(x.scalar_type()), x);
    const auto q = torch::clamp(torch::round(x.detach() / s), -static_cast<double>(levels),
                                static_cast<double>(levels)) *
                   s;
    return needs_gradient(x) ? x + (q - x.detach()) : q;  // no gradient mask: float32 trains
  }
  const auto zero = torch::zeros({clip.size(0)}, torch::kInt);
  return torch::fake_quantize_per_channel_affine(x, scale, zero, 1, -levels, levels);
}

torch::Tensor fake_quantize_symmetric(const torch::Tensor& x, const torch::Tensor& clip,
                                      const std::vector<int>& widths) {
  if (std::adjacent_find(widths.begin(), widths.end(), std::not_equal_to<>()) == widths.end())
    return fake_quantize_symmetric(x, clip, widths.empty() ? 8 : widths.front());
  const std::vector<double> levels = symmetric_levels(widths);
  const auto level_tensor = torch::tensor(levels, torch::kFloat64);
  const auto scale =
      (clip.to(torch::kFloat64).clamp_min(1e-8) / level_tensor).to(torch::kFloat32).contiguous();
  if (x.scalar_type() != torch::kFloat32) {
    const auto s = per_channel(scale.to(x.scalar_type()), x);
    const auto l = per_channel(level_tensor.to(x.scalar_type()), x);
    const auto q = torch::clamp(torch::round(x.detach() / s), -l, l) * s;
    return needs_gradient(x) ? x + (q - x.detach()) : q;
  }
  // Clamped to each channel's own range first, the fused kernel's common integer range (the
  // widest channel's) clips nothing more: round(x / scale_j) stays within channel j's levels.
  const auto bound = per_channel(scale * level_tensor.to(torch::kFloat32), x);
  const auto widest = static_cast<std::int64_t>(*std::max_element(levels.begin(), levels.end()));
  const auto zero = torch::zeros({clip.size(0)}, torch::kInt);
  return torch::fake_quantize_per_channel_affine(torch::clamp(x, -bound, bound), scale, zero, 1, -widest,
                                                 widest);
}

const char* to_string(ComponentBits allocation) {
  return allocation == ComponentBits::variance ? "variance" : "uniform";
}

std::optional<ComponentBits> component_bits_from_string(const std::string& text) {
  if (text == "uniform") return ComponentBits::uniform;
  if (text == "variance") return ComponentBits::variance;
  return std::nullopt;
}

std::vector<int> component_bit_widths(const std::vector<double>& variances, int average_bits) {
  constexpr int kMinBits = 2, kMaxBits = 16;
  if (average_bits < kMinBits || average_bits > kMaxBits)
    throw std::invalid_argument("component_bit_widths: an average of " + std::to_string(average_bits) +
                                " bits (2..16)");
  std::vector<int> widths(variances.size(), kMinBits);
  // What one more bit removes from component j is proportional to variance_j * 4^-b_j; compared
  // in logarithms (log2 variance - 2 b_j) so tiny variances neither underflow nor tie wrongly.
  using Candidate = std::pair<double, std::ptrdiff_t>;  // (log2 of the gain, -index: ties to the lower)
  std::priority_queue<Candidate> next;
  auto gain = [&](std::size_t j) {
    const double v = variances[j];
    const double log_variance = v > 0 ? std::log2(v) : -std::numeric_limits<double>::infinity();
    return log_variance - 2.0 * widths[j];
  };
  for (std::size_t j = 0; j < widths.size(); ++j) next.emplace(gain(j), -static_cast<std::ptrdiff_t>(j));
  auto spare = static_cast<std::int64_t>(variances.size()) * (average_bits - kMinBits);
  while (spare > 0 && !next.empty()) {
    const auto j = static_cast<std::size_t>(-next.top().second);
    next.pop();
    ++widths[j];
    --spare;
    if (widths[j] < kMaxBits) next.emplace(gain(j), -static_cast<std::ptrdiff_t>(j));
  }
  return widths;
}

torch::Tensor fake_quantize_rows(const torch::Tensor& matrix, int bits) {
  if (bits < 2)
    throw std::invalid_argument("fake_quantize_rows: " + std::to_string(bits) + " bits (at least 2)");
  if (bits >= 32) return matrix;
  const double levels = std::ldexp(1.0, bits - 1) - 1.0;
  const auto rows = matrix.dim() == 1 ? matrix.view({1, -1}) : matrix;
  const auto fixed = rows.detach();
  const auto scale = fixed.abs().amax(1, true).clamp_min(1e-30) / levels;
  const auto q = torch::clamp(torch::round(fixed / scale), -levels, levels) * scale;
  // Exactly q (integers times the scale) unless a gradient must pass straight through.
  return (needs_gradient(rows) ? rows + (q - fixed) : q).view_as(matrix);
}

Projection quantize_side_data(const Projection& p, int matrix_bits) {
  if (matrix_bits >= 32) return p;
  return {fake_quantize_rows(p.encoder, matrix_bits), fake_quantize_rows(p.decoder.t(), matrix_bits).t(),
          fake_quantize_rows(p.mean, matrix_bits), p.clip};
}

torch::Tensor encode_quantized(const Projection& p, const torch::Tensor& raw, int coefficient_bits) {
  const auto encoder = p.encoder.to(raw.scalar_type()), mean = p.mean.to(raw.scalar_type());
  const auto coefficients = channel_matmul(raw, encoder, -encoder.mv(mean));
  return fake_quantize_symmetric(coefficients, p.clip, coefficient_bits);
}

torch::Tensor decode(const Projection& p, const torch::Tensor& coefficients) {
  return channel_matmul(coefficients, p.decoder.to(coefficients.scalar_type()),
                        p.mean.to(coefficients.scalar_type()));
}

namespace {

// Affine quantization parameters of [lo, hi], widened to contain 0 (as PyTorch's observers do):
// an integer zero point must exist, and a range that excluded 0 would otherwise be cut.
std::pair<torch::Tensor, torch::Tensor> range_parameters(const torch::Tensor& lo, const torch::Tensor& hi,
                                                         double levels) {
  const auto low = lo.clamp_max(0.0), high = hi.clamp_min(0.0);
  const auto scale = ((high - low).clamp_min(1e-8) / levels).to(torch::kFloat32).contiguous();
  const auto zero = torch::clamp(torch::round(-low / scale), 0.0, levels);
  return {scale, zero};
}

}  // namespace

torch::Tensor fake_quantize_range(const torch::Tensor& x, const torch::Tensor& lo, const torch::Tensor& hi,
                                  int bits) {
  const auto levels = static_cast<std::int64_t>(std::ldexp(1.0, bits)) - 1;
  const auto [scale, zero] = range_parameters(lo, hi, static_cast<double>(levels));
  if (x.scalar_type() != torch::kFloat32) {  // float64 exactness checks: the same arithmetic composed
    const auto s = per_channel(scale.to(x.scalar_type()), x), z = per_channel(zero.to(x.scalar_type()), x);
    const auto q = (torch::clamp(torch::round(x.detach() / s) + z, 0.0, static_cast<double>(levels)) - z) * s;
    return needs_gradient(x) ? x + (q - x.detach()) : q;
  }
  return torch::fake_quantize_per_channel_affine(x, scale, zero.to(torch::kInt), 1, 0, levels);
}

Compressor::Compressor(const Calibration& cal, const KeptDims& k, const QuantSettings& q)
    : calibration_(&cal), node_to_point_(map_nodes(cal)), quant_(q) {
  for (std::size_t p = 0; p < cal.points.size(); ++p) {
    if (k[p] < cal.points[p].channels)
      projections_.emplace_back(pca_projection(cal.stats[p], k[p]));
    else
      projections_.emplace_back(std::nullopt);
  }
}

Compressor::Compressor(const Calibration& cal, std::vector<std::optional<Projection>> projections,
                       const QuantSettings& q)
    : calibration_(&cal), projections_(std::move(projections)), node_to_point_(map_nodes(cal)), quant_(q) {}

BackboneWeights backbone_weights(GraphNet& net) {
  BackboneWeights weights;
  for (const auto& parameter : net->parameters()) weights.push_back(parameter.detach().clone());
  return weights;
}

namespace {

void assign_parameters(GraphNet& net, const BackboneWeights& weights) {
  torch::NoGradGuard no_grad;
  auto parameters = net->parameters();
  for (std::size_t i = 0; i < parameters.size(); ++i) parameters[i].copy_(weights[i]);
}

}  // namespace

BackboneSwap::BackboneSwap(GraphNet& net, const BackboneWeights& weights) : net_(net) {
  if (weights.empty()) return;
  const auto parameters = net->parameters();
  if (parameters.size() != weights.size())
    throw std::invalid_argument("backbone weights: " + std::to_string(weights.size()) + " tensors for " +
                                std::to_string(parameters.size()) + " parameters");
  for (std::size_t i = 0; i < parameters.size(); ++i)
    if (!parameters[i].sizes().equals(weights[i].sizes()))
      throw std::invalid_argument("backbone weights: tensor " + std::to_string(i) + " has the wrong shape");
  saved_ = backbone_weights(net);
  assign_parameters(net, weights);
}

BackboneSwap::~BackboneSwap() {
  if (!saved_.empty()) assign_parameters(net_, saved_);
}

double laplace_clip_sigmas(int bits) {
  // Banner et al. 2019 (ACIQ), Laplace(0, b): alpha* = 2.83b, 3.89b, 5.03b, 6.20b, 7.41b, 8.64b,
  // 9.89b for 2..8 bits; a Laplace value's standard deviation is sqrt(2) b.
  static constexpr double kAlphaInLaplaceScales[] = {2.83, 3.89, 5.03, 6.20, 7.41, 8.64, 9.89};
  if (bits < 2)
    throw std::invalid_argument("laplace_clip_sigmas: " + std::to_string(bits) + " bits (at least 2)");
  if (bits > 8) return std::numeric_limits<double>::infinity();
  return kAlphaInLaplaceScales[bits - 2] / std::sqrt(2.0);
}

torch::Tensor clip_for_bits(const torch::Tensor& largest, const torch::Tensor& sigma, int bits) {
  if (bits >= 8) return largest;
  return torch::minimum(largest, sigma.to(largest.scalar_type()) * laplace_clip_sigmas(bits));
}

namespace {

// The widths of a projected point's k coefficients at `bits` under q.component_bits.
std::vector<int> coefficient_widths(const PointStatistics& s, std::int64_t k, const QuantSettings& q,
                                    int bits) {
  if (q.component_bits == ComponentBits::uniform) return std::vector<int>(static_cast<std::size_t>(k), bits);
  const auto v = s.variances.slice(0, 0, k).to(torch::kFloat64).contiguous();
  return component_bit_widths(std::vector<double>(v.data_ptr<double>(), v.data_ptr<double>() + k), bits);
}

// clip_for_bits with a width per coefficient: each clipped at its own MSE-optimal range, and
// nothing clipped at 8 bits and above (as clip_for_bits).
torch::Tensor clip_for_widths(const torch::Tensor& largest, const torch::Tensor& sigma,
                              const std::vector<int>& widths) {
  std::vector<double> sigmas(widths.size());
  std::vector<int> unclipped(widths.size());
  for (std::size_t j = 0; j < widths.size(); ++j) {
    unclipped[j] = widths[j] >= 8 ? 1 : 0;
    sigmas[j] = widths[j] >= 8 ? 0.0 : laplace_clip_sigmas(widths[j]);
  }
  const auto alpha = torch::tensor(sigmas, torch::kFloat64).to(largest.scalar_type());
  const auto keep = torch::tensor(unclipped, torch::kInt).to(torch::kBool);
  return torch::where(keep, largest, torch::minimum(largest, sigma.to(largest.scalar_type()) * alpha));
}

// The range of a point stored unprojected at `bits`: the calibrated channel range, narrowed below
// 8 bits to the MSE-optimal clip. A one-sided channel (min >= 0, a ReLU output) spends all 2^b
// levels on [0, hi], the step of a symmetric (b+1)-bit quantizer, so its clip is alpha(b+1) times
// its second moment about zero; a two-sided one is clipped to mean +- alpha(b) sigma.
std::pair<torch::Tensor, torch::Tensor> channel_range(const PointStatistics& s, int bits) {
  if (bits >= 8) return {s.channel_min, s.channel_max};
  const auto variance = s.basis.pow(2).mv(s.variances).clamp_min(0);  // diag(V diag(lambda) V^T)
  const auto rms = (variance + s.mean.pow(2)).sqrt();
  const auto sigma = variance.sqrt();
  const auto one_sided = s.channel_min >= 0;
  const auto hi = torch::where(one_sided, torch::minimum(s.channel_max, rms * laplace_clip_sigmas(bits + 1)),
                               torch::minimum(s.channel_max, s.mean + sigma * laplace_clip_sigmas(bits)));
  const auto lo = torch::where(one_sided, s.channel_min,
                               torch::maximum(s.channel_min, s.mean - sigma * laplace_clip_sigmas(bits)));
  return {lo, hi};
}

}  // namespace

torch::Tensor reconstruct(const Projection* projection, const PointStatistics& stats,
                          const torch::Tensor& raw, const QuantSettings& q, int bits) {
  if (projection == nullptr) {
    const int b = bits > 0 ? bits : q.baseline_bits;
    const auto [lo, hi] = channel_range(stats, b);
    return fake_quantize_range(raw, lo, hi, b);
  }
  const Projection stored = quantize_side_data(*projection, q.matrix_bits);
  // No clamp to the channel range after decoding: clipping a ReLU output's negative
  // reconstruction errors biases the tensor upwards, which measured worse (ResNet18, k = C/2:
  // 84.6% instead of 88.8% validation accuracy).
  return decode(stored, encode_stored(stored, stats, raw, q, bits > 0 ? bits : q.coefficient_bits));
}

torch::Tensor encode_stored(const Projection& stored, const PointStatistics& stats, const torch::Tensor& raw,
                            const QuantSettings& q, int bits) {
  const std::int64_t k = stored.encoder.size(0);
  const auto sigma = stats.variances.slice(0, 0, k).clamp_min(0).sqrt();
  Projection clipped = stored;
  if (q.component_bits == ComponentBits::uniform) {
    clipped.clip = clip_for_bits(stored.clip, sigma, bits);
    return encode_quantized(clipped, raw, bits);
  }
  const std::vector<int> widths = coefficient_widths(stats, k, q, bits);
  clipped.clip = clip_for_widths(stored.clip, sigma, widths);
  const auto encoder = stored.encoder.to(raw.scalar_type()), mean = stored.mean.to(raw.scalar_type());
  const auto coefficients = channel_matmul(raw, encoder, -encoder.mv(mean));
  return fake_quantize_symmetric(coefficients, clipped.clip, widths);
}

torch::Tensor Compressor::apply(std::size_t point, const torch::Tensor& raw) const {
  const auto& projection = projections_[point];
  return reconstruct(projection ? &*projection : nullptr, calibration_->stats[point], raw, quant_,
                     quant_.bits_at(point, projection.has_value()));
}

torch::Tensor Compressor::quantized_codes(std::size_t point, const torch::Tensor& raw) const {
  const auto& projection = projections_[point];
  const int bits = quant_.bits_at(point, projection.has_value());
  const auto& s = calibration_->stats[point];
  if (!projection) {
    const double levels = std::ldexp(1.0, bits) - 1.0;
    const auto [lo, hi] = channel_range(s, bits);
    const auto [scale, zero] = range_parameters(lo, hi, levels);
    return torch::clamp(torch::round(raw / per_channel(scale, raw)) + per_channel(zero, raw), 0.0, levels);
  }
  const Projection pr = quantize_side_data(*projection, quant_.matrix_bits);
  const std::int64_t k = pr.encoder.size(0);
  const std::vector<int> widths = coefficient_widths(s, k, quant_, bits);
  const auto levels =
      per_channel(torch::tensor(symmetric_levels(widths), torch::kFloat64).to(raw.scalar_type()), raw);
  const auto coefficients = channel_matmul(raw, pr.encoder, -pr.encoder.mv(pr.mean));
  const auto clip = clip_for_widths(pr.clip, s.variances.slice(0, 0, k).clamp_min(0).sqrt(), widths);
  const auto scale = per_channel(clip.clamp_min(1e-8), coefficients) / levels;
  return torch::clamp(torch::round(coefficients / scale), -levels, levels) + levels;  // shifted to >= 0
}

OutputHook Compressor::hook() const {
  return [this](int node, const torch::Tensor& out) {
    const int p = point_of_node(node);
    return p < 0 ? out : apply(static_cast<std::size_t>(p), out);
  };
}

std::vector<PointMeasure> measure_points(GraphNet& net, const Compressor& compressor,
                                         const torch::Tensor& inputs, std::int64_t batch_size) {
  torch::NoGradGuard no_grad;
  const BackboneSwap backbone(net, compressor.backbone());
  const bool was_training = net->is_training();
  net->eval();
  const std::size_t n = compressor.projections().size();
  std::vector<double> error(n, 0.0), energy(n, 0.0);
  std::vector<torch::Tensor> histograms(n);
  for (std::int64_t start = 0; start < inputs.size(0); start += batch_size) {
    const auto batch = inputs.slice(0, start, std::min(inputs.size(0), start + batch_size));
    net->forward(batch, [&](int node, const torch::Tensor& raw) {
      const int p = compressor.point_of_node(node);
      if (p < 0) return raw;
      auto reconstructed = compressor.apply(static_cast<std::size_t>(p), raw);
      error[p] += (reconstructed - raw).pow(2).sum().item<double>();
      energy[p] += raw.pow(2).sum().item<double>();
      const auto codes =
          compressor.quantized_codes(static_cast<std::size_t>(p), raw).to(torch::kLong).flatten();
      const auto counts = torch::bincount(codes);
      auto& h = histograms[static_cast<std::size_t>(p)];
      if (!h.defined())
        h = counts;
      else if (h.size(0) >= counts.size(0))
        h.slice(0, 0, counts.size(0)) += counts;
      else
        h = counts + torch::cat({h, torch::zeros({counts.size(0) - h.size(0)}, h.options())});
      return reconstructed;
    });
  }
  net->train(was_training);
  std::vector<PointMeasure> measures(n);
  for (std::size_t p = 0; p < n; ++p) {
    measures[p].nrmse = energy[p] > 0 ? std::sqrt(error[p] / energy[p]) : 0.0;
    if (histograms[p].defined()) measures[p].entropy_bits_per_value = entropy_bits(histograms[p]);
  }
  return measures;
}

}  // namespace capsim::workloads
