// The model zoo as node lists, and everything computed from them without LibTorch: shapes, counts,
// traces and the `inspect` tables. The imagenet variants reproduce torchvision 0.14 layer for layer
// (tests/golden/inspect holds torchvision's own tables); docs/models.md explains the cifar ones.
#include "capsim/workloads/model_spec.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>
#include <unordered_set>

#include "capsim/common/error.hpp"
#include "capsim/common/yaml_view.hpp"

namespace capsim::workloads {
namespace {

using trace::Activation;
using trace::Shape;

const SourceLocation kInputFlag{"--input", 0};

// ---- building node lists ----------------------------------------------------------------------

class NodeList {
 public:
  int conv(std::string name, int input, std::int64_t in, std::int64_t out, int kernel, int stride,
           std::int64_t groups, Activation act, bool batch_norm, std::string norm_name = "",
           bool bias = false) {
    NodeSpec n;
    n.name = std::move(name);
    n.op = NodeOp::Conv;
    n.inputs = {input};
    n.in_channels = in;
    n.out_channels = out;
    n.kernel = kernel;
    n.stride = stride;
    n.padding = (kernel - 1) / 2;  // torchvision pads every zoo conv to "same" before striding
    n.groups = groups;
    n.bias = bias;
    n.batch_norm = batch_norm;
    n.norm_name = std::move(norm_name);
    n.activation = act;
    return push(std::move(n));
  }

  int linear(std::string name, int input, std::int64_t in, std::int64_t out, Activation act, double dropout) {
    NodeSpec n;
    n.name = std::move(name);
    n.op = NodeOp::Linear;
    n.inputs = {input};
    n.in_channels = in;
    n.out_channels = out;
    n.bias = true;
    n.dropout = dropout;
    n.activation = act;
    return push(std::move(n));
  }

  int pool(std::string name, int input, NodeOp op, int kernel, int stride, int padding,
           int adaptive_output = 1) {
    NodeSpec n;
    n.name = std::move(name);
    n.op = op;
    n.inputs = {input};
    n.kernel = kernel;
    n.stride = stride;
    n.padding = padding;
    n.adaptive_output = adaptive_output;
    return push(std::move(n));
  }

  int add(std::string name, std::vector<int> inputs, Activation act) {
    NodeSpec n;
    n.name = std::move(name);
    n.op = NodeOp::Add;
    n.inputs = std::move(inputs);
    n.activation = act;
    return push(std::move(n));
  }

  std::vector<NodeSpec> take() { return std::move(nodes_); }

