#pragma once
// A CNN as a graph of accelerator-level layers, in execution order. One node is what the
// accelerator runs as one layer: a conv with its batch-norm and activation fused, a linear layer,
// a pool, or an elementwise add (a residual join) with its activation. Each node's output is one
// tensor named after the node; that name is the layer name used by traces and compression plans,
// and equals torchvision's module name for convs and linears ("layer1.0.conv1", "features.2.conv.1.0").
//
// The graph form is what the rest of the workloads need: traces list producers explicitly, the
// compression pipeline intercepts every node output (forward with a hook), and the greedy search
// re-runs only the nodes downstream of a changed layer (run_node with cached inputs).
#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "capsim/trace/trace.hpp"

namespace capsim::workloads {

enum class NodeOp { Conv, Linear, MaxPool, AvgPool, AdaptiveAvgPool, Add };

struct NodeSpec {
  std::string name;
  NodeOp op = NodeOp::Conv;
  std::vector<int> inputs;           // producer node indices; -1 is the network input
  std::int64_t in_channels = 0;      // conv/linear: input channels (linear: in_features)
  std::int64_t out_channels = 0;     // conv/linear: output channels (linear: out_features)
  int kernel = 1, stride = 1, padding = 0;   // conv and pools (square)
  std::int64_t groups = 1;           // conv
  bool bias = false;                 // conv/linear own bias
  bool batch_norm = false;           // conv followed by BatchNorm2d (folded into bias in traces)
  int adaptive_output = 1;           // AdaptiveAvgPool output size (1 = global average)
  double dropout = 0.0;              // linear: dropout applied to its input while training
  trace::Activation activation = trace::Activation::None;
};

struct ModelOptions {
  std::string variant = "cifar";   // "imagenet" (torchvision's exact definition) or "cifar"
  std::int64_t in_channels = 3;    // cifar variant: any number of input channels
  std::int64_t classes = 10;
  double width = 1.0;              // width multiplier on every channel count
};

struct ModelInfo {
  std::string model;               // resnet18, mobilenetv2, vgg16
  ModelOptions options;
};

// Called with a node index and its output; returns the tensor that downstream nodes consume
// (for example the output compressed and reconstructed).
using OutputHook = std::function<torch::Tensor(int node, const torch::Tensor& output)>;

class GraphNetImpl : public torch::nn::Module {
 public:
  GraphNetImpl(ModelInfo info, std::vector<NodeSpec> nodes);

  const ModelInfo& info() const { return info_; }
  const std::vector<NodeSpec>& nodes() const { return nodes_; }
  int num_nodes() const { return static_cast<int>(nodes_.size()); }
  int index_of(const std::string& name) const;   // -1 when absent

  // Output of node i given its inputs (inputs[j] is the output of nodes()[i].inputs[j]).
  torch::Tensor run_node(int i, const std::vector<torch::Tensor>& inputs);

  torch::Tensor forward(const torch::Tensor& x);                          // logits
  torch::Tensor forward(const torch::Tensor& x, const OutputHook& hook);  // hook on every node

  // Per-image output shape of every node for an input of shape `input` (analytic, no tensors).
  std::vector<trace::Shape> output_shapes(const trace::Shape& input) const;
  // The layer trace of one inference (no compression records; apply a plan afterwards).
  trace::Trace to_trace(const trace::Shape& input, const trace::Precision& precision = {}) const;

  std::int64_t parameter_count() const;   // learnable parameters, batch-norm included

 private:
  ModelInfo info_;
  std::vector<NodeSpec> nodes_;
  std::vector<torch::nn::Conv2d> convs_;        // indexed by node (empty holder when unused)
  std::vector<torch::nn::BatchNorm2d> norms_;
  std::vector<torch::nn::Linear> linears_;
};
TORCH_MODULE(GraphNet);

// Throws capsim::InputError (origin "--model") for an unknown model or variant.
GraphNet make_model(const std::string& model, const ModelOptions& options);
std::vector<std::string> model_names();   // {"mobilenetv2", "resnet18", "vgg16"}

}  // namespace capsim::workloads
