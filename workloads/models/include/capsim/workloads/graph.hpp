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
//
// NodeSpec, ModelOptions, ModelInfo and the analytic functions (shapes, counts, traces) are in
// model_spec.hpp, which needs no LibTorch. docs/models.md describes the zoo.
#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "capsim/trace/trace.hpp"
#include "capsim/workloads/model_spec.hpp"

namespace capsim::workloads {

// Called with a node index and its output; returns the tensor that downstream nodes consume
// (for example the output compressed and reconstructed).
using OutputHook = std::function<torch::Tensor(int node, const torch::Tensor& output)>;

// Cloneable, so clone() gives an independent deep copy (parameters and batch-norm statistics).
class GraphNetImpl : public torch::nn::Cloneable<GraphNetImpl> {
 public:
  // Modules get LibTorch's default initialisation; make_model applies torchvision's.
  // std::invalid_argument when the node list is inconsistent (validate_nodes).
  GraphNetImpl(ModelInfo info, std::vector<NodeSpec> nodes);

  const ModelInfo& info() const { return info_; }
  const std::vector<NodeSpec>& nodes() const { return nodes_; }
  ModelSpec spec() const { return {info_, nodes_}; }
  int num_nodes() const { return static_cast<int>(nodes_.size()); }
  int index_of(const std::string& name) const;  // -1 when absent
  // consumers()[i]: indices of the nodes reading node i's output, ascending. The last node's
  // output is the network output (logits).
  const std::vector<std::vector<int>>& consumers() const { return consumers_; }

  // Output of node i given its inputs (inputs[j] is the output of nodes()[i].inputs[j]).
  torch::Tensor run_node(int i, const std::vector<torch::Tensor>& inputs);

  torch::Tensor forward(const torch::Tensor& x);                          // logits
  torch::Tensor forward(const torch::Tensor& x, const OutputHook& hook);  // hook on every node

  // Per-image output shape of every node for an input of shape `input` (analytic, no tensors).
  std::vector<trace::Shape> output_shapes(const trace::Shape& input) const;
  // The layer trace of one inference (no compression records; apply a plan afterwards).
  trace::Trace to_trace(const trace::Shape& input, const trace::Precision& precision = {}) const;

  std::int64_t parameter_count() const;  // learnable parameters, batch-norm included

  // The modules of node i; empty holders (operator bool false) when the node has none.
  torch::nn::Conv2d conv_module(int i) const { return convs_.at(i); }
  torch::nn::BatchNorm2d norm_module(int i) const { return norms_.at(i); }
  torch::nn::Linear linear_module(int i) const { return linears_.at(i); }

  // Creates and registers the modules (Cloneable calls it on the copy before copying parameters).
  void reset() override;

 private:
  ModelInfo info_;
  std::vector<NodeSpec> nodes_;
  std::vector<std::vector<int>> consumers_;
  std::vector<int> last_use_;             // last consumer of each node's output (-1: none)
  std::vector<torch::nn::Conv2d> convs_;  // indexed by node (empty holder when unused)
  std::vector<torch::nn::BatchNorm2d> norms_;
  std::vector<torch::nn::Linear> linears_;
};
TORCH_MODULE(GraphNet);

// Builds model_spec(model, options) with torchvision's initialisation (draws from LibTorch's global
// generator: seed it with torch::manual_seed for reproducible weights). Throws capsim::InputError
// (origin "--model", "--variant", "--width", ...) for bad names or options.
GraphNet make_model(const std::string& model, const ModelOptions& options);

}  // namespace capsim::workloads
