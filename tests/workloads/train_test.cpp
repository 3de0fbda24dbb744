// capsim_train: config validation, deterministic and resumable training, model files, evaluation.
#include "capsim/workloads/train.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "capsim/common/error.hpp"
#include "checkpoint.hpp"  // white-box: craft mismatched model files
#include "input_error.hpp"
#include "run_command.hpp"

namespace capsim::workloads {
namespace {

namespace fs = std::filesystem;

using testing::error_of;

using TempDir = capsim::testing::TempDir;  // a fresh directory, removed with the object

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A network small enough to train in about a second: ResNet18 at width 1/8, 256 training images,
// a 200-image validation set. One thread: ctest runs suites in parallel, and two OpenMP threads per
// process on a loaded 2-core machine spin-wait for each other (10x slower).
const char* kTinyConfig = R"(model:
  name: resnet18
  width: 0.125
data:
  val_per_class: 20
train:
  epochs: 2
  batch_size: 64
  eval_batch_size: 200
  threads: 1
optimizer:
  lr: 0.05
  label_smoothing: 0.1
schedule:
  kind: cosine
  warmup_epochs: 0.5
output:
  half_precision: false
)";

TrainConfig tiny_config(const std::string& extra = "") {
  TrainConfig config = parse_train_config(YamlDocument::parse(kTinyConfig + extra, "tiny.yaml"));
  config.limit_train = 256;
  config.limit_test = 200;
  return config;
}

TrainRunOptions run_options(const fs::path& dir, std::int64_t stop_after = 0) {
  TrainRunOptions options;
  options.out_dir = dir.string();
  options.stop_after_epoch = stop_after;
  options.progress = false;
  return options;
}

// ---- configs --------------------------------------------------------------------------------

TEST(TrainConfig, ShippedConfigsAreValid) {
  for (const char* name : {"resnet18", "vgg16", "mobilenetv2"}) {
    const TrainConfig config = load_train_config(std::string("configs/train/") + name + ".yaml");
    EXPECT_EQ(config.model, name);
    EXPECT_EQ(config.options.variant, "cifar");
    EXPECT_EQ(config.data.dataset, "fashion-mnist");
    EXPECT_EQ(config.data.val_per_class, 500);
    EXPECT_EQ(config.batch_size, 128);
  }
}

TEST(TrainConfig, UnknownKeyNamesFileLineAndKey) {
  const std::string text = std::string(kTinyConfig) + "train2:\n  epochs: 3\n";
  std::string msg = error_of([&] { parse_train_config(YamlDocument::parse(text, "t.yaml")); });
  EXPECT_EQ(msg.rfind("t.yaml:19: key 'train2': ", 0), 0u) << msg;  // the line of the key itself
  std::string nested = kTinyConfig;
  nested.insert(nested.find("  batch_size"), "  epoch: 3\n");
  msg = error_of([&] { parse_train_config(YamlDocument::parse(nested, "t.yaml")); });
  EXPECT_EQ(msg.rfind("t.yaml:8: key 'train.epoch': ", 0), 0u) << msg;
  EXPECT_NE(msg.find("did you mean 'epochs'?"), std::string::npos) << msg;
}

TEST(TrainConfig, ZeroEpochsAndWrongTypesAreRejected) {
  const auto with = [](const std::string& from, const std::string& to) {
    std::string text = kTinyConfig;
    return text.replace(text.find(from), from.size(), to);
  };
  EXPECT_EQ(
      error_of([&] { parse_train_config(YamlDocument::parse(with("epochs: 2", "epochs: 0"), "t.yaml")); }),
      "t.yaml:7: key 'train.epochs': expected an integer in [1, 10000], got '0'");
  EXPECT_EQ(
      error_of([&] { parse_train_config(YamlDocument::parse(with("lr: 0.05", "lr: fast"), "t.yaml")); }),
      "t.yaml:12: key 'optimizer.lr': expected a number in [1e-06, 10], got 'fast'");
  EXPECT_EQ(
      error_of([&] { parse_train_config(YamlDocument::parse(with("resnet18", "resnet19"), "t.yaml")); }),
      "t.yaml:2: key 'model.name': expected one of 'mobilenetv2', 'resnet18' or 'vgg16', got 'resnet19'");
  const std::string msg =
      error_of([] { load_train_config("configs/train/resnet18.yaml", {"train.epochs=-1"}); });
  EXPECT_EQ(msg.rfind("--set train.epochs=-1: key 'train.epochs'", 0), 0u) << msg;
}

TEST(TrainConfig, FingerprintCoversWhatChangesTheWeights) {
  const TrainConfig base = tiny_config();
  TrainConfig other = base;
  other.eval_batch_size = 7;
  other.limit_test = 5;
  other.data.dir = "/elsewhere";
  EXPECT_EQ(config_hash(base), config_hash(other));
  other.epochs = 3;
  EXPECT_NE(config_hash(base), config_hash(other));
  other = base;
  other.seed = 2;
  EXPECT_NE(config_hash(base), config_hash(other));
}

// ---- training -------------------------------------------------------------------------------

TEST(Train, ResumedRunIsBitIdenticalAndRefusesChangedConfig) {
  const TrainConfig config = tiny_config();
  const TempDir straight_dir("straight"), resumed_dir("resumed");
  const fs::path straight = straight_dir.path(), resumed = resumed_dir.path();
  const TrainSummary full = train(config, run_options(straight));
  ASSERT_TRUE(full.finished);

  const TrainSummary first = train(config, run_options(resumed, 1));
  EXPECT_FALSE(first.finished);
  EXPECT_EQ(first.epochs_done, 1);
  EXPECT_TRUE(fs::exists(resumed / "checkpoint.pt"));
  EXPECT_FALSE(fs::exists(resumed / "model.pt"));

  TrainConfig changed = config;
  changed.lr = 0.06;
  const std::string msg = error_of([&] { train(changed, run_options(resumed)); });
  EXPECT_NE(msg.find("different training configuration (optimizer.lr: 0.05 in the checkpoint, 0.06 now)"),
            std::string::npos)
      << msg;

  const TrainSummary second = train(config, run_options(resumed));
  EXPECT_TRUE(second.finished);
  EXPECT_EQ(second.resumed_from, 1);
  EXPECT_EQ(slurp(straight / "model.pt"), slurp(resumed / "model.pt"));  // weights and metadata
  EXPECT_EQ(full.test_accuracy, second.test_accuracy);
  EXPECT_EQ(full.log.size(), 2u);
  EXPECT_EQ(full.log[1].val_accuracy, second.log[1].val_accuracy);

  // The log and summary are there; the log has one row per epoch.
  const std::string csv = slurp(resumed / "train_log.csv");
  EXPECT_EQ(csv.rfind("epoch,train_loss,train_acc,val_acc,lr,epoch_seconds\n1,", 0), 0u) << csv;
  EXPECT_NE(csv.find("\n2,"), std::string::npos);
  EXPECT_NE(slurp(resumed / "summary.json").find("\"test_accuracy\""), std::string::npos);
}

TEST(Train, ChannelsLastRunIsAlsoResumableBitIdentically) {
  TrainConfig config = tiny_config();
  config.channels_last = true;
  config.limit_train = 128;
  const TempDir straight("cl_straight"), resumed("cl_resumed");
  train(config, run_options(straight.path()));
  train(config, run_options(resumed.path(), 1));
  train(config, run_options(resumed.path()));
  EXPECT_EQ(slurp(straight / "model.pt"), slurp(resumed / "model.pt"));
}

TEST(Train, LossDecreasesOnATinySubset) {
  TrainConfig config = tiny_config();
  config.epochs = 4;
  config.augment.crop_padding = 0;
  config.augment.horizontal_flip = false;
  const TempDir dir("loss");
  const TrainSummary s = train(config, run_options(dir.path()));
  ASSERT_EQ(s.log.size(), 4u);
  EXPECT_LT(s.log[3].train_loss, s.log[0].train_loss - 0.2);
  EXPECT_GT(s.log[3].train_accuracy, s.log[0].train_accuracy);
}

// ---- model files and evaluation -------------------------------------------------------------

class TrainedTiny : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    owner_ = new TempDir("model");
    dir_ = new fs::path(owner_->path());
    TrainConfig config = tiny_config();
    config.epochs = 1;
    config.half_precision = true;
    train(config, run_options(*dir_));
  }
  static void TearDownTestSuite() {
    delete owner_;
    delete dir_;
  }
  static TempDir* owner_;
  static const fs::path* dir_;
};
TempDir* TrainedTiny::owner_ = nullptr;
const fs::path* TrainedTiny::dir_ = nullptr;

