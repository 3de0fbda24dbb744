#include "trace_builder.hpp"

#include <stdexcept>

namespace capsim::testing {

using trace::Layer;
using trace::Op;
using trace::Shape;

TraceBuilder::TraceBuilder(Shape input, std::string model) {
  trace_.network.model = std::move(model);
  trace_.network.variant = "cifar";
  trace_.network.input = input;
  trace_.network.classes = 10;
}

Shape TraceBuilder::shape_of(const std::string& name) const {
  if (name == trace::kNetworkInput) return trace_.network.input;
  int i = trace_.index_of(name);
  if (i < 0) throw std::logic_error("no layer " + name);
  return trace_.layers[static_cast<std::size_t>(i)].out_shape;
}

std::string TraceBuilder::push(Layer layer) {
  trace::derive_counts(layer, trace_.precision);
  trace_.layers.push_back(layer);
  return layer.name;
}

std::string TraceBuilder::conv(const std::string& name, const std::string& input, std::int64_t out_channels,
                               int kernel, int stride, int pad, std::int64_t groups) {
  Layer l;
  l.name = name;
  l.op = Op::Conv;
  l.inputs = {input};
  l.in_shape = shape_of(input);
  l.kernel_h = l.kernel_w = kernel;
  l.stride_h = l.stride_w = stride;
  l.pad_h = l.pad_w = pad;
  l.groups = groups;
  l.out_shape = {out_channels, (l.in_shape.h + 2 * pad - kernel) / stride + 1,
                 (l.in_shape.w + 2 * pad - kernel) / stride + 1};
  l.biases = out_channels;
  l.activation = trace::Activation::Relu;
  return push(l);
}

std::string TraceBuilder::dwconv(const std::string& name, const std::string& input, int kernel, int stride,
                                 int pad) {
  const std::int64_t c = shape_of(input).c;
  conv(name, input, c, kernel, stride, pad, c);
  trace_.layers.back().op = Op::DwConv;
  return name;
}

std::string TraceBuilder::pool(const std::string& name, const std::string& input, int kernel, int stride,
                               trace::PoolKind kind) {
  Layer l;
  l.name = name;
  l.op = Op::Pool;
  l.pool = kind;
  l.inputs = {input};
  l.in_shape = shape_of(input);
  l.kernel_h = l.kernel_w = kernel;
  l.stride_h = l.stride_w = stride;
  l.out_shape = {l.in_shape.c, (l.in_shape.h - kernel) / stride + 1, (l.in_shape.w - kernel) / stride + 1};
  return push(l);
}

std::string TraceBuilder::add(const std::string& name, const std::vector<std::string>& inputs) {
  Layer l;
  l.name = name;
  l.op = Op::Add;
  l.inputs = inputs;
  l.in_shape = l.out_shape = shape_of(inputs.front());
  l.activation = trace::Activation::Relu;
  return push(l);
}

std::string TraceBuilder::linear(const std::string& name, const std::string& input,
                                 std::int64_t out_features) {
  Layer l;
  l.name = name;
  l.op = Op::Linear;
  l.inputs = {input};
  l.in_shape = shape_of(input);
  l.out_shape = {out_features, 1, 1};
  l.biases = out_features;
  return push(l);
}

trace::Trace TraceBuilder::build() const {
  return trace::parse_trace(trace::format_trace(trace_), "builder.trace");
}

trace::Trace small_residual_network(std::int64_t channels, std::int64_t size) {
  TraceBuilder b({3, size, size});
  b.conv("stem", "input", channels, 3, 1, 1);
  b.conv("main", "stem", 2 * channels, 3, 2, 1);
  b.conv("shortcut", "stem", 2 * channels, 1, 2, 0);
  b.add("join", {"main", "shortcut"});
  b.dwconv("depthwise", "join", 3, 1, 1);
  b.pool("pool", "depthwise", static_cast<int>(size / 2), static_cast<int>(size / 2), trace::PoolKind::Avg);
  b.linear("fc", "pool", 10);
  return b.build();
}

}  // namespace capsim::testing
