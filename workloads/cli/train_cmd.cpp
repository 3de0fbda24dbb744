// `capsim-torch train` and `capsim-torch evaluate` (docs/training.md). Only training.hpp here, so
// this file compiles without torch/torch.h.
#include <cstdint>
#include <cstdio>
#include <memory>

#include "capsim/workloads/training.hpp"
#include "command_registry.hpp"

namespace capsim::workloads::cli {
namespace {

struct TrainArgs {
  std::string config, out;
  std::int64_t epochs = 0, limit_train = 0, limit_test = 0, stop_after = 0;
  std::int64_t seed = -1;
  std::vector<std::string> overrides;
  bool quiet = false;
};

void run_train(const TrainArgs& args) {
  TrainConfig config = load_train_config(args.config, args.overrides);
  // Command-line values take precedence over the file; they are part of the config fingerprint.
  if (args.epochs > 0) config.epochs = args.epochs;
  if (args.seed >= 0) config.seed = static_cast<std::uint64_t>(args.seed);
  config.limit_train = args.limit_train;
  config.limit_test = args.limit_test;
  TrainRunOptions options;
  options.out_dir = args.out;
  options.stop_after_epoch = args.stop_after;
  options.progress = !args.quiet;
  const TrainSummary s = train(config, options);
  if (!s.finished) {
    std::printf("stopped after epoch %lld of %lld; rerun the same command to continue\n",
                static_cast<long long>(s.epochs_done), static_cast<long long>(config.epochs));
    return;
  }
  std::printf(
      "%s: %lld epochs, %.0f s; val accuracy %.2f%%, test accuracy %.2f%% (%lld images); %s/model.pt\n",
      config.model.c_str(), static_cast<long long>(s.epochs_done), s.seconds, 100 * s.val_accuracy,
      100 * s.test_accuracy, static_cast<long long>(s.test_images), args.out.c_str());
}

void add_train(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  auto* cmd = app.add_subcommand("train", "Train a model of the zoo (resumes from DIR/checkpoint.pt)");
  cmd->add_option("--config", args->config, "Training config (configs/train/<model>.yaml)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", args->out,
                  "Output directory: checkpoint.pt, train_log.csv, model.pt, summary.json")
      ->required();
  // Explicit ranges: CLI11's PositiveNumber prints DBL_MAX as its upper bound.
  const CLI::Range count(std::int64_t{1}, std::int64_t{1000000000});
  cmd->add_option("--epochs", args->epochs, "Override train.epochs")->check(CLI::Range(1, 10000));
  cmd->add_option("--seed", args->seed, "Override train.seed")->check(CLI::Range(std::int64_t{0}, INT64_MAX));
  cmd->add_option("--limit-train", args->limit_train, "Train on the first N training images")->check(count);
  cmd->add_option("--limit-test", args->limit_test, "Report test accuracy on the first N test images")
      ->check(count);
  cmd->add_option("--stop-after", args->stop_after,
                  "Stop once epoch N is finished (rerun without it to continue)")
      ->check(count);
  cmd->add_option("--set", args->overrides, "Override a config value: KEY.PATH=VALUE (repeatable)");
  cmd->add_flag("--quiet", args->quiet, "No progress on stderr");
  cmd->callback([args] { run_train(*args); });
}

struct EvaluateArgs {
  std::string checkpoint, split = "test", data_dir;
  std::int64_t limit = 0, batch = 500;
};

void add_evaluate(CLI::App& app) {
  auto args = std::make_shared<EvaluateArgs>();
  auto* cmd = app.add_subcommand("evaluate", "Accuracy and loss of a trained model or checkpoint");
  cmd->add_option("--checkpoint", args->checkpoint, "model.pt, checkpoint.pt, or a training directory")
      ->required();
  cmd->add_option("--split", args->split, "Data to evaluate on: test or val")
      ->check(CLI::IsMember({"test", "val"}));
  const CLI::Range count(std::int64_t{1}, std::int64_t{1000000000});
  cmd->add_option("--limit", args->limit, "Only the first N images of the split")->check(count);
  cmd->add_option("--batch", args->batch, "Batch size")->check(count);
  cmd->add_option("--data-dir", args->data_dir, "Data set folder (default: the one used in training)");
  cmd->callback([args] {
    const EvalReport r =
        evaluate_file(args->checkpoint, args->split, args->limit, args->batch, args->data_dir);
    std::printf("%s: %lld images, accuracy %.2f%%, loss %.4f\n", r.description.c_str(),
                static_cast<long long>(r.images), 100 * r.accuracy, r.loss);
  });
}

void add_train_commands(CLI::App& app) {
  add_train(app);
  add_evaluate(app);
}

}  // namespace

CAPSIM_REGISTER_COMMAND("train", add_train_commands);

}  // namespace capsim::workloads::cli