 private:
  int push(NodeSpec n) {
    nodes_.push_back(std::move(n));
    return static_cast<int>(nodes_.size()) - 1;
  }
  std::vector<NodeSpec> nodes_;
};

// Width-scaled channel count for resnet/vgg: rounded, at least one channel.
std::int64_t scaled(std::int64_t channels, double width) {
  return std::max<std::int64_t>(1, std::llround(static_cast<double>(channels) * width));
}

// torchvision's _make_divisible (from the TF MobileNet code): nearest multiple of `divisor`, at
// least `divisor`, never more than 10% below v.
std::int64_t make_divisible(double v, std::int64_t divisor = 8) {
  std::int64_t rounded = static_cast<std::int64_t>(v + static_cast<double>(divisor) / 2) / divisor * divisor;
  rounded = std::max(divisor, rounded);
  if (static_cast<double>(rounded) < 0.9 * v) rounded += divisor;
  return rounded;
}

std::vector<NodeSpec> resnet18(const ModelOptions& o) {
  const bool imagenet = o.variant == "imagenet";
  NodeList net;
  std::int64_t inplanes = scaled(64, o.width);
  // cifar: a 3x3 stride-1 stem and no max-pool keep 32x32 inputs at 32x32 into layer1.
  int x = imagenet ? net.conv("conv1", -1, o.in_channels, inplanes, 7, 2, 1, Activation::Relu, true, "bn1")
                   : net.conv("conv1", -1, o.in_channels, inplanes, 3, 1, 1, Activation::Relu, true, "bn1");
  if (imagenet) x = net.pool("maxpool", x, NodeOp::MaxPool, 3, 2, 1);
  const std::array<std::int64_t, 4> planes_per_layer = {64, 128, 256, 512};
  for (int layer = 0; layer < 4; ++layer) {
    const std::int64_t planes = scaled(planes_per_layer[layer], o.width);
    for (int block = 0; block < 2; ++block) {
      const std::string prefix = fmt::format("layer{}.{}", layer + 1, block);
      const int stride = (layer > 0 && block == 0) ? 2 : 1;
      // Execution order as torchvision's BasicBlock.forward: conv1, conv2, downsample, add.
      int c1 = net.conv(prefix + ".conv1", x, inplanes, planes, 3, stride, 1, Activation::Relu, true,
                        prefix + ".bn1");
      int c2 =
          net.conv(prefix + ".conv2", c1, planes, planes, 3, 1, 1, Activation::None, true, prefix + ".bn2");
      int identity = x;
      if (stride != 1 || inplanes != planes)
        identity = net.conv(prefix + ".downsample.0", x, inplanes, planes, 1, stride, 1, Activation::None,
                            true, prefix + ".downsample.1");
      x = net.add(prefix, {c2, identity}, Activation::Relu);
      inplanes = planes;
    }
  }
  x = net.pool("avgpool", x, NodeOp::AdaptiveAvgPool, 1, 1, 0, 1);
  net.linear("fc", x, inplanes, o.classes, Activation::None, 0.0);
  return net.take();
}

// One inverted residual block (torchvision's InvertedResidual), modules named as in its Sequential.
int inverted_residual(NodeList& net, int x, const std::string& prefix, std::int64_t in, std::int64_t out,
                      int stride, int expand_ratio) {
  const std::int64_t hidden = in * expand_ratio;
  const int block_input = x;
  int index = 0;  // position in the block's `conv` Sequential
  auto name = [&](int i) { return fmt::format("{}.conv.{}", prefix, i); };
  if (expand_ratio != 1) {
    x = net.conv(name(index) + ".0", x, in, hidden, 1, 1, 1, Activation::Relu6, true, name(index) + ".1");
    ++index;
  }
  x = net.conv(name(index) + ".0", x, hidden, hidden, 3, stride, hidden, Activation::Relu6, true,
               name(index) + ".1");
  x = net.conv(name(index + 1), x, hidden, out, 1, 1, 1, Activation::None, true, name(index + 2));
  if (stride == 1 && in == out) x = net.add(prefix, {block_input, x}, Activation::None);
  return x;
}

std::vector<NodeSpec> mobilenetv2(const ModelOptions& o) {
  const bool imagenet = o.variant == "imagenet";
  // t (expansion), c (channels), n (blocks), s (first stride): torchvision's default setting.
  const int settings[7][4] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                              {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  NodeList net;
  std::int64_t channels = make_divisible(32 * o.width);
  // torchvision never narrows the last conv below 1280 (max(1, width)); the cifar variant scales
  // every channel count, so a narrow net does not spend most of its weights in one layer.
  const std::int64_t last = make_divisible(1280 * (imagenet ? std::max(1.0, o.width) : o.width));
  int x = net.conv("features.0.0", -1, o.in_channels, channels, 3, imagenet ? 2 : 1, 1, Activation::Relu6,
                   true, "features.0.1");
  int feature = 1;
  for (const auto& s : settings) {
    const std::int64_t out = make_divisible(s[1] * o.width);
    for (int i = 0; i < s[2]; ++i) {
      x = inverted_residual(net, x, fmt::format("features.{}", feature++), channels, out, i == 0 ? s[3] : 1,
                            s[0]);
      channels = out;
    }
  }
  const std::string head = fmt::format("features.{}", feature);
  x = net.conv(head + ".0", x, channels, last, 1, 1, 1, Activation::Relu6, true, head + ".1");
  x = net.pool("avgpool", x, NodeOp::AdaptiveAvgPool, 1, 1, 0, 1);
  net.linear("classifier.1", x, last, o.classes, Activation::None, 0.2);
  return net.take();
}

std::vector<NodeSpec> vgg16(const ModelOptions& o) {
  const bool imagenet = o.variant == "imagenet";
  const int kPool = 0;  // "M" in torchvision's cfg "D"
  const int cfg[] = {64,    64,  kPool, 128, 128,   kPool, 256, 256, 256,
                     kPool, 512, 512,   512, kPool, 512,   512, 512, kPool};
  NodeList net;
  int x = -1;
  std::int64_t channels = o.in_channels;
  int index = 0;  // index in torchvision's vgg16 (no batch-norm) `features` Sequential
  for (int v : cfg) {
    const std::string name = fmt::format("features.{}", index);
    if (v == kPool) {
      x = net.pool(name, x, NodeOp::MaxPool, 2, 2, 0);
      index += 1;
    } else {
      // cifar: batch-norm after every conv (as vgg16_bn, conv bias kept), names stay vgg16's.
      const std::int64_t out = scaled(v, o.width);
      x = net.conv(name, x, channels, out, 3, 1, 1, Activation::Relu, !imagenet, "", true);
      channels = out;
      index += 2;  // conv, relu
    }
  }
  // Dropout sits before classifier.3 and classifier.6 (torchvision's indices 2 and 5).
  if (imagenet) {
    x = net.pool("avgpool", x, NodeOp::AdaptiveAvgPool, 1, 1, 0, 7);
    const std::int64_t hidden = scaled(4096, o.width);
    x = net.linear("classifier.0", x, channels * 7 * 7, hidden, Activation::Relu, 0.0);
    x = net.linear("classifier.3", x, hidden, hidden, Activation::Relu, 0.5);
    net.linear("classifier.6", x, hidden, o.classes, Activation::None, 0.5);
  } else {
    // 32x32 inputs leave a 1x1 map after five pools: no 7x7 pool, a 512-wide classifier.
    x = net.linear("classifier.0", x, channels, channels, Activation::Relu, 0.0);
    x = net.linear("classifier.3", x, channels, channels, Activation::Relu, 0.5);
    net.linear("classifier.6", x, channels, o.classes, Activation::None, 0.5);
  }
  return net.take();
}

std::string one_of(const std::vector<std::string>& names, const std::string& got) {
  std::string text = "one of ";
  for (std::size_t i = 0; i < names.size(); ++i) text += (i ? ", " : "") + names[i];
  const std::string hint = closest_match(got, names);
  if (!hint.empty()) text += " (did you mean '" + hint + "'?)";
  return text;
}

void check_options(const std::string& model, const ModelOptions& o) {
  const auto models = model_names();
  if (std::find(models.begin(), models.end(), model) == models.end())
    throw InputError({"--model", 0}, "model", one_of(models, model), model);
  const auto variants = variant_names();
  if (std::find(variants.begin(), variants.end(), o.variant) == variants.end())
    throw InputError({"--variant", 0}, "variant", one_of(variants, o.variant), o.variant);
  if (!(o.width >= kMinWidth && o.width <= kMaxWidth))
    throw InputError({"--width", 0}, "width",
                     fmt::format("a width multiplier in [{}, {}]", kMinWidth, kMaxWidth),
                     fmt::format("{}", o.width));
  if (o.classes < 1)
    throw InputError({"--classes", 0}, "classes", "at least 1 class", std::to_string(o.classes));
  if (o.in_channels < 1)
    throw InputError(kInputFlag, "input", "at least 1 input channel", std::to_string(o.in_channels));
}

// ---- shapes -----------------------------------------------------------------------------------

[[noreturn]] void too_small(const NodeSpec& n, const Shape& in, const Shape& input) {
  throw InputError(kInputFlag,
                   fmt::format("input {} is too small: layer '{}' gets {}x{} and has a {}x{} window "
                               "with padding {}",
                               trace::to_string(input), n.name, in.h, in.w, n.kernel, n.kernel, n.padding));
}

std::int64_t window_out(std::int64_t in, const NodeSpec& n) {
  const std::int64_t span = in + 2 * static_cast<std::int64_t>(n.padding) - n.kernel;
  return span < 0 ? 0 : span / n.stride + 1;
}

Shape node_shape(const NodeSpec& n, const std::vector<Shape>& in, const Shape& input) {
  const Shape& x = in[0];
  switch (n.op) {
    case NodeOp::Conv:
    case NodeOp::MaxPool:
    case NodeOp::AvgPool: {
      if (n.op == NodeOp::Conv && x.c != n.in_channels) {
        throw InputError(kInputFlag, fmt::format("layer '{}' expects {} input channels, gets {} (input {})",
                                                 n.name, n.in_channels, x.c, trace::to_string(input)));
      }
      Shape out{n.op == NodeOp::Conv ? n.out_channels : x.c, window_out(x.h, n), window_out(x.w, n)};
      if (out.h < 1 || out.w < 1) too_small(n, x, input);
      return out;
    }
    case NodeOp::AdaptiveAvgPool:
      return {x.c, n.adaptive_output, n.adaptive_output};
    case NodeOp::Linear:
      if (x.elements() != n.in_channels) {
        throw InputError(
            kInputFlag,
            fmt::format("layer '{}' takes {} features but input {} gives it {} ({}): "
                        "this variant needs a different input size",
                        n.name, n.in_channels, trace::to_string(input), x.elements(), trace::to_string(x)));
      }
      return {n.out_channels, 1, 1};
    case NodeOp::Add:
      for (const Shape& s : in)
        if (s != x)
          throw InputError(kInputFlag,
                           fmt::format("add '{}' joins {} and {} for input {}", n.name, trace::to_string(x),
                                       trace::to_string(s), trace::to_string(input)));
      return x;
  }
  throw std::logic_error("unknown node op");
}

std::string csv_type(const NodeSpec& n) {
  if (n.op == NodeOp::Linear) return "linear";
  const bool depthwise = n.groups > 1 && n.groups == n.in_channels && n.groups == n.out_channels;
  return depthwise ? "dwconv" : "conv";
}

std::string table_type(const NodeSpec& n) {
  switch (n.op) {
    case NodeOp::Conv:
    case NodeOp::Linear:
      return csv_type(n);
    case NodeOp::MaxPool:
      return "maxpool";
    case NodeOp::AvgPool:
      return "avgpool";
    case NodeOp::AdaptiveAvgPool:
      return "adaptive-avgpool";
    case NodeOp::Add:
      return "add";
  }
  return "?";
}

trace::Layer trace_layer(const NodeSpec& n, const std::vector<NodeSpec>& nodes,
                         const std::vector<Shape>& shapes, int index, const Shape& input) {
  trace::Layer l;
  l.name = n.name;
  for (int p : n.inputs) l.inputs.push_back(p < 0 ? std::string(trace::kNetworkInput) : nodes[p].name);
  l.in_shape = n.inputs[0] < 0 ? input : shapes[n.inputs[0]];
  l.out_shape = shapes[index];
  l.activation = n.activation;
  switch (n.op) {
    case NodeOp::Conv:
      l.op = csv_type(n) == "dwconv" ? trace::Op::DwConv : trace::Op::Conv;
      l.kernel_h = l.kernel_w = n.kernel;
      l.stride_h = l.stride_w = n.stride;
      l.pad_h = l.pad_w = n.padding;
      l.groups = n.groups;
      l.biases = (n.bias || n.batch_norm) ? n.out_channels : 0;  // batch-norm folds into a bias
      break;
    case NodeOp::Linear:
      l.op = trace::Op::Linear;
      l.biases = n.bias ? n.out_channels : 0;
      break;
    case NodeOp::MaxPool:
    case NodeOp::AvgPool:
      l.op = trace::Op::Pool;
      l.pool = n.op == NodeOp::MaxPool ? trace::PoolKind::Max : trace::PoolKind::Avg;
      l.kernel_h = l.kernel_w = n.kernel;
      l.stride_h = l.stride_w = n.stride;
      l.pad_h = l.pad_w = n.padding;
      break;
    case NodeOp::AdaptiveAvgPool: {
      // The accelerator runs a fixed window: only exact tilings are expressible.
      const std::int64_t out = n.adaptive_output;
      if (l.in_shape.h % out != 0 || l.in_shape.w % out != 0) {
        throw InputError(kInputFlag,
                         fmt::format("adaptive pool '{}' maps {}x{} to {}x{}, which is not a whole "
                                     "window (input {}); use an input size that divides",
                                     n.name, l.in_shape.h, l.in_shape.w, out, out, trace::to_string(input)));
      }
      l.op = trace::Op::Pool;
      l.pool = trace::PoolKind::Avg;
      l.kernel_h = l.stride_h = static_cast<int>(l.in_shape.h / out);
      l.kernel_w = l.stride_w = static_cast<int>(l.in_shape.w / out);
      break;
    }
    case NodeOp::Add:
      l.op = trace::Op::Add;
      break;
  }
  return l;
}

std::string with_commas(std::int64_t v) {
  std::string digits = std::to_string(v), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace

std::vector<std::string> model_names() { return {"mobilenetv2", "resnet18", "vgg16"}; }
std::vector<std::string> variant_names() { return {"cifar", "imagenet"}; }

std::string module_key(const std::string& name) {
  std::string key = name;
  std::replace(key.begin(), key.end(), '.', '_');
  return key;
}

ModelSpec model_spec(const std::string& model, const ModelOptions& options) {
  check_options(model, options);
  ModelSpec spec{{model, options}, {}};
  if (model == "resnet18") spec.nodes = resnet18(options);
  if (model == "mobilenetv2") spec.nodes = mobilenetv2(options);
  if (model == "vgg16") spec.nodes = vgg16(options);
  validate_nodes(spec.nodes);
  return spec;
}

void validate_nodes(const std::vector<NodeSpec>& nodes) {
  auto fail = [](const NodeSpec& n, const std::string& why) {
    throw std::invalid_argument("node '" + n.name + "': " + why);
  };
  if (nodes.empty()) throw std::invalid_argument("a graph needs at least one node");
  std::unordered_set<std::string> names;
  std::vector<std::int64_t> channels;  // output channels per node; 0 = unknown
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const NodeSpec& n = nodes[i];
    if (n.name.empty() || n.name == trace::kNetworkInput) fail(n, "needs a name other than 'input'");
    if (!names.insert(n.name).second) fail(n, "name used twice");
    if (n.inputs.empty() || (n.op != NodeOp::Add && n.inputs.size() != 1) ||
        (n.op == NodeOp::Add && n.inputs.size() < 2))
      fail(n, "wrong number of inputs");
    for (int p : n.inputs)
      if (p < -1 || p >= static_cast<int>(i)) fail(n, "reads a node that does not run before it");
    const std::int64_t in = n.inputs[0] < 0 ? 0 : channels[n.inputs[0]];
    std::int64_t out = in;
    if (n.op == NodeOp::Conv || n.op == NodeOp::Linear) {
      if (n.in_channels < 1 || n.out_channels < 1) fail(n, "needs positive channel counts");
      if (n.op == NodeOp::Conv && in != 0 && in != n.in_channels)
        fail(n, "input channels do not match its producer");
      if (n.groups < 1 || n.in_channels % n.groups || n.out_channels % n.groups)
        fail(n, "groups must divide channels");
      out = n.out_channels;
    }
    if (n.op != NodeOp::Linear && n.op != NodeOp::Add && (n.kernel < 1 || n.stride < 1 || n.padding < 0))
      fail(n, "needs kernel and stride >= 1 and padding >= 0");
    if (n.op == NodeOp::AdaptiveAvgPool && n.adaptive_output < 1) fail(n, "needs an output size >= 1");
    if (n.op == NodeOp::Add)
      for (int p : n.inputs)
        if ((p < 0 ? 0 : channels[p]) != in) fail(n, "adds tensors of different channel counts");
    channels.push_back(out);
  }
}

std::vector<Shape> output_shapes(const std::vector<NodeSpec>& nodes, const Shape& input) {
  std::vector<Shape> shapes;
  shapes.reserve(nodes.size());
  std::vector<Shape> in;
  for (const NodeSpec& n : nodes) {
    in.clear();
    for (int p : n.inputs) in.push_back(p < 0 ? input : shapes[p]);
    shapes.push_back(node_shape(n, in, input));
  }
  return shapes;
}

std::vector<std::int64_t> node_macs(const std::vector<NodeSpec>& nodes, const Shape& input) {
  const auto shapes = output_shapes(nodes, input);
  std::vector<std::int64_t> macs(nodes.size(), 0);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const NodeSpec& n = nodes[i];
    if (n.op == NodeOp::Conv)
      macs[i] = n.out_channels * (n.in_channels / n.groups) * n.kernel * n.kernel * shapes[i].pixels();
    if (n.op == NodeOp::Linear) macs[i] = n.in_channels * n.out_channels;
  }
  return macs;
}

std::int64_t module_parameter_count(const NodeSpec& n) {
  if (n.op == NodeOp::Conv)
    return n.out_channels * (n.in_channels / n.groups) * n.kernel * n.kernel + (n.bias ? n.out_channels : 0);
  if (n.op == NodeOp::Linear) return n.in_channels * n.out_channels + (n.bias ? n.out_channels : 0);
  return 0;
}

std::int64_t parameter_count(const std::vector<NodeSpec>& nodes) {
  std::int64_t total = 0;
  for (const NodeSpec& n : nodes)
    total += module_parameter_count(n) + (n.batch_norm ? 2 * n.out_channels : 0);
  return total;
}

trace::Trace to_trace(const ModelSpec& spec, const Shape& input, const trace::Precision& precision) {
  const auto shapes = output_shapes(spec.nodes, input);
  trace::Trace t;
  const ModelOptions& o = spec.info.options;
  t.network = trace::Network{spec.info.model, o.variant, input, o.classes, o.width, 1};
  t.precision = precision;
  t.source = fmt::format("capsim model zoo {} ({} variant)", spec.info.model, o.variant);
  for (std::size_t i = 0; i < spec.nodes.size(); ++i) {
    t.layers.push_back(trace_layer(spec.nodes[i], spec.nodes, shapes, static_cast<int>(i), input));
    trace::derive_counts(t.layers.back(), precision);
  }
  return t;
}

bool decoder_foldable(trace::Op consumer_op, std::int64_t groups) {
  return (consumer_op == trace::Op::Conv && groups == 1) || consumer_op == trace::Op::Linear;
}

bool decoder_foldable(const NodeSpec& consumer) {
  return (consumer.op == NodeOp::Conv && consumer.groups == 1) || consumer.op == NodeOp::Linear;
}

std::vector<FoldEdge> fold_edges(const trace::Trace& t) {
  const auto consumers = t.consumers();
  std::vector<FoldEdge> edges;
  for (std::size_t i = 0; i < t.layers.size(); ++i) {
    const auto& producer = t.layers[i];
    if (!producer.compression || !producer.compression->projected()) continue;
    for (int c : consumers[i]) {
      const auto& consumer = t.layers[static_cast<std::size_t>(c)];
      edges.push_back({producer.name, consumer.name, decoder_foldable(consumer.op, consumer.groups)});
    }
  }
  return edges;
}

std::vector<FoldEdge> fold_edges(const ModelSpec& spec, const Shape& input, const trace::Plan& plan) {
  trace::Trace t = to_trace(spec, input);
  trace::apply_plan(t, plan);
  return fold_edges(t);
}

Shape parse_shape(const std::string& text, const std::string& origin) {
  const std::string expected = "a shape CxHxW of integers 1..65536, such as 3x32x32";
  std::vector<std::int64_t> dims;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find('x', start);
    const std::string part = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (part.empty() || part.size() > 7 || part.find_first_not_of("0123456789") != std::string::npos)
      throw InputError({origin, 0}, "input", expected, text);
    dims.push_back(std::stoll(part));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  // The bound keeps every MAC count of the zoo well inside 64 bits.
  if (dims.size() != 3 || *std::min_element(dims.begin(), dims.end()) < 1 ||
      *std::max_element(dims.begin(), dims.end()) > 65536)
    throw InputError({origin, 0}, "input", expected, text);
  return {dims[0], dims[1], dims[2]};
}

std::string layer_csv(const ModelSpec& spec, const Shape& input) {
  const auto shapes = output_shapes(spec.nodes, input);
  const auto macs = node_macs(spec.nodes, input);
  std::string out = "name,type,in_ch,out_ch,kernel,stride,groups,out_h,out_w,macs,params\n";
  for (std::size_t i = 0; i < spec.nodes.size(); ++i) {
    const NodeSpec& n = spec.nodes[i];
    if (n.op != NodeOp::Conv && n.op != NodeOp::Linear) continue;
    const int kernel = n.op == NodeOp::Conv ? n.kernel : 1;
    const int stride = n.op == NodeOp::Conv ? n.stride : 1;
    out += fmt::format("{},{},{},{},{}x{},{},{},{},{},{},{}\n", n.name, csv_type(n), n.in_channels,
                       n.out_channels, kernel, kernel, stride, n.groups, shapes[i].h, shapes[i].w, macs[i],
                       module_parameter_count(n));
  }
  return out;
}

std::string layer_table(const ModelSpec& spec, const Shape& input) {
  const auto shapes = output_shapes(spec.nodes, input);
  const auto macs = node_macs(spec.nodes, input);
  std::size_t name_width = 5;
  for (const NodeSpec& n : spec.nodes) name_width = std::max(name_width, n.name.size());
  const ModelOptions& o = spec.info.options;
  std::string out = fmt::format("{} ({} variant), input {}, width {}, {} classes\n\n", spec.info.model,
                                o.variant, trace::to_string(input), o.width, o.classes);
  out += fmt::format("{:<{}}  {:<16}  {:>14}  {:>6}  {:>6}  {:>15}  {:>12}\n", "layer", name_width, "type",
                     "output", "kernel", "stride", "MACs", "params");
  std::int64_t total_macs = 0;
  for (std::size_t i = 0; i < spec.nodes.size(); ++i) {
    const NodeSpec& n = spec.nodes[i];
    const bool windowed = n.op == NodeOp::Conv || n.op == NodeOp::MaxPool || n.op == NodeOp::AvgPool;
    const std::int64_t params = module_parameter_count(n) + (n.batch_norm ? 2 * n.out_channels : 0);
    out += fmt::format("{:<{}}  {:<16}  {:>14}  {:>6}  {:>6}  {:>15}  {:>12}\n", n.name, name_width,
                       table_type(n), trace::to_string(shapes[i]),
                       windowed ? fmt::format("{}x{}", n.kernel, n.kernel) : "",
                       windowed ? std::to_string(n.stride) : "", macs[i] ? with_commas(macs[i]) : "",
                       params ? with_commas(params) : "");
    total_macs += macs[i];
  }
  // Per-layer params above include the layer's batch-norm; the CSV (torchvision's modules) does not.
  out += fmt::format("\n{} layers, {} parameters (batch-norm included), {} MACs per image\n",
                     spec.nodes.size(), with_commas(parameter_count(spec.nodes)), with_commas(total_macs));
  return out;
}

}  // namespace capsim::workloads
