// Reading, validating and fingerprinting training configs (no LibTorch here: cheap to compile).
#include <fmt/format.h>

#include <algorithm>

#include "capsim/workloads/training.hpp"

namespace capsim::workloads {
namespace {

void parse_model(const YamlView& view, TrainConfig& config) {
  view.allow_keys({"name", "variant", "width"});
  config.model = view.choice("name", model_names());
  config.options.variant = view.choice_or("variant", variant_names(), "cifar");
  if (config.options.variant != "cifar")
    view.fail("variant", "'cifar' (training supports the cifar variant: small inputs, any channel count)");
  config.options.width = view.number_or("width", 1.0, kMinWidth, kMaxWidth);
}

void parse_data(const YamlView& view, TrainConfig& config) {
  view.allow_keys({"dataset", "dir", "val_per_class", "split_seed"});
  config.data.dataset = view.choice_or("dataset", dataset_names(), "fashion-mnist");
  config.data.dir = view.string_or("dir", "");
  config.data.val_per_class = view.integer_or("val_per_class", 500, 1, 4000);
  config.data.split_seed = static_cast<std::uint64_t>(view.integer_or("split_seed", 0, 0));
}

void parse_augment(const YamlView& view, TrainConfig& config) {
  view.allow_keys({"crop_padding", "horizontal_flip"});
  config.augment.crop_padding = view.integer_or("crop_padding", 2, 0, 16);
  config.augment.horizontal_flip = view.boolean_or("horizontal_flip", true);
}

void parse_train(const YamlView& view, TrainConfig& config) {
  view.allow_keys({"epochs", "batch_size", "eval_batch_size", "seed", "threads", "channels_last"});
  config.epochs = view.integer("epochs", 1, 10000);
  config.batch_size = view.integer_or("batch_size", 128, 1, 65536);
  config.eval_batch_size = view.integer_or("eval_batch_size", 500, 1, 65536);
  config.seed = static_cast<std::uint64_t>(view.integer_or("seed", 1, 0));
  config.threads = view.integer_or("threads", 2, 1, 256);
  config.channels_last = view.boolean_or("channels_last", false);
}

void parse_optimizer(const YamlView& view, TrainConfig& config) {
  view.allow_keys({"lr", "momentum", "nesterov", "weight_decay", "label_smoothing"});
  config.lr = view.number("lr", 1e-6, 10.0);
  config.momentum = view.number_or("momentum", 0.9, 0.0, 0.999);
  config.nesterov = view.boolean_or("nesterov", true);
  if (config.nesterov && config.momentum == 0.0)
    view.fail("momentum", "a momentum > 0 when nesterov is true");
  config.weight_decay = view.number_or("weight_decay", 5e-4, 0.0, 1.0);
  config.label_smoothing = view.number_or("label_smoothing", 0.0, 0.0, 0.5);
}

void parse_schedule(const YamlView& view, TrainConfig& config) {
  view.allow_keys(
      {"kind", "warmup_epochs", "min_lr_fraction", "pct_start", "div_factor", "final_div_factor"});
  ScheduleConfig& s = config.schedule;
  s.kind = view.choice_or("kind", {"cosine", "onecycle"}, "onecycle");
  s.warmup_epochs = view.number_or("warmup_epochs", 1.0, 0.0, 1000.0);
  if (s.kind == "cosine" && s.warmup_epochs >= static_cast<double>(config.epochs))
    view.fail("warmup_epochs",
              "fewer warm-up epochs than train.epochs (" + std::to_string(config.epochs) + ")");
  s.min_lr_fraction = view.number_or("min_lr_fraction", 0.0, 0.0, 1.0);
  s.pct_start = view.number_or("pct_start", 0.25, 0.01, 0.99);
  s.div_factor = view.number_or("div_factor", 25.0, 1.0, 1e6);
  s.final_div_factor = view.number_or("final_div_factor", 1e3, 1.0, 1e9);
}

void parse_output(const YamlView& view, TrainConfig& config) {
  view.allow_keys({"half_precision"});
  config.half_precision = view.boolean_or("half_precision", true);
}

std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) hash = (hash ^ c) * 0x100000001b3ULL;
  return hash;
}

}  // namespace

TrainConfig parse_train_config(const YamlDocument& doc) {
  const YamlView root = doc.root();
  root.allow_keys({"model", "data", "augment", "train", "optimizer", "schedule", "output"});
  TrainConfig config;
  config.file = doc.file();
  parse_model(root.child("model"), config);
  parse_train(root.child("train"), config);
  parse_optimizer(root.child("optimizer"), config);
  // Optional sections: an empty mapping gives the defaults.
  const YamlDocument empty = YamlDocument::parse("{}", doc.file());
  auto section = [&](const char* key) { return root.find(key).value_or(empty.root()); };
  parse_data(section("data"), config);
  parse_augment(section("augment"), config);
  parse_schedule(section("schedule"), config);
  parse_output(section("output"), config);
  return config;
}

TrainConfig load_train_config(const std::string& file, const std::vector<std::string>& overrides) {
  YamlDocument doc = YamlDocument::load_file(file);
  for (const auto& assignment : overrides) doc.apply_override(assignment);
  return parse_train_config(doc);
}

std::string canonical_config(const TrainConfig& c) {
  // data.dir, eval_batch_size, half_precision and limit_test do not change the trained weights.
  const ScheduleConfig& s = c.schedule;
  std::string text;
  auto line = [&](const char* key, const auto& value) { text += fmt::format("{}={}\n", key, value); };
  line("model.name", c.model);
  line("model.variant", c.options.variant);
  line("model.width", c.options.width);
  line("data.dataset", c.data.dataset);
  line("data.val_per_class", c.data.val_per_class);
  line("data.split_seed", c.data.split_seed);
  line("augment.crop_padding", c.augment.crop_padding);
  line("augment.horizontal_flip", c.augment.horizontal_flip);
  line("train.epochs", c.epochs);
  line("train.batch_size", c.batch_size);
  line("train.seed", c.seed);
  line("train.threads", c.threads);
  line("train.channels_last", c.channels_last);
  line("train.limit_train", c.limit_train);
  line("optimizer.lr", c.lr);
  line("optimizer.momentum", c.momentum);
  line("optimizer.nesterov", c.nesterov);
  line("optimizer.weight_decay", c.weight_decay);
  line("optimizer.label_smoothing", c.label_smoothing);
  line("schedule.kind", s.kind);
  if (s.kind == "cosine") {
    line("schedule.warmup_epochs", s.warmup_epochs);
    line("schedule.min_lr_fraction", s.min_lr_fraction);
  } else {
    line("schedule.pct_start", s.pct_start);
    line("schedule.div_factor", s.div_factor);
    line("schedule.final_div_factor", s.final_div_factor);
  }
  return text;
}

std::string config_hash(const TrainConfig& config) {
  return fmt::format("{:016x}", fnv1a(canonical_config(config)));
}

}  // namespace capsim::workloads
