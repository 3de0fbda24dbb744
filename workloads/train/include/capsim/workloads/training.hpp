#pragma once
// Training configuration and the two entry points of `capsim-torch train` / `evaluate`, without
// LibTorch types so that the command line need not compile torch/torch.h. train.hpp has the
// LibTorch-level API (evaluate a GraphNet, load a trained model). docs/training.md explains every
// configuration key.
#include <cstdint>
#include <string>
#include <vector>

#include "capsim/common/yaml_view.hpp"
#include "capsim/workloads/data_spec.hpp"
#include "capsim/workloads/model_spec.hpp"

namespace capsim::workloads {

struct ScheduleConfig {
  std::string kind = "onecycle";  // "onecycle" or "cosine" (both per step, cosine-shaped)
  double warmup_epochs = 1.0;     // cosine: linear warm-up from ~0 to optimizer.lr
  double min_lr_fraction = 0.0;   // cosine: final lr as a fraction of optimizer.lr
  double pct_start = 0.25;        // onecycle: fraction of all steps spent rising
  double div_factor = 25.0;       // onecycle: starting lr = lr / div_factor
  double final_div_factor = 1e3;  // onecycle: final lr = lr / (div_factor * final_div_factor)
};

struct TrainConfig {
  std::string file;  // where the config came from (messages, summary)
  std::string model = "resnet18";
  ModelOptions options;  // variant and width; in_channels/classes come from the data
  DataSpec data;
  AugmentOptions augment;
  std::int64_t epochs = 10;
  std::int64_t batch_size = 128;
  std::int64_t eval_batch_size = 500;
  std::uint64_t seed = 1;      // weights, data order, augmentation, dropout
  std::int64_t threads = 2;    // LibTorch intra-op threads (results are bit-exact per count)
  bool channels_last = false;  // NHWC activations and conv weights (not faster here: measured)
  double lr = 0.1;             // peak learning rate
  double momentum = 0.9;
  bool nesterov = true;
  double weight_decay = 5e-4;  // on conv and linear weights only (not biases, not batch norm)
  double label_smoothing = 0.0;
  ScheduleConfig schedule;
  bool half_precision = true;    // store model.pt's conv/linear weights as float16
  std::int64_t limit_train = 0;  // command line only: train on the first N training images
  std::int64_t limit_test = 0;   // command line only: report on the first N test images
};

// Reads and validates a training config (unknown keys, types and ranges are InputErrors naming
// file, line and key). `overrides` are "--set key.path=value" assignments applied first.
TrainConfig load_train_config(const std::string& file, const std::vector<std::string>& overrides = {});
TrainConfig parse_train_config(const YamlDocument& doc);

// Every setting that changes the trained weights, one "key=value" per line in a fixed order.
// A checkpoint stores it; resuming with a different one is refused, naming the keys that differ.
std::string canonical_config(const TrainConfig& config);
std::string config_hash(const TrainConfig& config);  // 16 hex digits (FNV-1a 64 of the canonical text)

struct TrainRunOptions {
  std::string out_dir;
  std::int64_t stop_after_epoch = 0;  // > 0: stop once this epoch is finished (resume later)
  bool progress = true;               // progress lines on stderr
};

struct EpochRecord {
  std::int64_t epoch = 0;  // 1-based
  double train_loss = 0, train_accuracy = 0, val_accuracy = 0, lr = 0, seconds = 0;
};

struct TrainSummary {
  bool finished = false;  // false when stopped early by stop_after_epoch
  std::int64_t epochs_done = 0;
  std::int64_t resumed_from = 0;  // epochs already done when this run started
  double val_accuracy = 0, val_loss = 0;
  double test_accuracy = 0, test_loss = 0;  // only when finished
  std::int64_t test_images = 0;
  double seconds = 0;  // training seconds over all runs (excluding final evaluation)
  std::int64_t parameters = 0;
  std::vector<EpochRecord> log;
};

// Trains (or resumes training) into options.out_dir: checkpoint.pt every epoch, train_log.csv,
// and when finished model.pt and summary.json. See docs/training.md.
TrainSummary train(const TrainConfig& config, const TrainRunOptions& options);

struct EvalReport {
  std::string description;  // "resnet18 (cifar, width 0.5, epoch 12/12) on fashion-mnist test"
  std::int64_t images = 0;
  double accuracy = 0, loss = 0;
};

// Evaluates a checkpoint or model.pt on split "test" or "val" (first `limit` images when > 0).
// `data_dir` overrides the data location stored in the file.
EvalReport evaluate_file(const std::string& path, const std::string& split, std::int64_t limit,
                         std::int64_t batch_size, const std::string& data_dir = "");

}  // namespace capsim::workloads
