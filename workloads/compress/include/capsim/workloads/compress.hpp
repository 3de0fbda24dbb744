#pragma once
// The compression-aware projection of activations (Tai, Teng, Chang, Wu, arXiv 2110.08828),
// reconstructed where the paper does not say: every activation the accelerator writes to DRAM
// (every node output that another node reads) is a compression point. At a point with C channels
// each pixel's C values x are projected onto k basis vectors, the k coefficients quantized to
// b bits, and reconstructed after the read:  x^ = D Q(E (x - mean)) + mean,  E: k x C, D: C x k.
// PCA gives E = V_k^T and D = V_k; the learnable projection starts there and is fine-tuned.
// A point kept at k = C is stored uncompressed: per-channel quantization to the baseline b0 bits.
#include <torch/torch.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "capsim/trace/plan.hpp"
#include "capsim/workloads/graph.hpp"

namespace capsim::workloads {

struct CompressionPoint {
  int node = -1;               // GraphNet node index
  std::string name;            // the node's (layer's) name
  std::int64_t channels = 0;   // C
  std::int64_t pixels = 0;     // H * W per image
  std::int64_t consumers = 0;  // layers that read it: it is written once and read this many times
};

// Every node output read by another node, in node order.
std::vector<CompressionPoint> compression_points(const GraphNet& net, const trace::Shape& input);

// What calibration measured at one point (float32 CPU tensors).
struct PointStatistics {
  torch::Tensor mean;              // [C]
  torch::Tensor basis;             // [C, C]; column j is the direction of the j-th largest variance
  torch::Tensor variances;         // [C] eigenvalues, descending
  torch::Tensor coefficient_clip;  // [C] largest |coefficient| on the full basis
  torch::Tensor channel_min;       // [C] range of the raw activations (uncompressed quantization)
  torch::Tensor channel_max;
};

struct Calibration {
  std::string model;
  trace::Shape input;
  std::int64_t images = 0;
  std::vector<CompressionPoint> points;
  std::vector<PointStatistics> stats;

  // Fraction of variance the first k directions of point p explain.
  double explained(std::size_t p, std::int64_t k) const;
  // Smallest k whose explained variance reaches `fraction`.
  std::int64_t k_for_variance(std::size_t p, double fraction) const;
};

// Channel means and covariances accumulated in float64 over `inputs` (normalised images), then
// an eigendecomposition per point, then a second pass for the coefficient ranges.
Calibration calibrate(GraphNet& net, const torch::Tensor& inputs, std::int64_t batch_size = 250);
void save_calibration(const Calibration& calibration, const std::string& path);
Calibration load_calibration(const std::string& path);  // InputError naming the file on bad content
// InputError unless the calibration's points are exactly the network's (another model, width...).
void check_calibration_matches(const Calibration& calibration, const GraphNet& net, const std::string& file);
std::string explained_variance_csv(const Calibration& calibration);  // point,channels,k,explained

// ---- plans and their cost -----------------------------------------------------------------------

// Bits stored per point under a mixed-precision plan: the coefficients of a projected point
// (k < C), the channels of a point kept at full dimension (k == C). Empty: no per-point choice.
using PointBits = std::vector<int>;

// How a projected point's bits are spread over its k coefficients: every coefficient at the
// point's width b (uniform), or widths by variance summing to k * b (component_bit_widths), so
// the point stores exactly as many bits either way.
enum class ComponentBits { uniform, variance };
const char* to_string(ComponentBits allocation);
// "uniform" or "variance"; std::nullopt for anything else.
std::optional<ComponentBits> component_bits_from_string(const std::string& text);

struct QuantSettings {
  int coefficient_bits = 8;  // b: projected coefficients
  int baseline_bits = 8;     // b0 of points kept uncompressed in the accuracy model
  // Projection matrices, means and quantization parameters in DRAM: E, D and the means are
  // quantized to it in every evaluation (quantize_side_data); >= 32 keeps them in float32.
  int matrix_bits = 16;
  // Mixed precision (the mixed greedy): bits of each point, overriding coefficient_bits and
  // baseline_bits point by point. Empty: every point at those two.
  PointBits point_bits;
  ComponentBits component_bits = ComponentBits::uniform;  // projected points only