TEST_F(TrainedTiny, LoadsModelWithMetadataAndEvaluatesWithHook) {
  LoadedModel loaded = load_trained_model(dir_->string());  // a directory means DIR/model.pt
  EXPECT_EQ(loaded.meta.kind, "model");
  EXPECT_EQ(loaded.meta.model, "resnet18");
  EXPECT_EQ(loaded.meta.options.width, 0.125);
  EXPECT_EQ(loaded.meta.options.in_channels, 1);
  EXPECT_EQ(loaded.meta.precision, "float16");
  EXPECT_EQ(loaded.meta.epoch, 1);
  EXPECT_FALSE(loaded.net->is_training());

  const Dataset data = load_model_dataset(loaded.meta);
  EXPECT_EQ(data.val.size(), 200);
  const LabeledTensors val = normalized(data.val, loaded.meta.norm);
  const EvalResult plain = evaluate(loaded.net, val.inputs, val.labels, 64);
  EXPECT_EQ(plain.images, 200);
  EXPECT_GT(plain.loss, 0.0);
  int calls = 0;
  const EvalResult hooked =
      evaluate(loaded.net, val.inputs, val.labels, 64, [&](int, const torch::Tensor& out) {
        ++calls;
        return out;
      });
  EXPECT_EQ(hooked.accuracy, plain.accuracy);
  EXPECT_EQ(calls, 4 * loaded.net->num_nodes());  // 200 images in batches of 64
  // A hook that zeroes every output changes the result.
  const EvalResult zeroed = evaluate(loaded.net, val.inputs, val.labels, 64,
                                     [](int, const torch::Tensor& out) { return torch::zeros_like(out); });
  EXPECT_NEAR(zeroed.loss, std::log(10.0), 1e-4);

  // The checkpoint holds float32 weights close to the float16 ones.
  LoadedModel checkpoint = load_trained_model((*dir_ / "checkpoint.pt").string());
  EXPECT_EQ(checkpoint.meta.kind, "checkpoint");
  EXPECT_NEAR(evaluate(checkpoint.net, val.inputs, val.labels).loss, plain.loss, 1e-2);
}

