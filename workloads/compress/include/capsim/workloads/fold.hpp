#pragma once
// Decoder folding (docs/compression.md). A consumer of a projected activation reads
// x^ = D q + mu, linear in the stored (dequantized) coefficients q. When the consumer is a dense
// convolution or a linear layer (decoder_foldable, model_spec.hpp), the decoder folds into its
// weights: it reads q directly,
//   conv:    W * x^ = (W D) * q + B,  B = W * (mu, zero-padded): a per-position bias map that
//            differs from W mu near the borders, where padded positions contribute 0, not mu;
//   linear:  W flatten(x^) = W (I (x) D) flatten(q) + W (mu (x) 1)   (per pixel after flatten).
// Batch-norm and activation follow the conv unchanged. Consumers that cannot fold (depthwise
// convs, pools, residual adds) keep the decoder.
//
// FoldedNetwork runs a network under a compressor both ways, to prove the fold exact.
#include <torch/torch.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "capsim/workloads/compress.hpp"

namespace capsim::workloads {

// A dense conv (weight [Cout, C, kh, kw], zero padding) fed by x^ = D q + mu on an input of
// in_h x in_w: weight [Cout, k, kh, kw] = W D and bias_map [1, Cout, Ho, Wo] = conv of the
// constant-mu image (exact, so conv(q, weight) + bias_map == conv(D q + mu, W) up to rounding).
// Computed in float64, returned in weight's dtype.
struct FoldedConv {
  torch::Tensor weight;
  torch::Tensor bias_map;
};
FoldedConv fold_conv(const torch::Tensor& weight, int stride, int padding, const torch::Tensor& decoder,
                     const torch::Tensor& mean, std::int64_t in_h, std::int64_t in_w);

// A linear layer (weight [Out, C * pixels]) reading flatten(x^) of a [C, H, W] (or [C], pixels 1)
// tensor: weight [Out, k * pixels] = W (I (x) D) and bias [Out] = W (mu (x) 1) (without the
// layer's own bias). Computed in float64, returned in weight's dtype.
struct FoldedLinear {
  torch::Tensor weight;
  torch::Tensor bias;
};
FoldedLinear fold_linear(const torch::Tensor& weight, const torch::Tensor& decoder, const torch::Tensor& mean,
                         std::int64_t pixels);

// The (projected point, consumer, folded) edges of a network under a compressor: the rule of
// decoder_foldable on the network's nodes (equal to fold_edges of its trace with the plan applied).
std::vector<FoldEdge> fold_edges(const GraphNet& net, const Compressor& compressor);

class FoldedNetwork {
 public:
  // A copy of `net` in `dtype` (kFloat32 as deployed, kFloat64 to check exactness) in eval mode,
  // the compressor's side data quantized to its quant().matrix_bits, and the folded weights of
  // every foldable edge for inputs of shape `input` (bias maps depend on the spatial size).
  FoldedNetwork(const GraphNet& net, const Compressor& compressor, const trace::Shape& input,
                torch::Dtype dtype = torch::kFloat32);

  // Decode, then run every consumer as is: the same logits as net->forward(x, compressor.hook())
  // (bit-identical in float32).
  torch::Tensor forward_unfolded(const torch::Tensor& x);
  // Foldable consumers read the quantized coefficients through their folded weights; the decoder
  // runs only for the others.
  torch::Tensor forward_folded(const torch::Tensor& x);

  const std::vector<FoldEdge>& edges() const { return edges_; }
  torch::Dtype dtype() const { return dtype_; }

 private:
  torch::Tensor run(const torch::Tensor& x, bool fold);

  GraphNet net_{nullptr};
  const Calibration* calibration_;
  QuantSettings quant_;
  torch::Dtype dtype_;
  trace::Shape input_;
  std::vector<int> point_of_node_;
  std::vector<std::optional<Projection>> stored_;           // per point: side data as stored, in dtype
  std::vector<char> reads_coefficients_;                    // per node: folded consumer of a projected point
  std::vector<char> needs_decoded_;                         // per node (folded run): some consumer reads x^
  std::vector<torch::Tensor> folded_weight_, folded_bias_;  // per node (bias: map or vector)
  std::vector<int> last_use_;
  std::vector<FoldEdge> edges_;
};

// Both evaluations of `inputs` (normalised images) in batches, compared.
struct FoldCheck {
  std::int64_t images = 0;
  double max_abs_logit_diff = 0;  // max |folded - unfolded| over images and classes
  double max_abs_logit = 0;       // max |unfolded logit|: the scale of the difference
  double accuracy_unfolded = 0, accuracy_folded = 0;
  std::int64_t differing_predictions = 0;  // images whose argmax differs
  std::vector<std::int64_t> predictions;   // decode-then-convolve argmax per image, in input order
};
// run_folded = false: the decode-then-convolve network alone (the study's accuracy of a plan in half
// the time); the folded figures then repeat the unfolded ones.
FoldCheck check_folding(FoldedNetwork& network, const torch::Tensor& inputs, const torch::Tensor& labels,
                        std::int64_t batch_size = 500, bool run_folded = true);

}  // namespace capsim::workloads