  // The bits point p stores at, projected (k < C) or not.
  int bits_at(std::size_t p, bool projected) const {
    if (p < point_bits.size()) return point_bits[p];
    return projected ? coefficient_bits : baseline_bits;
  }
  // A point below the baseline width at full dimension (stored, not projected, at fewer bits).
  bool narrowed(std::size_t p) const { return p < point_bits.size() && point_bits[p] < baseline_bits; }
  // The same settings with every point at `bits` (a uniform-precision plan's start).
  QuantSettings with_point_bits(PointBits bits) const {
    QuantSettings q = *this;
    q.point_bits = std::move(bits);
    return q;
  }
};

// The clipping range of a `bits`-bit quantizer for a value of standard deviation `sigma` whose
// largest magnitude was `largest`: min(largest, alpha(bits) * sigma), with alpha the MSE-optimal
// clip of a Laplace-distributed value (Banner, Nahshan, Soudry, "Post training 4-bit quantization
// of convolutional networks for rapid-deployment", NeurIPS 2019, Table 1 of the ACIQ analysis).
// At 8 bits and above the range is `largest` (nothing clips): plans at 8 bits are unchanged.
torch::Tensor clip_for_bits(const torch::Tensor& largest, const torch::Tensor& sigma, int bits);
// The Laplace MSE-optimal clip in standard deviations at `bits` (2..8); +inf above 8.
double laplace_clip_sigmas(int bits);

// Bits per principal component at an average of `average_bits` (2..16): the integer widths in
// [2, 16] summing to k * average_bits that minimise sum_j variance_j * 4^-b_j, the high-rate
// distortion of a quantizer whose step scales with the component's standard deviation (its clip
// is alpha(b) sigma). Greedy marginal allocation, one bit at a time to the component whose
// distortion it lowers most (ties: the lower index), is optimal for this separable convex
// objective (Fox 1966; Gersho and Gray, "Vector Quantization and Signal Compression", 1992, 8.4).
// Equal variances give every component average_bits; 4x the variance earns one more bit.
std::vector<int> component_bit_widths(const std::vector<double>& variances, int average_bits);

using KeptDims = std::vector<std::int64_t>;  // k per point; k == C: uncompressed

KeptDims full_dims(const Calibration& calibration);

// Activation memory access of a plan in bits: every point written once and read by each consumer.
// Uncompressed points count `reference_bits` per value (or their own narrower width under
// q.point_bits); projected ones k coefficients of their bits.
double access_bits(const std::vector<CompressionPoint>& points, const KeptDims& k, const QuantSettings& q,
                   int reference_bits);
// Projection side data (encoder once, decoder per consumer: k x C matrix, C means, k scales).
double overhead_bits(const std::vector<CompressionPoint>& points, const KeptDims& k, const QuantSettings& q);

// A plan's activation memory access against 8- and 16-bit uncompressed activations, without and
// with its side data. The plan's own bits are those its accuracy is measured with (full-dimension
// points at quantization.baseline_bits), so with the default b0 = 8 every reduction against
// 16-bit is twice the one against 8-bit.
struct Reduction {
  double vs_b8 = 1, vs_b16 = 1, vs_b8_with_overhead = 1, vs_b16_with_overhead = 1;
};
Reduction reduction_of(const std::vector<CompressionPoint>& points, const KeptDims& k,
                       const QuantSettings& q);

// Plan files (capsim-plan v1) with optional measured statistics per point.
struct PointMeasure {
  double entropy_bits_per_value = 0;
  double nrmse = 0;
};
trace::Plan to_plan(const Calibration& calibration, const KeptDims& k, const QuantSettings& q,
                    const std::string& name, const std::string& method,
                    const std::vector<PointMeasure>& measures = {});
// k per point of a plan file; with `bits`, also the bits of every point when the plan stores any
// point at other than `baseline_bits` (a mixed plan; else `bits` is left empty).
KeptDims dims_from_plan(const Calibration& calibration, const trace::Plan& plan, PointBits* bits = nullptr,
                        int baseline_bits = 8);
// The quantization a plan file was measured with: its bits, its points' widths (`bits` from
// dims_from_plan) and its allocation over components. bits_override > 0 stores every point at that
// width instead (the allocation over components is kept).
QuantSettings quantization_of(const trace::Plan& plan, PointBits bits, int bits_override = 0);

// ---- the compressor -------------------------------------------------------------------------

// One point's projection: x^ = decoder Q(encoder (x - mean)) + mean, coefficients clipped at `clip`.
struct Projection {
  torch::Tensor encoder;  // [k, C]
  torch::Tensor decoder;  // [C, k]
  torch::Tensor mean;     // [C]
  torch::Tensor clip;     // [k]
};

Projection pca_projection(const PointStatistics& stats, std::int64_t k);

// Symmetric fake quantization of a matrix to `bits` (2..31; >= 32 returns it unchanged) with one
// scale per row (dim 0), max |row| / (2^(bits-1) - 1), so nothing clips and the error of every
// entry is at most half a step; a 1-D tensor gets one scale. Straight-through gradient.
// std::invalid_argument for bits < 2.
torch::Tensor fake_quantize_rows(const torch::Tensor& matrix, int bits);
// The side data as DRAM stores it at `matrix_bits`: E with one scale per row and D with one scale
// per column (one per direction j: both fold into coefficient j's own quantization scale, so no
// extra side data), the mean with one scale. The clip is unchanged. Straight-through gradients.
Projection quantize_side_data(const Projection& projection, int matrix_bits);

// The stored coefficients of a projected point, dequantized: Q_b(E (x - mean)), [N, k, H, W] or
// [N, k], computed in raw's dtype. `projection` is used as given (quantize_side_data it first).
torch::Tensor encode_quantized(const Projection& projection, const torch::Tensor& raw, int coefficient_bits);
// x^ = D coefficients + mean, in the coefficients' dtype.
torch::Tensor decode(const Projection& projection, const torch::Tensor& coefficients);

// Symmetric uniform fake quantization per channel (dim 1) to `bits`, range [-clip, clip], with a
// straight-through gradient. Float32 uses LibTorch's fused kernel; other dtypes (float64, for
// exactness checks) the same arithmetic composed.
torch::Tensor fake_quantize_symmetric(const torch::Tensor& x, const torch::Tensor& clip, int bits);
// The same with a width per channel (ComponentBits::variance): channel j has 2^(widths[j]-1) - 1
// levels each side of 0 over [-clip_j, clip_j].
torch::Tensor fake_quantize_symmetric(const torch::Tensor& x, const torch::Tensor& clip,
                                      const std::vector<int>& widths);
// Asymmetric per-channel fake quantization to `bits` over [lo, hi].
torch::Tensor fake_quantize_range(const torch::Tensor& x, const torch::Tensor& lo, const torch::Tensor& hi,
                                  int bits);

// The tensor consumers read at point p, given its node's raw output: the projection (nullptr:
// uncompressed, per-channel quantization to the baseline bits) applied to `raw`, its side data
// quantized to q.matrix_bits: decode(s, encode_quantized(s, raw, b)), s = quantize_side_data(...).
// `bits`: the point's width (coefficients if projected, channels if not); < 0 takes it from q
// (coefficient_bits or baseline_bits). Below 8 bits the quantizer's range is clip_for_bits of the
// calibrated range: per coefficient from the PCA variances, per channel from the channel's
// second moment about zero (post-ReLU activations are one-sided). Under ComponentBits::variance
// a projected point's coefficients get component_bit_widths of the PCA variances of its first k
// directions at an average of `bits`, each clipped for its own width.
torch::Tensor reconstruct(const Projection* projection, const PointStatistics& stats,
                          const torch::Tensor& raw, const QuantSettings& q, int bits = -1);
// The coefficients reconstruct decodes for a projected point at `bits` (> 0), dequantized: each
// coefficient at its width and clip under q.component_bits. `stored`: the side data as DRAM holds
// it (quantize_side_data at q.matrix_bits), so reconstruct == decode(stored, encode_stored(...)).
// What a folded consumer reads (FoldedNetwork).
torch::Tensor encode_stored(const Projection& stored, const PointStatistics& stats, const torch::Tensor& raw,
                            const QuantSettings& q, int bits);

// The backbone's parameter values (net->parameters() order), detached copies: what a fine-tuning
// that also trains the backbone learns beside the projections (learnable.backbone).
using BackboneWeights = std::vector<torch::Tensor>;
BackboneWeights backbone_weights(GraphNet& net);

// Installs `weights` into net's parameters for its lifetime and restores the previous values on
// every way out; empty weights leave the network as it is. Throws std::invalid_argument when the
// count or a shape does not match the network.
class BackboneSwap {
 public:
  BackboneSwap(GraphNet& net, const BackboneWeights& weights);
  ~BackboneSwap();
  BackboneSwap(const BackboneSwap&) = delete;
  BackboneSwap& operator=(const BackboneSwap&) = delete;

