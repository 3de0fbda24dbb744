// GraphNet: LibTorch modules of the zoo. Forward, hooks, node-by-node re-runs, parameters,
// serialization and initialisation.
#include "capsim/workloads/graph.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>

#include "capsim/trace/trace.hpp"

namespace capsim::workloads {
namespace {

const std::vector<std::string> kModels = {"mobilenetv2", "resnet18", "vgg16"};

ModelOptions cifar(double width, std::int64_t classes = 10) {
  ModelOptions o;
  o.variant = "cifar";
  o.in_channels = 1;
  o.classes = classes;
  o.width = width;
  return o;
}

class ZooGraph : public ::testing::Test {
 protected:
  void SetUp() override {
    torch::set_num_threads(2);
    torch::manual_seed(7);
  }
};

torch::Tensor input_batch(std::int64_t n, const trace::Shape& s) { return torch::randn({n, s.c, s.h, s.w}); }

// Every node's output, recorded by a hook that passes it on unchanged.
std::vector<torch::Tensor> all_outputs(GraphNet& net, const torch::Tensor& x) {
  std::vector<torch::Tensor> outputs(net->num_nodes());
  net->forward(x, [&](int node, const torch::Tensor& y) {
    outputs[node] = y;
    return y;
  });
  return outputs;
}

TEST_F(ZooGraph, ImagenetParameterCountsEqualTorchvision) {
  const std::map<std::string, std::int64_t> expected = {
      {"resnet18", 11'689'512}, {"mobilenetv2", 3'504'872}, {"vgg16", 138'357'544}};
  ModelOptions o;
  o.variant = "imagenet";
  o.in_channels = 3;
  o.classes = 1000;
  for (const auto& [model, params] : expected) {
    GraphNet net = make_model(model, o);
    EXPECT_EQ(net->parameter_count(), params) << model;
    EXPECT_EQ(parameter_count(net->nodes()), params) << model;
  }
}

TEST_F(ZooGraph, CifarForwardGivesLogitsAtWidths) {
  for (const auto& model : kModels) {
    for (double width : {0.25, 0.5}) {
      GraphNet net = make_model(model, cifar(width, 10));
      EXPECT_EQ(net->parameter_count(), parameter_count(net->nodes())) << model;
      net->train();
      torch::Tensor y = net->forward(input_batch(2, {1, 32, 32}));
      EXPECT_EQ(y.sizes(), (std::vector<std::int64_t>{2, 10})) << model << " " << width;
      net->eval();
      torch::NoGradGuard no_grad;
      y = net->forward(input_batch(2, {1, 32, 32}));
      EXPECT_EQ(y.sizes(), (std::vector<std::int64_t>{2, 10})) << model << " " << width;
      EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
    }
  }
}

TEST_F(ZooGraph, OutputShapesMatchRealForwardShapes) {
  struct Case {
    std::string variant;
    trace::Shape input;
    double width;
  };
  for (const auto& model : kModels) {
    for (const Case& c : {Case{"cifar", {1, 32, 32}, 0.25}, Case{"cifar", {3, 32, 32}, 0.5},
                          Case{"imagenet", {3, 64, 64}, 0.25}, Case{"imagenet", {3, 224, 224}, 0.125}}) {
      ModelOptions o = cifar(c.width);
      o.variant = c.variant;
      o.in_channels = c.input.c;
      GraphNet net = make_model(model, o);
      net->eval();
      torch::NoGradGuard no_grad;
      const auto shapes = net->output_shapes(c.input);
      const auto outputs = all_outputs(net, input_batch(1, c.input));
      for (int i = 0; i < net->num_nodes(); ++i) {
        const auto& s = shapes[i];
        const std::vector<std::int64_t> expected = net->nodes()[i].op == NodeOp::Linear
                                                       ? std::vector<std::int64_t>{1, s.c}
                                                       : std::vector<std::int64_t>{1, s.c, s.h, s.w};
        EXPECT_EQ(outputs[i].sizes().vec(), expected)
            << model << " " << c.variant << " " << net->nodes()[i].name;
      }
    }
  }
}

TEST_F(ZooGraph, IdentityHookAndChainedRunNodeReproduceForward) {
  for (const auto& model : kModels) {
    GraphNet net = make_model(model, cifar(0.5));
    net->eval();
    torch::NoGradGuard no_grad;
    const torch::Tensor x = input_batch(2, {1, 32, 32});
    const torch::Tensor reference = net->forward(x);
    EXPECT_TRUE(torch::equal(net->forward(x, [](int, const torch::Tensor& y) { return y; }), reference))
        << model;

    std::vector<torch::Tensor> outputs(net->num_nodes());
    for (int i = 0; i < net->num_nodes(); ++i) {
      std::vector<torch::Tensor> inputs;
      for (int p : net->nodes()[i].inputs) inputs.push_back(p < 0 ? x : outputs[p]);
      outputs[i] = net->run_node(i, inputs);
    }
    EXPECT_TRUE(torch::equal(outputs.back(), reference)) << model;
  }
}

// The greedy search's use: change one layer's output, re-run only the nodes after it from cached
// tensors, and get what a full forward with that change gives.
TEST_F(ZooGraph, RerunningDownstreamNodesFromCacheEqualsHookedForward) {
  for (const auto& model : kModels) {
    GraphNet net = make_model(model, cifar(0.25));
    net->eval();
    torch::NoGradGuard no_grad;
    const torch::Tensor x = input_batch(2, {1, 32, 32});
    auto cache = all_outputs(net, x);
    const int changed = net->num_nodes() / 2;
    auto perturb = [](const torch::Tensor& y) { return y * 0.5; };
    const torch::Tensor expected =
        net->forward(x, [&](int node, const torch::Tensor& y) { return node == changed ? perturb(y) : y; });
    cache[changed] = perturb(cache[changed]);
    for (int i = changed + 1; i < net->num_nodes(); ++i) {
      std::vector<torch::Tensor> inputs;
      for (int p : net->nodes()[i].inputs) inputs.push_back(p < 0 ? x : cache[p]);
      cache[i] = net->run_node(i, inputs);
    }
    EXPECT_TRUE(torch::allclose(cache.back(), expected)) << model;
    EXPECT_FALSE(torch::allclose(expected, net->forward(x))) << model << ": the change must matter";
  }
}

TEST_F(ZooGraph, ConsumersListReaders) {
  GraphNet net = make_model("resnet18", cifar(0.25));
  const int conv1 = net->index_of("conv1");
  const auto& readers = net->consumers()[conv1];
  std::vector<std::string> names;
  for (int r : readers) names.push_back(net->nodes()[r].name);
  EXPECT_EQ(names, (std::vector<std::string>{"layer1.0.conv1", "layer1.0"}));
  EXPECT_TRUE(net->consumers().back().empty());
  EXPECT_EQ(net->index_of("nope"), -1);
}

TEST_F(ZooGraph, ParametersAreRegisteredUnderSanitizedTorchvisionNames) {
  GraphNet net = make_model("resnet18", cifar(0.25));
  auto params = net->named_parameters();
  for (const char* key : {"conv1.weight", "bn1.weight", "layer1_0_conv1.weight", "layer1_0_bn1.bias",
                          "layer2_0_downsample_0.weight", "layer2_0_downsample_1.weight", "fc.bias"})
    EXPECT_TRUE(params.contains(key)) << key;
  EXPECT_TRUE(net->named_buffers().contains("layer1_0_bn1.running_mean"));
  GraphNet vgg = make_model("vgg16", cifar(0.25));
  EXPECT_TRUE(vgg->named_parameters().contains("features_0_bn.weight"));
  EXPECT_TRUE(vgg->named_parameters().contains("features_0.bias"));
}

TEST_F(ZooGraph, TrainingStepUpdatesEveryParameter) {
  for (const auto& model : kModels) {
    GraphNet net = make_model(model, cifar(0.25));
    net->train();
    torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
    sgd.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(net->forward(input_batch(4, {1, 32, 32})),
                                                     torch::tensor({0, 1, 2, 3}));
    loss.backward();
    for (const auto& p : net->named_parameters()) {
      ASSERT_TRUE(p.value().grad().defined()) << model << " " << p.key();
      EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << model << " " << p.key();
    }
    sgd.step();
  }
}

TEST_F(ZooGraph, TrainEvalPropagateAndDropoutOnlyTrains) {
  GraphNet net = make_model("vgg16", cifar(0.25));
  net->eval();
  EXPECT_FALSE(net->norm_module(0)->is_training());
  const torch::Tensor x = input_batch(2, {1, 32, 32});
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(net->forward(x), net->forward(x)));
  net->train();
  EXPECT_TRUE(net->norm_module(0)->is_training());
}

// torchvision's VGG classifier: no dropout before classifier.0, Dropout(p = 0.5) before
// classifier.3 and classifier.6. With identity weights, zero biases and an all-ones input, a
// linear node's output is its (dropped-out) input: while training each value is 0 (probability p)
// or 1 / (1 - p) = 2; in eval mode every value is 1.
TEST_F(ZooGraph, DropoutZeroesHalfTheClassifierInputsAndScalesTheRestByTwo) {
  GraphNet net = make_model("vgg16", cifar(0.25));
  const std::int64_t batch = 64;
  torch::NoGradGuard no_grad;
  struct Case {
    const char* name;
    double p;
  };
  for (const Case& c : {Case{"classifier.0", 0.0}, Case{"classifier.3", 0.5}, Case{"classifier.6", 0.5}}) {
    SCOPED_TRACE(c.name);
    const int node = net->index_of(c.name);
    ASSERT_GE(node, 0);
    auto linear = net->linear_module(node);
    const std::int64_t in = linear->weight.size(1), out = linear->weight.size(0);
    linear->weight.zero_();
    for (std::int64_t j = 0; j < std::min(in, out); ++j) linear->weight[j][j] = 1.0;
    linear->bias.zero_();
    const torch::Tensor ones = torch::ones({batch, in});
    const std::int64_t seen = batch * std::min(in, out);

    net->eval();
    const torch::Tensor eval_out = net->run_node(node, {ones}).slice(1, 0, std::min(in, out));
    EXPECT_TRUE(torch::equal(eval_out, torch::ones_like(eval_out))) << "no dropout in eval mode";

    net->train();
    const torch::Tensor y = net->run_node(node, {ones}).slice(1, 0, std::min(in, out));
    const double kept_value = 1.0 / (1.0 - c.p);
    const std::int64_t zeros = (y == 0).sum().item<std::int64_t>();
    const std::int64_t kept = (y - kept_value).abs().lt(1e-6).sum().item<std::int64_t>();
    EXPECT_EQ(zeros + kept, seen) << "every value is 0 or 1 / (1 - p)";
    // Binomial(seen, p): 6 standard deviations either side (seen >= 640).
    const double sigma = std::sqrt(c.p * (1 - c.p) / static_cast<double>(seen));
    EXPECT_NEAR(static_cast<double>(zeros) / static_cast<double>(seen), c.p, 6 * sigma + 1e-12)
        << zeros << " of " << seen << " dropped";
  }
}

TEST_F(ZooGraph, SaveLoadAndCloneRoundTrip) {
  GraphNet net = make_model("mobilenetv2", cifar(0.25));
  net->train();
  net->forward(input_batch(4, {1, 32, 32}));  // moves the batch-norm running statistics
  net->eval();
  const torch::Tensor x = input_batch(2, {1, 32, 32});
  torch::NoGradGuard no_grad;
  const torch::Tensor reference = net->forward(x);

  const std::string path = ::testing::TempDir() + "capsim_graph_test.pt";
  torch::save(net, path);
  torch::manual_seed(99);
  GraphNet loaded = make_model("mobilenetv2", cifar(0.25));
  loaded->eval();
  EXPECT_FALSE(torch::equal(loaded->forward(x), reference));
  torch::load(loaded, path);
  loaded->eval();
  EXPECT_TRUE(torch::equal(loaded->forward(x), reference));
  std::remove(path.c_str());

  auto copy = std::dynamic_pointer_cast<GraphNetImpl>(net->clone());
  ASSERT_TRUE(copy);
  EXPECT_TRUE(torch::equal(copy->forward(x), reference));
  copy->conv_module(0)->weight.mul_(0);
  EXPECT_TRUE(torch::equal(net->forward(x), reference)) << "clone shares no parameters";
}

TEST_F(ZooGraph, TorchvisionInitialisation) {
  GraphNet vgg = make_model("vgg16", cifar(1.0));
  auto conv = vgg->conv_module(vgg->index_of("features.28"));  // 512 -> 512, 3x3: fan_out 4608
  EXPECT_NEAR(conv->weight.std().item<double>(), std::sqrt(2.0 / 4608), 0.002);
  EXPECT_EQ(conv->bias.abs().sum().item<double>(), 0.0);
  auto linear = vgg->linear_module(vgg->index_of("classifier.0"));
  EXPECT_NEAR(linear->weight.std().item<double>(), 0.01, 0.001);
  EXPECT_EQ(linear->bias.abs().sum().item<double>(), 0.0);
  auto norm = vgg->norm_module(0);
  EXPECT_TRUE(torch::equal(norm->weight, torch::ones_like(norm->weight)));
  // resnet keeps nn.Linear's default: U(-1/sqrt(in), 1/sqrt(in)) weights and biases.
  GraphNet resnet = make_model("resnet18", cifar(1.0));
  auto fc = resnet->linear_module(resnet->num_nodes() - 1);
  EXPECT_LE(fc->weight.abs().max().item<double>(), 1.0 / std::sqrt(512.0) + 1e-6);
  EXPECT_GT(fc->bias.abs().sum().item<double>(), 0.0);
}

TEST_F(ZooGraph, RunNodeChecksArity) {
  GraphNet net = make_model("resnet18", cifar(0.25));
  EXPECT_THROW(net->run_node(net->index_of("layer1.0"), {torch::zeros({1, 16, 32, 32})}),
               std::invalid_argument);
}

// The trace of a GraphNet against the LibTorch modules it was built from: every layer's output
// shape is the shape a real forward pass produces, its weight count the module's weight tensor,
// its MACs weight count x output pixels (a conv: each weight is used once per output pixel), its
// biases one per output channel (the batch-norm folds into them), and its weight bytes 8-bit
// weights plus 32-bit biases.
TEST_F(ZooGraph, GraphTraceCountsEqualTheModulesAndARealForward) {
  for (const auto& model : kModels) {
    SCOPED_TRACE(model);
    GraphNet net = make_model(model, cifar(0.5));
    net->eval();
    torch::NoGradGuard no_grad;
    const trace::Trace t = net->to_trace({1, 32, 32});
    const auto outputs = all_outputs(net, input_batch(1, {1, 32, 32}));
    ASSERT_EQ(t.layers.size(), static_cast<std::size_t>(net->num_nodes()));
    std::int64_t weighted = 0;
    for (int i = 0; i < net->num_nodes(); ++i) {
      const trace::Layer& l = t.layers[static_cast<std::size_t>(i)];
      SCOPED_TRACE(l.name);
      EXPECT_EQ(l.name, net->nodes()[i].name);
      const auto sizes = outputs[i].sizes();
      const std::int64_t h = sizes.size() == 4 ? sizes[2] : 1, w = sizes.size() == 4 ? sizes[3] : 1;
      EXPECT_EQ(l.out_shape.c, sizes[1]);
      EXPECT_EQ(l.out_shape.h, h);
      EXPECT_EQ(l.out_shape.w, w);
      torch::Tensor weight;
      bool has_bias = false;
      if (auto conv = net->conv_module(i)) {
        weight = conv->weight;
        has_bias = conv->options.bias() || static_cast<bool>(net->norm_module(i));
      } else if (auto linear = net->linear_module(i)) {
        weight = linear->weight;
        has_bias = linear->options.bias();
      }
      if (!weight.defined()) {
        EXPECT_EQ(l.macs, 0);
        EXPECT_EQ(l.weight_bytes, 0);
        continue;
      }
      ++weighted;
      EXPECT_EQ(l.weights, weight.numel());
      EXPECT_EQ(l.macs, weight.numel() * h * w);
      EXPECT_EQ(l.biases, has_bias ? sizes[1] : 0);
      EXPECT_EQ(l.weight_bytes, weight.numel() + 4 * l.biases);
    }
    EXPECT_GT(weighted, 10);
  }
}

}  // namespace
}  // namespace capsim::workloads
