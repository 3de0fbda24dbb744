#pragma once
// The model zoo as plain data: a network is a list of accelerator-level nodes (NodeSpec) in
// execution order. Everything analytic lives here and needs no LibTorch: building the node lists
// of resnet18 / mobilenetv2 / vgg16, output shapes, MAC and parameter counts, layer traces and the
// `inspect` tables. GraphNet (graph.hpp) turns a spec into LibTorch modules.
//
// This header is included by graph.hpp; code that only needs shapes or traces (the CLI, the
// simulator side) includes it alone and so avoids compiling torch/torch.h.
#include <cstdint>
#include <string>
#include <vector>

#include "capsim/trace/plan.hpp"
#include "capsim/trace/trace.hpp"

namespace capsim::workloads {

enum class NodeOp { Conv, Linear, MaxPool, AvgPool, AdaptiveAvgPool, Add };

struct NodeSpec {
  std::string name;
  NodeOp op = NodeOp::Conv;
  std::vector<int> inputs;                  // producer node indices; -1 is the network input
  std::int64_t in_channels = 0;             // conv/linear: input channels (linear: in_features)
  std::int64_t out_channels = 0;            // conv/linear: output channels (linear: out_features)
  int kernel = 1, stride = 1, padding = 0;  // conv and pools (square)
  std::int64_t groups = 1;                  // conv
  bool bias = false;                        // conv/linear own bias
  bool batch_norm = false;                  // conv followed by BatchNorm2d (folded into bias in traces)
  int adaptive_output = 1;                  // AdaptiveAvgPool output size (1 = global average)
  double dropout = 0.0;                     // linear: dropout applied to its input while training
  trace::Activation activation = trace::Activation::None;
  // Module name of the conv's batch-norm (torchvision's, e.g. "layer1.0.bn1", "features.0.1");
  // empty means "<name>.bn". GraphNet registers the BatchNorm2d under it ('.' -> '_').
  std::string norm_name;
};

struct ModelOptions {
  std::string variant = "cifar";  // "imagenet" (torchvision's exact definition) or "cifar"
  std::int64_t in_channels = 3;   // cifar variant: any number of input channels
  std::int64_t classes = 10;
  double width = 1.0;  // width multiplier on every channel count
};

struct ModelInfo {
  std::string model;  // resnet18, mobilenetv2, vgg16
  ModelOptions options;
};

// A model as data: what make_model builds modules from.
struct ModelSpec {
  ModelInfo info;
  std::vector<NodeSpec> nodes;
};

inline constexpr double kMinWidth = 1e-3;  // the width range trace files accept
inline constexpr double kMaxWidth = 64.0;

std::vector<std::string> model_names();    // {"mobilenetv2", "resnet18", "vgg16"}
std::vector<std::string> variant_names();  // {"cifar", "imagenet"}

// The node list of a zoo model. Throws capsim::InputError naming the command-line flag for an
// unknown model ("--model", with a did-you-mean hint) or variant ("--variant"), a width outside
// [kMinWidth, kMaxWidth] ("--width"), classes < 1 ("--classes") or in_channels < 1 ("--input").
ModelSpec model_spec(const std::string& model, const ModelOptions& options);

// Checks that every node reads earlier nodes (or the input) with the right arity and that channel
// counts chain; std::invalid_argument otherwise (a bug in whoever built the list).
void validate_nodes(const std::vector<NodeSpec>& nodes);

// Per-image output shape of every node for an input of shape `input` (analytic). Throws
// InputError (origin "--input") when the input does not fit the network: wrong channel count,
// too small for a kernel, or a flattened size the linear layer was not built for.
std::vector<trace::Shape> output_shapes(const std::vector<NodeSpec>& nodes, const trace::Shape& input);

// Multiply-accumulates of one image through each node (conv and linear; 0 for the others).
std::vector<std::int64_t> node_macs(const std::vector<NodeSpec>& nodes, const trace::Shape& input);

// Learnable parameters of a node's conv or linear module (weight and bias, as torchvision counts
// that module: batch-norm excluded); 0 for nodes without weights.
std::int64_t module_parameter_count(const NodeSpec& node);
// Learnable parameters of the whole network, batch-norm weight and bias included.
std::int64_t parameter_count(const std::vector<NodeSpec>& nodes);

// The layer trace of one inference (batch 1, plan none). Adaptive average pools become pools with
// kernel = stride = in / out (InputError, origin "--input", when that does not divide).
trace::Trace to_trace(const ModelSpec& spec, const trace::Shape& input,
                      const trace::Precision& precision = {});

// "3x32x32" -> {3, 32, 32}; InputError naming `origin` for anything else (each dim 1..65536).
trace::Shape parse_shape(const std::string& text, const std::string& origin = "--input");

// The `inspect --csv` table: header "name,type,in_ch,out_ch,kernel,stride,groups,out_h,out_w,macs,params"
// and one row per conv or linear node (type conv, dwconv or linear).
std::string layer_csv(const ModelSpec& spec, const trace::Shape& input);
// The human `inspect` table: every node with its output shape, MACs and parameters, then totals.
std::string layer_table(const ModelSpec& spec, const trace::Shape& input);

// Registered module names may not contain '.': "layer1.0.conv1" -> "layer1_0_conv1".
std::string module_key(const std::string& name);

// ---- decoder folding (docs/compression.md) ----------------------------------------------------
// A projected activation x^ = D q + mu is linear in its stored coefficients q, so a consumer that
// mixes all channels linearly absorbs the decoder: a dense convolution computes
// W * (D q + mu) = (W D) * q + W * mu (the mean's term a per-position bias map under zero padding),
// a linear layer after flatten W (I (x) D) q + W mu. Depthwise convolutions, pools and residual
// adds keep the decoder. The rule: the consumer is a Conv with groups == 1 or a Linear layer.
bool decoder_foldable(trace::Op consumer_op, std::int64_t groups);
bool decoder_foldable(const NodeSpec& consumer);

struct FoldEdge {
  std::string point;     // the producer layer: its output is a projected compression point (k < C)
  std::string consumer;  // a layer reading that output
  bool folded = false;   // the consumer reads the coefficients with the decoder folded into its weights
  bool operator==(const FoldEdge& o) const {
    return point == o.point && consumer == o.consumer && folded == o.folded;
  }
};

// Every (projected point, consumer) edge of a trace whose compression records are set (apply_plan),
// in producer order, then consumer order.
std::vector<FoldEdge> fold_edges(const trace::Trace& trace);
// The same for a network under a plan: fold_edges of to_trace(spec, input) with the plan applied
// (InputError as apply_plan for a plan naming layers the network lacks).
std::vector<FoldEdge> fold_edges(const ModelSpec& spec, const trace::Shape& input, const trace::Plan& plan);

}  // namespace capsim::workloads