 private:
  GraphNet& net_;
  BackboneWeights saved_;
};

class Compressor {
 public:
  // PCA projections for every point with k < C.
  Compressor(const Calibration& calibration, const KeptDims& k, const QuantSettings& q);
  // Explicit projections (learned); nullopt entries are uncompressed points.
  Compressor(const Calibration& calibration, std::vector<std::optional<Projection>> projections,
             const QuantSettings& q);

  // The tensor the consumers of point p read, given the raw output of its node.
  torch::Tensor apply(std::size_t point, const torch::Tensor& raw) const;
  // Quantized coefficients (integers as float) of point p, for entropy measurements.
  torch::Tensor quantized_codes(std::size_t point, const torch::Tensor& raw) const;
  // A GraphNet hook applying apply() at every compression point.
  OutputHook hook() const;

  const std::vector<std::optional<Projection>>& projections() const { return projections_; }
  // The point a node's output is (-1: none).
  int point_of_node(int node) const {
    return node >= 0 && static_cast<std::size_t>(node) < node_to_point_.size()
               ? node_to_point_[static_cast<std::size_t>(node)]
               : -1;
  }
  const QuantSettings& quant() const { return quant_; }
  const Calibration& calibration() const { return *calibration_; }
  // The backbone weights the projections were learned with (empty: the trained network's); whoever
  // runs the network with hook() installs them (BackboneSwap).
  const BackboneWeights& backbone() const { return backbone_; }
  Compressor& with_backbone(BackboneWeights weights) {
    backbone_ = std::move(weights);
    return *this;
  }

 private:
  const Calibration* calibration_;
  std::vector<std::optional<Projection>> projections_;
  BackboneWeights backbone_;
  std::vector<int> node_to_point_;
  QuantSettings quant_;
};

// Entropy of the quantized values and reconstruction NRMSE of every point under `compressor`.
std::vector<PointMeasure> measure_points(GraphNet& net, const Compressor& compressor,
                                         const torch::Tensor& inputs, std::int64_t batch_size = 250);

// ---- baselines --------------------------------------------------------------------------------

// Uniform: k = max(1, round(ratio * C)) everywhere.
KeptDims uniform_dims(const Calibration& calibration, double ratio);
// Explained-variance threshold per point (as in Chmiel et al., Feature Map Transform Coding).
KeptDims variance_dims(const Calibration& calibration, double fraction);
// Per-tensor size ceiling (as in Price and Tanner 2023): every point larger than `ceiling_bits`
// per image keeps only as many coefficients as fit under it.
KeptDims ceiling_dims(const Calibration& calibration, const QuantSettings& q, double ceiling_bits);

}  // namespace capsim::workloads
