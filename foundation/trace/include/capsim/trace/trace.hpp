#pragma once
// Layer trace, format v1 (docs/trace-format.md): one CNN inference as the accelerator executes it,
// layer by layer. Written by the LibTorch workloads (`capsim trace`, the compression pipeline) and
// replayed by the simulator. Every output activation may carry a compression record saying how it
// is stored in DRAM (projection to k of C channels, b bits per coefficient).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace capsim::trace {

inline constexpr int kTraceVersion = 1;
inline constexpr std::string_view kNetworkInput = "input";  // name of the network's input tensor

enum class Op { Conv, DwConv, Linear, Pool, Add };
enum class PoolKind { Max, Avg };
enum class Activation { None, Relu, Relu6 };

std::string_view to_string(Op op);
std::string_view to_string(PoolKind kind);
std::string_view to_string(Activation act);

// Per-image activation shape, channels x height x width.
struct Shape {
  std::int64_t c = 0, h = 0, w = 0;
  std::int64_t elements() const { return c * h * w; }
  std::int64_t pixels() const { return h * w; }
  bool operator==(const Shape& o) const { return c == o.c && h == o.h && w == o.w; }
  bool operator!=(const Shape& o) const { return !(*this == o); }
};
std::string to_string(const Shape& s);  // "64x56x56"

// How a layer's output is stored in DRAM. k == channels means quantization only (no projection).
struct Compression {
  std::int64_t channels = 0;                     // C
  std::int64_t k = 0;                            // kept dimension, 1..C
  int bits = 8;                                  // bits per stored coefficient
  std::optional<double> entropy_bits_per_value;  // measured by the pipeline, optional
  std::optional<double> nrmse;                   // reconstruction error, optional
  // Consumers that read the k coefficients directly, the decoder folded into their weights
  // (W' = W D; docs/trace-format.md). Unset: every consumer `can_fold_decoder` allows.
  std::optional<std::vector<std::string>> folded;

  bool projected() const { return k < channels; }
  std::int64_t encoder_elements() const { return projected() ? k * channels : 0; }  // k x C
  std::int64_t decoder_elements() const { return projected() ? channels * k : 0; }  // C x k
};

struct Layer {
  std::string name;
  Op op = Op::Conv;
  std::vector<std::string> inputs;  // producer layer names, or "input"
  Shape in_shape;                   // shape of inputs[0]
  Shape out_shape;
  int kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  std::int64_t groups = 1;
  PoolKind pool = PoolKind::Max;  // op == Pool only
  Activation activation = Activation::None;
  std::int64_t macs = 0;                   // multiply-accumulates (conv, dwconv, linear)
  std::int64_t ops = 0;                    // element operations (pool: window ops, add: additions)
  std::int64_t weights = 0;                // weight values (conv, dwconv, linear)
  std::int64_t biases = 0;                 // bias values, batch-norm folded in
  std::int64_t weight_bytes = 0;           // weights and biases at the trace's precision
  std::optional<Compression> compression;  // of the output; absent = stored uncompressed

  bool has_weights() const { return op == Op::Conv || op == Op::DwConv || op == Op::Linear; }
};

// Whether a layer reading a projected tensor can absorb its decoder into its weights: every path
// from the coefficients to its outputs is linear before the layer's own bias and activation (a
// dense convolution or a linear layer). Depthwise convs, pools and adds need the decoded channels.
bool can_fold_decoder(const Layer& consumer);

struct Network {
  std::string model;    // resnet18, mobilenetv2, vgg16
  std::string variant;  // imagenet, cifar
  Shape input;
  std::int64_t classes = 0;
  double width = 1.0;      // width multiplier
  std::int64_t batch = 1;  // images per inference
};

struct Precision {
  int weight_bits = 8;
  int bias_bits = 32;
};

struct Trace {
  Network network;
  Precision precision;
  std::string plan = "none";  // name of the compression plan applied
  std::string source;         // provenance (free text)
  std::vector<Layer> layers;  // in execution (topological) order

  // Index of the layer called `name`, or -1 (also for the network input).
  int index_of(std::string_view name) const;
  // consumers()[i] lists the indices of layers that read layer i's output.
  std::vector<std::vector<int>> consumers() const;
  // Layers reading the network input.
  std::vector<int> input_consumers() const;
  // Names of the consumers of layer i's output whose decoder is folded (the record's `folded`
  // list, or by `can_fold_decoder` when unset); empty when the output is not projected.
  std::vector<std::string> folded_consumers(int i) const;
};

// Weight bytes of a layer at the given precision (weights and biases rounded up to whole bytes).
std::int64_t weight_bytes_for(std::int64_t weights, std::int64_t biases, const Precision& p);

// Fills macs, ops, weights, biases and weight_bytes from shapes (used by writers).
void derive_counts(Layer& layer, const Precision& precision);

// Reading checks everything (version, names, producers, shape arithmetic, counts, compression
// records) and throws capsim::InputError naming file, line and key.
Trace read_trace(const std::string& path);
Trace parse_trace(const std::string& text, const std::string& name);

std::string format_trace(const Trace& trace);
// Validates (std::logic_error on an inconsistent trace: a bug in the writer) and writes atomically.
void write_trace(const Trace& trace, const std::string& path);

}  // namespace capsim::trace
