// `capsim-torch inspect` and `capsim-torch trace`: the model zoo's layer tables and layer traces.
// Both are analytic (model_spec.hpp): no weights are allocated, so a 224x224 VGG16 is instant.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <cstdio>

#include "capsim/common/error.hpp"
#include "capsim/trace/plan.hpp"
#include "capsim/trace/trace.hpp"
#include "capsim/workloads/model_spec.hpp"
#include "command_registry.hpp"

namespace capsim::workloads::cli {
namespace {

// The options naming one network, shared by inspect and trace.
struct NetworkArgs {
  std::string model;
  std::string variant;
  std::string input;
  double width = 1.0;
  std::int64_t classes = 0;
  CLI::Option* classes_option = nullptr;
};

void add_network_options(CLI::App* cmd, NetworkArgs& a) {
  cmd->add_option("--model", a.model, "Network: mobilenetv2, resnet18 or vgg16")->required();
  cmd->add_option("--variant", a.variant, "imagenet (torchvision's definition) or cifar (32x32 stem)")
      ->required();
  cmd->add_option("--input", a.input, "Input shape CxHxW, e.g. 3x224x224 or 1x32x32")->required();
  cmd->add_option("--width", a.width, "Width multiplier on every channel count")->capture_default_str();
  a.classes_option =
      cmd->add_option("--classes", a.classes, "Output classes (default: 1000 imagenet, 10 cifar)");
}

// Validates every flag (InputError naming it) and returns the network and its input shape.
ModelSpec network_from(const NetworkArgs& a, trace::Shape& input) {
  input = parse_shape(a.input, "--input");
  ModelOptions options;
  options.variant = a.variant;
  options.in_channels = input.c;
  options.width = a.width;
  options.classes = a.classes_option->count() ? a.classes : (a.variant == "imagenet" ? 1000 : 10);
  ModelSpec spec = model_spec(a.model, options);
  output_shapes(spec.nodes, input);  // rejects inputs the network cannot take
  return spec;
}

void add_inspect(CLI::App& app) {
  auto args = std::make_shared<NetworkArgs>();
  auto csv = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("inspect", "Print a zoo network's layers, MACs and parameters");
  add_network_options(cmd, *args);
  cmd->add_flag("--csv", *csv, "One CSV row per conv/linear layer (name,type,in_ch,out_ch,kernel,...)");
  cmd->callback([args, csv] {
    trace::Shape input;
    const ModelSpec spec = network_from(*args, input);
    const std::string text = *csv ? layer_csv(spec, input) : layer_table(spec, input);
    std::fwrite(text.data(), 1, text.size(), stdout);
  });
}

struct TraceArgs {
  NetworkArgs network;
  std::string plan = "none";
  std::string out;
  std::int64_t batch = 1;
  int weight_bits = 8;
  int bias_bits = 32;
};

void add_trace(CLI::App& app) {
  auto args = std::make_shared<TraceArgs>();
  CLI::App* cmd = app.add_subcommand("trace", "Write the layer trace of a zoo network (format v1)");
  add_network_options(cmd, args->network);
  cmd->add_option("--plan", args->plan, "Compression plan: none, uniform:R[:B] or a plan .yaml")
      ->capture_default_str();
  cmd->add_option("--out", args->out, "Trace file to write (atomically)")->required();
  cmd->add_option("--batch", args->batch, "Images per inference")->capture_default_str();
  cmd->add_option("--weight-bits", args->weight_bits, "Bits per weight")->capture_default_str();
  cmd->add_option("--bias-bits", args->bias_bits, "Bits per bias (batch-norm folded in)")
      ->capture_default_str();
  cmd->callback([args] {
    trace::Shape input;
    const ModelSpec spec = network_from(args->network, input);
    if (args->batch < 1 || args->batch > (1 << 20))
      throw InputError({"--batch", 0}, "batch", "1 to 1048576 images", std::to_string(args->batch));
    if (args->weight_bits < 1 || args->weight_bits > 32)
      throw InputError({"--weight-bits", 0}, "weight-bits", "1 to 32", std::to_string(args->weight_bits));
    if (args->bias_bits < 1 || args->bias_bits > 64)
      throw InputError({"--bias-bits", 0}, "bias-bits", "1 to 64", std::to_string(args->bias_bits));
    const trace::Plan plan = trace::parse_plan_spec(args->plan, "--plan");
    trace::Trace t = to_trace(spec, input, trace::Precision{args->weight_bits, args->bias_bits});
    t.network.batch = args->batch;
    trace::apply_plan(t, plan);
    trace::write_trace(t, args->out);
    spdlog::info("wrote {}: {} {} ({}), {} layers, plan {}", args->out, spec.info.model,
                 spec.info.options.variant, trace::to_string(input), t.layers.size(), t.plan);
  });
}

}  // namespace

CAPSIM_REGISTER_COMMAND("inspect", add_inspect);
CAPSIM_REGISTER_COMMAND("trace", add_trace);

}  // namespace capsim::workloads::cli
