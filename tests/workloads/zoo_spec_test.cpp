// The model zoo's analytic side: torchvision's golden tables, totals, naming, shapes and traces.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "capsim/common/error.hpp"
#include "capsim/trace/plan.hpp"
#include "capsim/workloads/model_spec.hpp"

namespace capsim::workloads {
namespace {

using trace::Shape;

const std::vector<std::string> kModels = {"mobilenetv2", "resnet18", "vgg16"};

ModelOptions imagenet_options() {
  ModelOptions o;
  o.variant = "imagenet";
  o.in_channels = 3;
  o.classes = 1000;
  return o;
}

ModelOptions cifar_options(double width, std::int64_t in_channels = 1, std::int64_t classes = 10) {
  ModelOptions o;
  o.variant = "cifar";
  o.in_channels = in_channels;
  o.classes = classes;
  o.width = width;
  return o;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot read " << path;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::set<std::string> names_of(const ModelSpec& spec) {
  std::set<std::string> names;
  for (const auto& n : spec.nodes) names.insert(n.name);
  return names;
}

std::int64_t total_macs(const ModelSpec& spec, const Shape& input) {
  std::int64_t total = 0;
  for (auto m : node_macs(spec.nodes, input)) total += m;
  return total;
}

TEST(ZooSpec, ImagenetCsvEqualsTorchvisionGolden) {
  for (const auto& model : kModels) {
    const std::string golden =
        read_text(std::string(CAPSIM_GOLDEN_DIR) + "/inspect/" + model + "_imagenet_3x224x224.csv");
    EXPECT_EQ(layer_csv(model_spec(model, imagenet_options()), {3, 224, 224}), golden) << model;
  }
}

TEST(ZooSpec, ImagenetTotalsEqualTorchvision) {
  // torchvision 0.14: sum(p.numel() for p in model.parameters()), and conv+linear MACs at 224x224
  // (scripts/torchvision_reference.py).
  struct Expected {
    std::string model;
    std::int64_t params, macs;
  };
  for (const Expected& e :
       {Expected{"resnet18", 11'689'512, 1'814'073'344}, Expected{"mobilenetv2", 3'504'872, 300'774'272},
        Expected{"vgg16", 138'357'544, 15'470'264'320}}) {
    const ModelSpec spec = model_spec(e.model, imagenet_options());
    EXPECT_EQ(parameter_count(spec.nodes), e.params) << e.model;
    EXPECT_EQ(total_macs(spec, {3, 224, 224}), e.macs) << e.model;
  }
}

TEST(ZooSpec, VariantsShareLayerNamesExceptImagenetOnlyPools) {
  const std::map<std::string, std::set<std::string>> imagenet_only = {
      {"resnet18", {"maxpool"}}, {"mobilenetv2", {}}, {"vgg16", {"avgpool"}}};
  for (const auto& model : kModels) {
    const auto imagenet = names_of(model_spec(model, imagenet_options()));
    const auto cifar = names_of(model_spec(model, cifar_options(0.5)));
    std::set<std::string> only_imagenet, only_cifar;
    std::set_difference(imagenet.begin(), imagenet.end(), cifar.begin(), cifar.end(),
                        std::inserter(only_imagenet, only_imagenet.end()));
    std::set_difference(cifar.begin(), cifar.end(), imagenet.begin(), imagenet.end(),
                        std::inserter(only_cifar, only_cifar.end()));
    EXPECT_EQ(only_imagenet, imagenet_only.at(model)) << model;
    EXPECT_TRUE(only_cifar.empty()) << model;
  }
}

TEST(ZooSpec, NonModuleNodeNames) {
  const ModelSpec resnet = model_spec("resnet18", imagenet_options());
  for (const char* name : {"maxpool", "layer1.0", "layer4.1", "avgpool", "layer2.0.downsample.0", "fc"})
    EXPECT_TRUE(names_of(resnet).count(name)) << name;
  const ModelSpec mobilenet = model_spec("mobilenetv2", imagenet_options());
  for (const char* name : {"features.3", "features.16", "avgpool", "features.1.conv.0.0", "features.1.conv.1",
                           "features.18.0", "classifier.1"})
    EXPECT_TRUE(names_of(mobilenet).count(name)) << name;
  EXPECT_FALSE(names_of(mobilenet).count("features.2")) << "a block without residual has no add";
  const ModelSpec vgg = model_spec("vgg16", cifar_options(1.0));
  for (const char* name : {"features.0", "features.4", "features.28", "features.30", "classifier.6"})
    EXPECT_TRUE(names_of(vgg).count(name)) << name;
}

TEST(ZooSpec, CifarStemsKeep32x32) {
  const Shape input{1, 32, 32};
  const ModelSpec resnet = model_spec("resnet18", cifar_options(1.0));
  auto shapes = output_shapes(resnet.nodes, input);
  EXPECT_EQ(shapes[0], (Shape{64, 32, 32}));
  EXPECT_EQ(resnet.nodes[0].kernel, 3);
  EXPECT_EQ(shapes[resnet.nodes.size() - 3], (Shape{512, 4, 4}));  // layer4.1 add
  const ModelSpec mobilenet = model_spec("mobilenetv2", cifar_options(1.0));
  shapes = output_shapes(mobilenet.nodes, input);
  EXPECT_EQ(shapes[0], (Shape{32, 32, 32}));
  EXPECT_EQ(shapes[mobilenet.nodes.size() - 3], (Shape{1280, 2, 2}));  // features.18.0
  const ModelSpec vgg = model_spec("vgg16", cifar_options(1.0));
  shapes = output_shapes(vgg.nodes, input);
  EXPECT_EQ(shapes[vgg.nodes.size() - 4], (Shape{512, 1, 1}));  // features.30
  EXPECT_TRUE(vgg.nodes[0].batch_norm);
  EXPECT_EQ(vgg.nodes[vgg.nodes.size() - 3].in_channels, 512);  // classifier.0
  EXPECT_EQ(shapes.back(), (Shape{10, 1, 1}));
}

TEST(ZooSpec, WidthRules) {
  // resnet/vgg: round(c * w), at least 1; mobilenetv2: torchvision's divisible-by-8 rule.
  const ModelSpec resnet = model_spec("resnet18", cifar_options(0.25, 3));
  EXPECT_EQ(resnet.nodes[0].out_channels, 16);
  EXPECT_EQ(resnet.nodes.back().in_channels, 128);
  EXPECT_EQ(model_spec("vgg16", cifar_options(0.001)).nodes[0].out_channels, 1);
  const ModelSpec narrow = model_spec("mobilenetv2", cifar_options(0.25));
  EXPECT_EQ(narrow.nodes[0].out_channels, 8);       // _make_divisible(32 * 0.25) = 8
  EXPECT_EQ(narrow.nodes.back().in_channels, 320);  // cifar scales the last conv too
  ModelOptions o = imagenet_options();
  o.width = 0.5;
  EXPECT_EQ(model_spec("mobilenetv2", o).nodes.back().in_channels, 1280);  // torchvision: max(1, w)
  o.width = 1.4;
  EXPECT_EQ(model_spec("mobilenetv2", o).nodes.back().in_channels, 1792);
}

TEST(ZooSpec, TracesValidateAndRoundTrip) {
  struct Case {
    ModelOptions options;
    Shape input;
  };
  const std::vector<Case> cases = {{imagenet_options(), {3, 224, 224}},
                                   {cifar_options(1.0, 3), {3, 32, 32}},
                                   {cifar_options(0.25), {1, 32, 32}},
                                   {cifar_options(0.5), {1, 32, 32}}};
  for (const auto& model : kModels) {
    for (const Case& c : cases) {
      const ModelSpec spec = model_spec(model, c.options);
      trace::Trace t = to_trace(spec, c.input);
      const std::string text = trace::format_trace(t);
      trace::Trace back;
      ASSERT_NO_THROW(back = trace::parse_trace(text, "zoo.trace")) << model << " " << c.options.variant;
      EXPECT_EQ(trace::format_trace(back), text);
      EXPECT_EQ(back.layers.size(), spec.nodes.size());
      EXPECT_EQ(back.network.model, model);
      EXPECT_EQ(back.network.variant, c.options.variant);
      std::int64_t macs = 0;
      for (const auto& l : back.layers) macs += l.macs;
      EXPECT_EQ(macs, total_macs(spec, c.input)) << model;
    }
  }
}

TEST(ZooSpec, TraceOpsAndPools) {
  const ModelSpec mobilenet = model_spec("mobilenetv2", imagenet_options());
  trace::Trace t = to_trace(mobilenet, {3, 224, 224});
  const auto& dw = t.layers[t.index_of("features.2.conv.1.0")];
  EXPECT_EQ(dw.op, trace::Op::DwConv);
  EXPECT_EQ(dw.groups, 96);
  EXPECT_EQ(dw.activation, trace::Activation::Relu6);
  EXPECT_EQ(dw.biases, 96) << "batch-norm folds into a bias";
  const auto& add = t.layers[t.index_of("features.3")];
  EXPECT_EQ(add.op, trace::Op::Add);
  EXPECT_EQ(add.inputs, (std::vector<std::string>{"features.2.conv.2", "features.3.conv.2"}));
  const auto& pool = t.layers[t.index_of("avgpool")];
  EXPECT_EQ(pool.op, trace::Op::Pool);
  EXPECT_EQ(pool.pool, trace::PoolKind::Avg);
  EXPECT_EQ(pool.kernel_h, 7);
  EXPECT_EQ(pool.stride_h, 7);
  const auto& fc = t.layers.back();
  EXPECT_EQ(fc.op, trace::Op::Linear);
  EXPECT_EQ(fc.in_shape, (Shape{1280, 1, 1}));
  EXPECT_EQ(fc.weights, 1280 * 1000);

  trace::Trace r = to_trace(model_spec("resnet18", imagenet_options()), {3, 224, 224});
  const auto& maxpool = r.layers[r.index_of("maxpool")];
  EXPECT_EQ(maxpool.pool, trace::PoolKind::Max);
  EXPECT_EQ(maxpool.kernel_h, 3);
  EXPECT_EQ(maxpool.pad_h, 1);
  EXPECT_EQ(r.layers[r.index_of("layer2.0")].inputs,
            (std::vector<std::string>{"layer2.0.conv2", "layer2.0.downsample.0"}));
  EXPECT_EQ(r.layers[r.index_of("layer1.0")].inputs, (std::vector<std::string>{"layer1.0.conv2", "maxpool"}));

  trace::Trace v = to_trace(model_spec("vgg16", imagenet_options()), {3, 224, 224});
  const auto& vgg_pool = v.layers[v.index_of("avgpool")];
  EXPECT_EQ(vgg_pool.kernel_h, 1) << "7x7 -> 7x7 adaptive pool is a 1x1 window";
  EXPECT_EQ(v.layers[v.index_of("classifier.0")].in_shape, (Shape{512, 7, 7}));
  EXPECT_EQ(v.layers[0].biases, 64) << "vgg16 convs own a bias";
}

TEST(ZooSpec, UniformPlanCompressesEveryLayerButTheLast) {
  for (const auto& model : kModels) {
    trace::Trace t = to_trace(model_spec(model, cifar_options(0.5)), {1, 32, 32});
    trace::apply_plan(t, trace::parse_plan_spec("uniform:0.5"));
    for (std::size_t i = 0; i + 1 < t.layers.size(); ++i) {
      ASSERT_TRUE(t.layers[i].compression) << model << " " << t.layers[i].name;
      EXPECT_EQ(t.layers[i].compression->k, std::llround(0.5 * t.layers[i].out_shape.c)) << t.layers[i].name;
    }
    EXPECT_FALSE(t.layers.back().compression) << model;
    EXPECT_NO_THROW(trace::parse_trace(trace::format_trace(t), "plan.trace"));
  }
}

TEST(ZooSpec, InputsTheNetworkCannotTakeAreInputErrors) {
  auto expect_input_error = [](const std::string& model, const ModelOptions& o, const Shape& input,
                               const std::string& fragment) {
    try {
      to_trace(model_spec(model, o), input);
      ADD_FAILURE() << model << " " << trace::to_string(input) << " should fail";
    } catch (const InputError& e) {
      EXPECT_EQ(e.where().file, "--input");
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  expect_input_error("vgg16", imagenet_options(), {3, 64, 64}, "adaptive pool 'avgpool'");
  expect_input_error("vgg16", cifar_options(1.0), {1, 16, 16}, "too small");
  expect_input_error("vgg16", cifar_options(1.0), {1, 64, 64}, "classifier.0");
  expect_input_error("resnet18", cifar_options(1.0), {3, 32, 32}, "expects 1 input channels");
}

TEST(ZooSpec, BadOptionsNameTheirFlag) {
  auto where = [](const std::string& model, const ModelOptions& o) -> std::string {
    try {
      model_spec(model, o);
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(where("resnt18", cifar_options(1.0)).find("--model: key 'model'"), std::string::npos);
  EXPECT_NE(where("resnt18", cifar_options(1.0)).find("did you mean 'resnet18'"), std::string::npos);
  ModelOptions o = cifar_options(1.0);
  o.variant = "cifr";
  EXPECT_NE(where("vgg16", o).find("did you mean 'cifar'"), std::string::npos);
  for (double w : {0.0, -1.0, 1e-4, 100.0})
    EXPECT_EQ(where("vgg16", cifar_options(w)).rfind("--width", 0), 0u) << w;
  EXPECT_EQ(where("vgg16", cifar_options(1.0, 1, 0)).rfind("--classes", 0), 0u);
  EXPECT_EQ(where("vgg16", cifar_options(1.0, 0)).rfind("--input", 0), 0u);
}

TEST(ZooSpec, ParseShape) {
  EXPECT_EQ(parse_shape("3x224x224"), (Shape{3, 224, 224}));
  for (const char* bad :
       {"", "3x32", "3x32x32x1", "3x0x32", "3X32X32", "-1x32x32", "3x32x", "a", "3 x32x32", "3x65537x32"})
    EXPECT_THROW(parse_shape(bad), InputError) << bad;
}

TEST(ZooSpec, ModuleKeysHaveNoDots) { EXPECT_EQ(module_key("features.1.conv.0.0"), "features_1_conv_0_0"); }

TEST(ZooSpec, ValidateNodesRejectsBrokenGraphs) {
  NodeSpec a;
  a.name = "a";
  a.inputs = {-1};
  a.in_channels = 3;
  a.out_channels = 4;
  NodeSpec b = a;
  b.name = "b";
  b.inputs = {0};  // expects 3 channels, gets 4
  EXPECT_THROW(validate_nodes({a, b}), std::invalid_argument);
  b.in_channels = 4;
  EXPECT_NO_THROW(validate_nodes({a, b}));
  b.inputs = {1};
  EXPECT_THROW(validate_nodes({a, b}), std::invalid_argument) << "reads itself";
  b.inputs = {0};
  b.name = "a";
  EXPECT_THROW(validate_nodes({a, b}), std::invalid_argument) << "duplicate name";
}

// The plan fixtures (tests/golden/plans, PCA + greedy at 1% from scripts/reproduce) were learned on the
// width-0.5 cifar networks (1x32x32) and apply by layer name to the torchvision imagenet networks at
// 3x224x224, k scaled with the channel count: the kept fraction of channels carries over (k' / C' within half
// a channel of k / C), the bits carry over, measured statistics do not (another tensor), and no other layer
// is compressed. The hand-checked layers: resnet18 and vgg16 convs have twice the channels at width 1.0,
// vgg16's hidden classifier is 4096 wide instead of 256 (16x), mobilenetv2's features.3 has 24 channels
// instead of make_divisible(12, 8) = 16 (k 12 -> 18), its last feature map 1280 instead of 640.
TEST(PlanTransfer, CifarPlansApplyToTheImagenetNetworksWithScaledK) {
  struct Expected {
    std::string layer;
    std::int64_t channels, k;
  };
  const std::map<std::string, std::vector<Expected>> hand = {
      {"resnet18", {{"conv1", 64, 32}, {"layer1.0.conv2", 64, 24}, {"layer2.0.downsample.0", 128, 64}}},
      {"vgg16", {{"features.0", 64, 24}, {"features.30", 512, 256}, {"classifier.3", 4096, 512}}},
      {"mobilenetv2", {{"features.3", 24, 18}, {"features.2.conv.0.0", 96, 36}, {"avgpool", 1280, 960}}},
  };
  const std::string plans = std::string(CAPSIM_GOLDEN_DIR) + "/plans/";
  for (const auto& model : kModels) {
    SCOPED_TRACE(model);
    const trace::Plan plan = trace::read_plan(plans + model + "_pca_greedy_drop1.yaml");
    ASSERT_GT(plan.layers.size(), 10u);

    // On the network it was learned on, the plan applies as written.
    trace::Trace cifar = to_trace(model_spec(model, cifar_options(0.5)), {1, 32, 32});
    trace::apply_plan(cifar, plan);
    // On the imagenet network, scaled.
    trace::Trace imagenet = to_trace(model_spec(model, imagenet_options()), {3, 224, 224});
    ASSERT_NO_THROW(trace::apply_plan(imagenet, plan));
    std::size_t compressed = 0;
    for (const auto& l : imagenet.layers) {
      const auto entry = plan.layers.find(l.name);
      if (entry == plan.layers.end()) {
        EXPECT_FALSE(l.compression) << l.name << " is not in the plan";
        continue;
      }
      ++compressed;
      SCOPED_TRACE(l.name);
      const trace::PlanEntry& e = entry->second;
      const trace::Layer& learned_on = cifar.layers[static_cast<std::size_t>(cifar.index_of(l.name))];
      ASSERT_TRUE(learned_on.compression);
      EXPECT_EQ(learned_on.out_shape.c, e.channels);
      EXPECT_EQ(learned_on.compression->k, e.k);
      EXPECT_EQ(learned_on.compression->entropy_bits_per_value, e.entropy_bits_per_value);
      EXPECT_EQ(learned_on.op, l.op) << "the same kind of layer under the same name";

      ASSERT_TRUE(l.compression);
      const auto& c = *l.compression;
      EXPECT_EQ(c.channels, l.out_shape.c);
      EXPECT_GE(l.out_shape.c, e.channels) << "imagenet at width 1 is never narrower";
      EXPECT_GE(c.k, 1);
      EXPECT_LE(c.k, c.channels);
      // |k'/C' - k/C| <= 1 / (2 C'), in integers.
      EXPECT_LE(2 * std::abs(c.k * e.channels - e.k * c.channels), e.channels) << c.k << " of " << c.channels;
      EXPECT_EQ(c.bits, e.bits);
      if (c.channels != e.channels) {
        EXPECT_FALSE(c.entropy_bits_per_value);
        EXPECT_FALSE(c.nrmse);
      }
    }
    EXPECT_EQ(compressed, plan.layers.size());
    for (const Expected& x : hand.at(model)) {
      const int i = imagenet.index_of(x.layer);
      ASSERT_GE(i, 0) << x.layer;
      const auto& l = imagenet.layers[static_cast<std::size_t>(i)];
      ASSERT_TRUE(l.compression) << x.layer;
      EXPECT_EQ(l.out_shape.c, x.channels) << x.layer;
      EXPECT_EQ(l.compression->k, x.k) << x.layer;
    }
  }
}

}  // namespace
}  // namespace capsim::workloads
