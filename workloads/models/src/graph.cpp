// GraphNet: LibTorch modules for a node list, run node by node so that every layer output can be
// intercepted (compression hooks) and any suffix of the network re-run from cached tensors.
#include "capsim/workloads/graph.hpp"

#include <stdexcept>

namespace capsim::workloads {
namespace {

torch::Tensor activate(torch::Tensor y, trace::Activation act) {
  // In place: y is a fresh tensor owned by this node, and neither conv, batch-norm, linear nor add
  // needs its own output for the backward pass.
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

GraphNetImpl::GraphNetImpl(ModelInfo info, std::vector<NodeSpec> nodes)
    : info_(std::move(info)), nodes_(std::move(nodes)) {
  validate_nodes(nodes_);
  const int n = num_nodes();
  consumers_.assign(n, {});
  last_use_.assign(n, -1);
  for (int i = 0; i < n; ++i)
    for (int p : nodes_[i].inputs)
      if (p >= 0) {
        if (consumers_[p].empty() || consumers_[p].back() != i) consumers_[p].push_back(i);
        last_use_[p] = i;
      }
  reset();
}

void GraphNetImpl::reset() {
  const int n = num_nodes();
  convs_.assign(n, torch::nn::Conv2d{nullptr});
  norms_.assign(n, torch::nn::BatchNorm2d{nullptr});
  linears_.assign(n, torch::nn::Linear{nullptr});
  for (int i = 0; i < n; ++i) {
    const NodeSpec& s = nodes_[i];
    if (s.op == NodeOp::Conv) {
      auto options = torch::nn::Conv2dOptions(s.in_channels, s.out_channels, s.kernel)
                         .stride(s.stride)
                         .padding(s.padding)
                         .groups(s.groups)
                         .bias(s.bias);
      convs_[i] = register_module(module_key(s.name), torch::nn::Conv2d(options));
      if (s.batch_norm) {
        const std::string norm = s.norm_name.empty() ? s.name + ".bn" : s.norm_name;
        norms_[i] = register_module(module_key(norm), torch::nn::BatchNorm2d(s.out_channels));
      }
    } else if (s.op == NodeOp::Linear) {
      auto options = torch::nn::LinearOptions(s.in_channels, s.out_channels).bias(s.bias);
      linears_[i] = register_module(module_key(s.name), torch::nn::Linear(options));
    }
  }
}

int GraphNetImpl::index_of(const std::string& name) const {
  for (int i = 0; i < num_nodes(); ++i)
    if (nodes_[i].name == name) return i;
  return -1;
}

torch::Tensor GraphNetImpl::run_node(int i, const std::vector<torch::Tensor>& inputs) {
  const NodeSpec& s = nodes_.at(i);
  if (inputs.size() != s.inputs.size())
    throw std::invalid_argument("run_node: node '" + s.name + "' takes " + std::to_string(s.inputs.size()) +
                                " inputs, got " + std::to_string(inputs.size()));
  const torch::Tensor& x = inputs[0];
  switch (s.op) {
    case NodeOp::Conv: {
      torch::Tensor y = convs_[i]->forward(x);
      if (s.batch_norm) y = norms_[i]->forward(y);
      return activate(std::move(y), s.activation);
    }
    case NodeOp::Linear: {
      torch::Tensor flat = x.flatten(1);
      if (s.dropout > 0.0 && is_training()) flat = torch::dropout(flat, s.dropout, true);
      return activate(linears_[i]->forward(flat), s.activation);
    }
    case NodeOp::MaxPool:
      return torch::max_pool2d(x, s.kernel, s.stride, s.padding);
    case NodeOp::AvgPool:
      return torch::avg_pool2d(x, s.kernel, s.stride, s.padding);
    case NodeOp::AdaptiveAvgPool:
      return torch::adaptive_avg_pool2d(x, {s.adaptive_output, s.adaptive_output});
    case NodeOp::Add: {
      torch::Tensor y = inputs[0] + inputs[1];
      for (std::size_t j = 2; j < inputs.size(); ++j) y.add_(inputs[j]);
      return activate(std::move(y), s.activation);
    }
  }
  throw std::logic_error("unknown node op");
}

torch::Tensor GraphNetImpl::forward(const torch::Tensor& x) { return forward(x, nullptr); }

torch::Tensor GraphNetImpl::forward(const torch::Tensor& x, const OutputHook& hook) {
  const int n = num_nodes();
  std::vector<torch::Tensor> outputs(n);
  std::vector<torch::Tensor> args;
  for (int i = 0; i < n; ++i) {
    const NodeSpec& s = nodes_[i];
    args.clear();
    for (int p : s.inputs) args.push_back(p < 0 ? x : outputs[p]);
    torch::Tensor y = run_node(i, args);
    outputs[i] = hook ? hook(i, y) : std::move(y);
    // Drop outputs nobody reads any more, so inference holds only the live activations.
    for (int p : s.inputs)
      if (p >= 0 && last_use_[p] == i) outputs[p] = torch::Tensor();
  }
  return outputs.back();
}

std::vector<trace::Shape> GraphNetImpl::output_shapes(const trace::Shape& input) const {
  return workloads::output_shapes(nodes_, input);
}

trace::Trace GraphNetImpl::to_trace(const trace::Shape& input, const trace::Precision& precision) const {
  return workloads::to_trace(spec(), input, precision);
}

std::int64_t GraphNetImpl::parameter_count() const {
  std::int64_t total = 0;
  for (const auto& p : parameters()) total += p.numel();
  return total;
}

GraphNet make_model(const std::string& model, const ModelOptions& options) {
  ModelSpec spec = model_spec(model, options);
  GraphNet net(spec.info, std::move(spec.nodes));
  torch::NoGradGuard no_grad;
  // torchvision's initialisation: He (fan-out) for convs, identity batch-norms; vgg and mobilenetv2
  // draw linear weights from N(0, 0.01), resnet keeps nn.Linear's default (as LibTorch's).
  const bool small_linear = model != "resnet18";
  for (int i = 0; i < net->num_nodes(); ++i) {
    if (auto conv = net->conv_module(i)) {
      torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
      if (conv->options.bias()) torch::nn::init::zeros_(conv->bias);
    }
    if (auto norm = net->norm_module(i)) {
      torch::nn::init::ones_(norm->weight);
      torch::nn::init::zeros_(norm->bias);
    }
    if (auto linear = net->linear_module(i); linear && small_linear) {
      torch::nn::init::normal_(linear->weight, 0.0, 0.01);
      if (linear->options.bias()) torch::nn::init::zeros_(linear->bias);
    }
  }
  return net;
}

}  // namespace capsim::workloads