TEST_F(TrainedTiny, TruncatedCorruptAndMismatchedFilesAreInputErrors) {
  const std::string bytes = slurp(*dir_ / "model.pt");
  const TempDir bad_dir("bad");
  const fs::path bad = bad_dir.path();
  write_bytes(bad / "truncated.pt", bytes.substr(0, bytes.size() / 2));
  EXPECT_NE(error_of([&] {
              load_trained_model((bad / "truncated.pt").string());
            }).find((bad / "truncated.pt").string() + ": not a readable capsim model or checkpoint"),
            std::string::npos);
  std::string flipped = bytes;
  flipped[flipped.size() / 2] ^= 0x40;
  write_bytes(bad / "corrupt.pt", flipped);
  EXPECT_NE(error_of([&] { load_trained_model((bad / "corrupt.pt").string()); }).find("corrupt"),
            std::string::npos);
  EXPECT_NE(error_of([&] { load_trained_model((bad / "missing.pt").string()); }).find("cannot open file"),
            std::string::npos);

  // Weights of width 1/8 under metadata claiming width 1/4.
  LoadedModel loaded = load_trained_model(dir_->string());
  ModelMeta wider = loaded.meta;
  wider.options.width = 0.25;
  detail::write_model((bad / "mismatched.pt").string(), wider, loaded.net, false);
  const std::string msg = error_of([&] { load_trained_model((bad / "mismatched.pt").string()); });
  EXPECT_NE(msg.find("but resnet18 (cifar, width 0.25) expects"), std::string::npos) << msg;
}

}  // namespace
}  // namespace capsim::workloads
