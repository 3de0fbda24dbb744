// Trace format v1: reading with full validation, and writing. The writer validates by parsing
// its own output, so reader and writer can never disagree about what a valid trace is.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <stdexcept>
#include <unordered_map>

#include "capsim/common/atomic_file.hpp"
#include "capsim/common/integers.hpp"
#include "capsim/common/yaml_view.hpp"
#include "capsim/trace/trace.hpp"

namespace capsim::trace {
namespace {

const std::vector<std::string> kOpNames = {"conv", "dwconv", "linear", "pool", "add"};
const std::vector<std::string> kPoolNames = {"max", "avg"};
const std::vector<std::string> kActivationNames = {"none", "relu", "relu6"};

template <class Enum>
Enum enum_from(const std::vector<std::string>& names, const std::string& name) {
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<Enum>(i);
  throw std::logic_error("unknown enum name " + name);
}

std::int64_t window_out(std::int64_t in, int kernel, int stride, int pad) {
  return (in + 2 * std::int64_t{pad} - kernel) / stride + 1;
}

// Dimensions up to 2^20 and at most 2^36 values per tensor keep every count (MACs, bytes of a
// batch, bits) far inside 64 bits.
constexpr std::int64_t kMaxDimension = std::int64_t{1} << 20;
constexpr std::int64_t kMaxElements = std::int64_t{1} << 36;

Shape read_shape(const YamlView& v, std::string_view key) {
  auto dims = v.integer_list(key, 3, 1);
  const Shape shape{dims[0], dims[1], dims[2]};
  if (dims[0] > kMaxDimension || dims[1] > kMaxDimension || dims[2] > kMaxDimension ||
      shape.elements() > kMaxElements)
    v.fail(key, "[C, H, W] with each dimension at most 2^20 and at most 2^36 values");
  return shape;
}

// Reads a [h, w] pair with each value >= min (kernel, stride, padding).
std::pair<int, int> read_pair(const YamlView& v, std::string_view key, int fallback, int min) {
  if (!v.has(key)) return {fallback, fallback};
  auto dims = v.integer_list(key, 2, min);
  if (dims[0] > 4096 || dims[1] > 4096) v.fail(key, "a list of 2 integers of at most 4096");
  return {static_cast<int>(dims[0]), static_cast<int>(dims[1])};
}

void expect_equal(const YamlView& v, std::string_view key, std::int64_t actual, std::int64_t expected,
                  const std::string& why) {
  if (actual != expected) v.fail(key, fmt::format("{} ({})", expected, why));
}

std::optional<Compression> read_compression(const YamlView& layer_view, const Layer& layer) {
  auto found = layer_view.find("compression");
  if (!found) return std::nullopt;
  const YamlView& v = *found;
  v.allow_keys({"channels", "k", "bits", "encoder", "decoder", "entropy_bits_per_value", "nrmse", "folded"});
  Compression c;
  c.channels = v.integer("channels", 1);
  expect_equal(v, "channels", c.channels, layer.out_shape.c, "the output's channel count");
  c.k = v.integer("k", 1, c.channels);
  c.bits = static_cast<int>(v.integer("bits", 1, 32));
  if (v.has("encoder")) {
    auto enc = v.integer_list("encoder", 2, 0);
    std::int64_t rows = c.projected() ? c.k : 0, cols = c.projected() ? c.channels : 0;
    if (enc[0] != rows || enc[1] != cols)
      v.fail("encoder", fmt::format("[{}, {}] (k x C; [0, 0] when k == C)", rows, cols));
  }
  if (v.has("decoder")) {
    auto dec = v.integer_list("decoder", 2, 0);
    std::int64_t rows = c.projected() ? c.channels : 0, cols = c.projected() ? c.k : 0;
    if (dec[0] != rows || dec[1] != cols)
      v.fail("decoder", fmt::format("[{}, {}] (C x k; [0, 0] when k == C)", rows, cols));
  }
  if (v.has("entropy_bits_per_value"))
    c.entropy_bits_per_value = v.number("entropy_bits_per_value", 0.0, static_cast<double>(c.bits));
  if (v.has("nrmse")) c.nrmse = v.number("nrmse", 0.0);
  if (v.has("folded")) c.folded = v.string_list("folded");  // checked once the consumers are known
  return c;
}

// A `folded` list may name only consumers of the layer that can fold a decoder, each once, and
// only on a projected record.
void check_folded_lists(const Trace& trace, const std::vector<YamlView>& layer_views) {
  const auto consumers = trace.consumers();
  for (std::size_t i = 0; i < trace.layers.size(); ++i) {
    const auto& c = trace.layers[i].compression;
    if (!c || !c->folded) continue;
    const YamlView v = *layer_views[i].find("compression");
    if (!c->projected() && !c->folded->empty())
      v.fail("folded", "[] (only a projected output has a decoder to fold)");
    std::vector<std::string> seen;
    for (const auto& name : *c->folded) {
      const int consumer = trace.index_of(name);
      const bool reads = std::find(consumers[i].begin(), consumers[i].end(), consumer) != consumers[i].end();
      if (!reads || std::find(seen.begin(), seen.end(), name) != seen.end())
        v.fail("folded",
               fmt::format("distinct consumers of '{}' ('{}' is not one)", trace.layers[i].name, name));
      if (!can_fold_decoder(trace.layers[static_cast<std::size_t>(consumer)]))
        v.fail("folded",
               fmt::format("consumers that can fold a decoder (a dense conv or a linear layer; '{}' is a {})",
                           name, to_string(trace.layers[static_cast<std::size_t>(consumer)].op)));
      seen.push_back(name);
    }
  }
}

void check_conv(const YamlView& v, Layer& layer) {
  const Shape& in = layer.in_shape;
  const Shape& out = layer.out_shape;
  if (in.c % layer.groups != 0) v.fail("groups", fmt::format("a divisor of the {} input channels", in.c));
  if (out.c % layer.groups != 0) v.fail("groups", fmt::format("a divisor of the {} output channels", out.c));
  if (layer.op == Op::DwConv && !(layer.groups == in.c && layer.groups == out.c))
    v.fail("groups", fmt::format("{} (a depthwise conv has groups = input = output channels)", in.c));
  expect_equal(v, "out_shape", out.h, window_out(in.h, layer.kernel_h, layer.stride_h, layer.pad_h),
               "out_h must be (in_h + 2*pad - kernel) / stride + 1");
  expect_equal(v, "out_shape", out.w, window_out(in.w, layer.kernel_w, layer.stride_w, layer.pad_w),
               "out_w must be (in_w + 2*pad - kernel) / stride + 1");
}

void check_pool(const YamlView& v, const Layer& layer) {
  expect_equal(v, "out_shape", layer.out_shape.c, layer.in_shape.c, "a pool keeps the channel count");
  expect_equal(v, "out_shape", layer.out_shape.h,
               window_out(layer.in_shape.h, layer.kernel_h, layer.stride_h, layer.pad_h),
               "out_h must be (in_h + 2*pad - kernel) / stride + 1");
  expect_equal(v, "out_shape", layer.out_shape.w,
               window_out(layer.in_shape.w, layer.kernel_w, layer.stride_w, layer.pad_w),
               "out_w must be (in_w + 2*pad - kernel) / stride + 1");
}

Layer read_layer(const YamlView& v, const Trace& trace,
                 const std::unordered_map<std::string, Shape>& produced) {
  v.allow_keys({"name", "op", "inputs", "in_shape", "out_shape", "kernel", "stride", "padding", "groups",
                "pool", "activation", "macs", "ops", "weights", "biases", "weight_bytes", "compression"});
  Layer layer;
  layer.name = v.string("name");
  if (layer.name.empty() || layer.name == kNetworkInput)
    v.fail("name", "a non-empty layer name other than 'input'");
  if (produced.count(layer.name)) v.fail("name", "a unique layer name (this one is used twice)");
  layer.op = enum_from<Op>(kOpNames, v.choice("op", kOpNames));
  layer.inputs = v.string_list("inputs");
  if (layer.inputs.empty()) v.fail("inputs", "at least one producer");
  std::vector<Shape> input_shapes;
  for (const auto& input : layer.inputs) {
    auto it = produced.find(input);
    if (it == produced.end())
      v.fail("inputs", fmt::format("names of earlier layers or 'input' ('{}' is not produced before '{}')",
                                   input, layer.name));
    input_shapes.push_back(it->second);
  }
  layer.in_shape = read_shape(v, "in_shape");
  layer.out_shape = read_shape(v, "out_shape");
  if (layer.in_shape != input_shapes[0])
    v.fail("in_shape",
           fmt::format("{} (the shape '{}' produces)", to_string(input_shapes[0]), layer.inputs[0]));
  std::tie(layer.kernel_h, layer.kernel_w) = read_pair(v, "kernel", 1, 1);
  std::tie(layer.stride_h, layer.stride_w) = read_pair(v, "stride", 1, 1);
  std::tie(layer.pad_h, layer.pad_w) = read_pair(v, "padding", 0, 0);
  layer.groups = v.integer_or("groups", 1, 1);
  layer.activation =
      enum_from<Activation>(kActivationNames, v.choice_or("activation", kActivationNames, "none"));

  const bool single_input = layer.op != Op::Add;
  if (single_input && layer.inputs.size() != 1) v.fail("inputs", "exactly one producer for this op");
  switch (layer.op) {
    case Op::Conv:
    case Op::DwConv:
      check_conv(v, layer);
      break;
    case Op::Linear:
      if (layer.out_shape.h != 1 || layer.out_shape.w != 1)
        v.fail("out_shape", "[features, 1, 1] for a linear layer");
      break;
    case Op::Pool:
      layer.pool = enum_from<PoolKind>(kPoolNames, v.choice("pool", kPoolNames));
      check_pool(v, layer);
      break;
    case Op::Add:
      if (layer.inputs.size() < 2) v.fail("inputs", "at least two producers for an add");
      for (std::size_t i = 0; i < input_shapes.size(); ++i)
        if (input_shapes[i] != layer.out_shape)
          v.fail("inputs",
                 fmt::format("producers of shape {} (the add's out_shape); '{}' gives {}",
                             to_string(layer.out_shape), layer.inputs[i], to_string(input_shapes[i])));
      break;
  }

  Layer expected = layer;
  try {
    derive_counts(expected, trace.precision);
  } catch (const std::overflow_error&) {
    v.fail("out_shape", "shapes whose weight and MAC counts fit in 64 bits");
  }
  layer.macs = v.integer_or("macs", 0, 0);
  layer.ops = v.integer_or("ops", 0, 0);
  layer.weights = v.integer_or("weights", 0, 0);
  layer.biases = v.integer_or("biases", 0, 0);
  layer.weight_bytes = v.integer_or("weight_bytes", 0, 0);
  expect_equal(v, "macs", layer.macs, expected.macs, "implied by the shapes, kernel and groups");
  expect_equal(v, "ops", layer.ops, expected.ops, "implied by the shapes and kernel");
  expect_equal(v, "weights", layer.weights, expected.weights, "implied by the shapes, kernel and groups");
  if (layer.has_weights() && layer.biases != 0 && layer.biases != layer.out_shape.c)
    v.fail("biases", fmt::format("0 or {} (one per output channel)", layer.out_shape.c));
  if (!layer.has_weights() && layer.biases != 0) v.fail("biases", "0 for a layer without weights");
  expect_equal(v, "weight_bytes", layer.weight_bytes,
               weight_bytes_for(layer.weights, layer.biases, trace.precision),
               "weights and biases at the trace's precision");
  layer.compression = read_compression(v, layer);
  return layer;
}

Network read_network(const YamlView& v) {
  v.allow_keys({"model", "variant", "input", "classes", "width", "batch"});
  Network n;
  n.model = v.string("model");
  n.variant = v.string("variant");
  n.input = read_shape(v, "input");
  n.classes = v.integer("classes", 1);
  n.width = v.number_or("width", 1.0, 1e-3, 64.0);
  n.batch = v.integer_or("batch", 1, 1, 1 << 12);
  return n;
}

std::string format_double(double value) { return fmt::format("{}", value); }

}  // namespace

std::string_view to_string(Op op) { return kOpNames[static_cast<int>(op)]; }
std::string_view to_string(PoolKind kind) { return kPoolNames[static_cast<int>(kind)]; }
std::string_view to_string(Activation act) { return kActivationNames[static_cast<int>(act)]; }
std::string to_string(const Shape& s) { return fmt::format("{}x{}x{}", s.c, s.h, s.w); }

int Trace::index_of(std::string_view name) const {
  for (std::size_t i = 0; i < layers.size(); ++i)
    if (layers[i].name == name) return static_cast<int>(i);
  return -1;
}

std::vector<std::vector<int>> Trace::consumers() const {
  std::unordered_map<std::string_view, int> index;
  for (std::size_t i = 0; i < layers.size(); ++i) index[layers[i].name] = static_cast<int>(i);
  std::vector<std::vector<int>> result(layers.size());
  for (std::size_t i = 0; i < layers.size(); ++i)
    for (const auto& input : layers[i].inputs)
      if (auto it = index.find(input); it != index.end()) result[it->second].push_back(static_cast<int>(i));
  return result;
}

bool can_fold_decoder(const Layer& consumer) {
  return (consumer.op == Op::Conv && consumer.groups == 1) || consumer.op == Op::Linear;
}

std::vector<std::string> Trace::folded_consumers(int i) const {
  const auto& c = layers[static_cast<std::size_t>(i)].compression;
  if (!c || !c->projected()) return {};
  if (c->folded) return *c->folded;
  std::vector<std::string> names;
  const auto all = consumers();  // kept alive: a range-for over a temporary's element would dangle
  for (int consumer : all[static_cast<std::size_t>(i)])
    if (can_fold_decoder(layers[static_cast<std::size_t>(consumer)]))
      names.push_back(layers[static_cast<std::size_t>(consumer)].name);
  return names;
}

std::vector<int> Trace::input_consumers() const {
  std::vector<int> result;
  for (std::size_t i = 0; i < layers.size(); ++i)
    for (const auto& input : layers[i].inputs)
      if (input == kNetworkInput) result.push_back(static_cast<int>(i));
  return result;
}

std::int64_t weight_bytes_for(std::int64_t weights, std::int64_t biases, const Precision& p) {
  return ceil_div(weights * p.weight_bits, 8) + ceil_div(biases * p.bias_bits, 8);
}

namespace {
std::int64_t checked_product(std::initializer_list<std::int64_t> factors) {
  std::int64_t product = 1;
  for (std::int64_t f : factors)
    if (__builtin_mul_overflow(product, f, &product) || product > (std::int64_t{1} << 56))
      throw std::overflow_error("count does not fit");
  return product;
}
}  // namespace

void derive_counts(Layer& layer, const Precision& precision) {
  const Shape& in = layer.in_shape;
  const Shape& out = layer.out_shape;
  layer.macs = layer.ops = layer.weights = 0;
  switch (layer.op) {
    case Op::Conv:
    case Op::DwConv:
      layer.weights = checked_product({out.c, in.c / layer.groups, layer.kernel_h, layer.kernel_w});
      layer.macs = checked_product({layer.weights, out.pixels()});
      break;
    case Op::Linear:
      layer.weights = checked_product({in.elements(), out.c});
      layer.macs = layer.weights;
      break;
    case Op::Pool:
      layer.ops = checked_product({out.elements(), layer.kernel_h, layer.kernel_w});
      break;
    case Op::Add:
      layer.ops = out.elements() * static_cast<std::int64_t>(layer.inputs.size() - 1);
      break;
  }
  if (!layer.has_weights()) layer.biases = 0;
  layer.weight_bytes = weight_bytes_for(layer.weights, layer.biases, precision);
}

Trace parse_trace(const std::string& text, const std::string& name) {
  YamlDocument doc = YamlDocument::parse(text, name);
  YamlView root = doc.root();
  root.require_map("a capsim trace (a mapping with format, version, network, layers)");
  root.allow_keys({"format", "version", "network", "precision", "plan", "source", "layers"});
  if (root.string("format") != "capsim-trace") root.fail("format", "'capsim-trace'");
  if (root.integer("version") != kTraceVersion)
    root.fail("version",
              fmt::format("{} (this capsim reads trace format version {})", kTraceVersion, kTraceVersion));

  Trace trace;
  trace.network = read_network(root.child("network"));
  if (auto p = root.find("precision")) {
    p->allow_keys({"weight_bits", "bias_bits"});
    trace.precision.weight_bits = static_cast<int>(p->integer_or("weight_bits", 8, 1, 32));
    trace.precision.bias_bits = static_cast<int>(p->integer_or("bias_bits", 32, 1, 64));
  }
  trace.plan = root.string_or("plan", "none");
  trace.source = root.string_or("source", "");

  std::unordered_map<std::string, Shape> produced{{std::string(kNetworkInput), trace.network.input}};
  auto layer_views = root.sequence("layers");
  if (layer_views.empty()) root.fail("layers", "at least one layer");
  for (const auto& lv : layer_views) {
    lv.require_map("a layer (a mapping with name, op, inputs, shapes...)");
    trace.layers.push_back(read_layer(lv, trace, produced));
    produced[trace.layers.back().name] = trace.layers.back().out_shape;
  }
  check_folded_lists(trace, layer_views);
  return trace;
}

Trace read_trace(const std::string& path) { return parse_trace(read_file(path), path); }

std::string format_trace(const Trace& trace) {
  const Network& n = trace.network;
  std::string out;
  out += "# capsim layer trace (format documented in docs/trace-format.md)\n";
  out += "format: capsim-trace\n";
  out += fmt::format("version: {}\n", kTraceVersion);
  out += fmt::format(
      "network: {{model: {}, variant: {}, input: [{}, {}, {}], classes: {}, width: {}, batch: {}}}\n",
      n.model, n.variant, n.input.c, n.input.h, n.input.w, n.classes, format_double(n.width), n.batch);
  out += fmt::format("precision: {{weight_bits: {}, bias_bits: {}}}\n", trace.precision.weight_bits,
                     trace.precision.bias_bits);
  out += "plan: " + yaml_quote(trace.plan) + "\n";
  if (!trace.source.empty()) out += "source: " + yaml_quote(trace.source) + "\n";
  out += "layers:\n";
  for (const auto& l : trace.layers) {
    out += fmt::format("- name: {}\n  op: {}\n", l.name, to_string(l.op));
    out += "  inputs: [";
    for (std::size_t i = 0; i < l.inputs.size(); ++i) out += (i ? ", " : "") + l.inputs[i];
    out += "]\n";
    out += fmt::format("  in_shape: [{}, {}, {}]\n  out_shape: [{}, {}, {}]\n", l.in_shape.c, l.in_shape.h,
                       l.in_shape.w, l.out_shape.c, l.out_shape.h, l.out_shape.w);
    if (l.op == Op::Conv || l.op == Op::DwConv || l.op == Op::Pool) {
      out += fmt::format("  kernel: [{}, {}]\n  stride: [{}, {}]\n  padding: [{}, {}]\n", l.kernel_h,
                         l.kernel_w, l.stride_h, l.stride_w, l.pad_h, l.pad_w);
    }
    if (l.op == Op::Conv || l.op == Op::DwConv) out += fmt::format("  groups: {}\n", l.groups);
    if (l.op == Op::Pool) out += fmt::format("  pool: {}\n", to_string(l.pool));
    if (l.activation != Activation::None) out += fmt::format("  activation: {}\n", to_string(l.activation));
    if (l.has_weights()) {
      out += fmt::format("  macs: {}\n  weights: {}\n  biases: {}\n  weight_bytes: {}\n", l.macs, l.weights,
                         l.biases, l.weight_bytes);
    } else {
      out += fmt::format("  ops: {}\n", l.ops);
    }
    if (l.compression) {
      const Compression& c = *l.compression;
      std::int64_t enc_r = c.projected() ? c.k : 0, enc_c = c.projected() ? c.channels : 0;
      out +=
          fmt::format("  compression: {{channels: {}, k: {}, bits: {}, encoder: [{}, {}], decoder: [{}, {}]",
                      c.channels, c.k, c.bits, enc_r, enc_c, enc_c, enc_r);
      if (c.entropy_bits_per_value)
        out += ", entropy_bits_per_value: " + format_double(*c.entropy_bits_per_value);
      if (c.nrmse) out += ", nrmse: " + format_double(*c.nrmse);
      if (c.projected())
        out += fmt::format(", folded: [{}]", fmt::join(trace.folded_consumers(trace.index_of(l.name)), ", "));
      out += "}\n";
    }
  }
  return out;
}

void write_trace(const Trace& trace, const std::string& path) {
  std::string text = format_trace(trace);
  try {
    parse_trace(text, path);
  } catch (const InputError& e) {
    throw std::logic_error(std::string("refusing to write an inconsistent trace: ") + e.what());
  }
  write_file_atomic(path, text);
}

}  // namespace capsim::trace
