// Decoder folding: folded weights, the fold edges of a plan, and a network run both ways.
#include "capsim/workloads/fold.hpp"

#include <algorithm>
#include <stdexcept>

namespace capsim::workloads {
namespace {

torch::Tensor activate(torch::Tensor y, trace::Activation act) {
  switch (act) {
    case trace::Activation::None:
      return y;
    case trace::Activation::Relu:
      return torch::relu_(y);
    case trace::Activation::Relu6:
      return torch::hardtanh_(y, 0.0, 6.0);
  }
  return y;
}

}  // namespace

FoldedConv fold_conv(const torch::Tensor& weight, int stride, int padding, const torch::Tensor& decoder,
                     const torch::Tensor& mean, std::int64_t in_h, std::int64_t in_w) {
  torch::NoGradGuard no_grad;
  const auto w = weight.detach().to(torch::kFloat64);
  const auto d = decoder.detach().to(torch::kFloat64);
  const auto mu = mean.detach().to(torch::kFloat64);
  if (w.dim() != 4 || d.dim() != 2 || w.size(1) != d.size(0) || mu.numel() != d.size(0))
    throw std::invalid_argument("fold_conv: weight, decoder and mean do not chain");
  FoldedConv f;
  f.weight = torch::einsum("ocyx,cj->ojyx", {w, d}).to(weight.scalar_type()).contiguous();
  // The exact mean term: the conv of an image that is mu inside and 0 in the padding.
  const auto image = mu.view({1, -1, 1, 1}).expand({1, mu.numel(), in_h, in_w}).contiguous();
  f.bias_map = torch::conv2d(image, w, {}, stride, padding).to(weight.scalar_type()).contiguous();
  return f;
}

FoldedLinear fold_linear(const torch::Tensor& weight, const torch::Tensor& decoder, const torch::Tensor& mean,
                         std::int64_t pixels) {
  torch::NoGradGuard no_grad;
  const auto w = weight.detach().to(torch::kFloat64);
  const auto d = decoder.detach().to(torch::kFloat64);
  const auto mu = mean.detach().to(torch::kFloat64);
  const std::int64_t channels = d.size(0), k = d.size(1);
  if (w.dim() != 2 || w.size(1) != channels * pixels || mu.numel() != channels)
    throw std::invalid_argument("fold_linear: weight, decoder and mean do not chain");
  // flatten(1) of [N, C, H, W] orders features channel-major: feature c * pixels + p.
  const auto per_pixel = w.view({w.size(0), channels, pixels});
  FoldedLinear f;
  f.weight = torch::einsum("ocp,cj->ojp", {per_pixel, d}).reshape({w.size(0), k * pixels});
  f.weight = f.weight.to(weight.scalar_type()).contiguous();
  f.bias = torch::einsum("ocp,c->o", {per_pixel, mu}).to(weight.scalar_type()).contiguous();
  return f;
}

std::vector<FoldEdge> fold_edges(const GraphNet& net, const Compressor& compressor) {
  const auto& nodes = net->nodes();
  std::vector<FoldEdge> edges;
  for (int i = 0; i < net->num_nodes(); ++i) {
    const int p = compressor.point_of_node(i);
    if (p < 0 || !compressor.projections()[static_cast<std::size_t>(p)]) continue;
    for (int c : net->consumers()[static_cast<std::size_t>(i)]) {
      const NodeSpec& consumer = nodes[static_cast<std::size_t>(c)];
      edges.push_back({nodes[static_cast<std::size_t>(i)].name, consumer.name, decoder_foldable(consumer)});
    }
  }
  return edges;
}

FoldedNetwork::FoldedNetwork(const GraphNet& net, const Compressor& compressor, const trace::Shape& input,
                             torch::Dtype dtype)
    : calibration_(&compressor.calibration()), quant_(compressor.quant()), dtype_(dtype), input_(input) {
  torch::NoGradGuard no_grad;
  net_ = GraphNet(std::dynamic_pointer_cast<GraphNetImpl>(net->clone()));
  net_->to(dtype);
  net_->eval();
  const int n = net_->num_nodes();
  const auto& nodes = net_->nodes();
  const auto& consumers = net_->consumers();
  const auto shapes = net_->output_shapes(input);
  point_of_node_.assign(static_cast<std::size_t>(n), -1);
  for (int i = 0; i < n; ++i) point_of_node_[static_cast<std::size_t>(i)] = compressor.point_of_node(i);
  for (const auto& projection : compressor.projections()) {
    if (!projection) {
      stored_.emplace_back(std::nullopt);
      continue;
    }
    const Projection s = quantize_side_data(*projection, quant_.matrix_bits);
    stored_.emplace_back(Projection{s.encoder.detach().to(dtype), s.decoder.detach().to(dtype),
                                    s.mean.detach().to(dtype), s.clip.detach()});
  }
  edges_ = fold_edges(net_, compressor);

  reads_coefficients_.assign(static_cast<std::size_t>(n), 0);
  needs_decoded_.assign(static_cast<std::size_t>(n), 0);
  folded_weight_.assign(static_cast<std::size_t>(n), {});
  folded_bias_.assign(static_cast<std::size_t>(n), {});
  last_use_.assign(static_cast<std::size_t>(n), -1);
  for (int i = 0; i < n; ++i) {
    const NodeSpec& s = nodes[static_cast<std::size_t>(i)];
    for (int producer : s.inputs)
      if (producer >= 0) last_use_[static_cast<std::size_t>(producer)] = i;
    const int producer = s.inputs[0];
    const int p = producer >= 0 ? point_of_node_[static_cast<std::size_t>(producer)] : -1;
    if (p < 0 || !stored_[static_cast<std::size_t>(p)] || !decoder_foldable(s)) continue;
    const Projection& stored = *stored_[static_cast<std::size_t>(p)];
    const trace::Shape& in = shapes[static_cast<std::size_t>(producer)];
    reads_coefficients_[static_cast<std::size_t>(i)] = 1;
    if (s.op == NodeOp::Conv) {
      FoldedConv f = fold_conv(net_->conv_module(i)->weight, s.stride, s.padding, stored.decoder, stored.mean,
                               in.h, in.w);
      folded_weight_[static_cast<std::size_t>(i)] = f.weight;
      folded_bias_[static_cast<std::size_t>(i)] = f.bias_map;
    } else {
      FoldedLinear f = fold_linear(net_->linear_module(i)->weight, stored.decoder, stored.mean, in.h * in.w);
      folded_weight_[static_cast<std::size_t>(i)] = f.weight;
      folded_bias_[static_cast<std::size_t>(i)] = f.bias;
    }
  }
  for (int i = 0; i < n; ++i)
    for (int c : consumers[static_cast<std::size_t>(i)])
      if (!reads_coefficients_[static_cast<std::size_t>(c)]) needs_decoded_[static_cast<std::size_t>(i)] = 1;
}

torch::Tensor FoldedNetwork::forward_unfolded(const torch::Tensor& x) { return run(x, false); }
torch::Tensor FoldedNetwork::forward_folded(const torch::Tensor& x) { return run(x, true); }

torch::Tensor FoldedNetwork::run(const torch::Tensor& input, bool fold) {
  torch::NoGradGuard no_grad;
  const torch::Tensor x = input.to(dtype_);
  const int n = net_->num_nodes();
  const auto& nodes = net_->nodes();
  // Per node: the tensor consumers read (x^, or the raw output where it is no point), and for a
  // projected point its quantized coefficients.
  std::vector<torch::Tensor> decoded(static_cast<std::size_t>(n)), coefficients(static_cast<std::size_t>(n));
  torch::Tensor logits;
  for (int i = 0; i < n; ++i) {
    const auto u = static_cast<std::size_t>(i);
    const NodeSpec& s = nodes[u];
    torch::Tensor out;
    if (fold && reads_coefficients_[u]) {
      const torch::Tensor& q = coefficients[static_cast<std::size_t>(s.inputs[0])];
      if (s.op == NodeOp::Conv) {
        const auto conv = net_->conv_module(i);
        torch::Tensor y = torch::conv2d(
            q, folded_weight_[u], conv->options.bias() ? conv->bias : torch::Tensor(), s.stride, s.padding);
        y.add_(folded_bias_[u]);
        if (s.batch_norm) y = net_->norm_module(i)->forward(y);
        out = activate(std::move(y), s.activation);
      } else {
        const auto linear = net_->linear_module(i);
        torch::Tensor y =
            torch::linear(q.flatten(1), folded_weight_[u],
                          linear->options.bias() ? linear->bias + folded_bias_[u] : folded_bias_[u]);
        out = activate(std::move(y), s.activation);
      }
    } else {
      std::vector<torch::Tensor> args;
      for (int p : s.inputs) args.push_back(p < 0 ? x : decoded[static_cast<std::size_t>(p)]);
      out = net_->run_node(i, args);
    }
    const int p = point_of_node_[u];
    if (p < 0) {
      decoded[u] = out;
    } else {
      // Each point at its own width (a mixed plan's point_bits) and allocation over components,
      // exactly as the compressor's hook quantizes it.
      const auto point = static_cast<std::size_t>(p);
      const auto& stats = calibration_->stats[point];
      if (const auto& stored = stored_[point]) {
        coefficients[u] = encode_stored(*stored, stats, out, quant_, quant_.bits_at(point, true));
        if (!fold || needs_decoded_[u]) decoded[u] = decode(*stored, coefficients[u]);
      } else {
        decoded[u] = reconstruct(nullptr, stats, out, quant_, quant_.bits_at(point, false));
      }
    }
    if (i == n - 1) logits = decoded[u];
    for (int producer : s.inputs)
      if (producer >= 0 && last_use_[static_cast<std::size_t>(producer)] == i) {
        decoded[static_cast<std::size_t>(producer)] = torch::Tensor();
        coefficients[static_cast<std::size_t>(producer)] = torch::Tensor();
      }
  }
  return logits;
}

FoldCheck check_folding(FoldedNetwork& network, const torch::Tensor& inputs, const torch::Tensor& labels,
                        std::int64_t batch_size, bool run_folded) {
  FoldCheck c;
  double correct_unfolded = 0, correct_folded = 0;
  for (std::int64_t start = 0; start < inputs.size(0); start += batch_size) {
    const std::int64_t end = std::min(inputs.size(0), start + batch_size);
    const auto x = inputs.slice(0, start, end);
    const auto y = labels.slice(0, start, end);
    const auto unfolded = network.forward_unfolded(x);
    const auto folded = run_folded ? network.forward_folded(x) : unfolded;
    c.max_abs_logit_diff = std::max(c.max_abs_logit_diff, (folded - unfolded).abs().max().item<double>());
    c.max_abs_logit = std::max(c.max_abs_logit, unfolded.abs().max().item<double>());
    const auto pu = unfolded.argmax(1), pf = folded.argmax(1);
    correct_unfolded += pu.eq(y).sum().item<double>();
    correct_folded += pf.eq(y).sum().item<double>();
    c.differing_predictions += pu.ne(pf).sum().item<std::int64_t>();
    const auto batch_predictions = pu.to(torch::kLong).contiguous();
    c.predictions.insert(c.predictions.end(), batch_predictions.data_ptr<std::int64_t>(),
                         batch_predictions.data_ptr<std::int64_t>() + batch_predictions.numel());
    c.images += end - start;
  }
  if (c.images > 0) {
    c.accuracy_unfolded = correct_unfolded / static_cast<double>(c.images);
    c.accuracy_folded = correct_folded / static_cast<double>(c.images);
  }
  return c;
}

}  // namespace capsim::workloads
