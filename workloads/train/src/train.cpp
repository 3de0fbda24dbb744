// Training loop, evaluation and the training directory (checkpoint.pt, train_log.csv, model.pt,
// summary.json). Determinism: every random draw comes from Rng (data order, augmentation) or from
// LibTorch's seeded CPU generator (initial weights, dropout), both saved in checkpoints; with a
// fixed thread count LibTorch's CPU kernels are deterministic, so a resumed run is bit-identical.
#include "capsim/workloads/train.hpp"

#include <fmt/format.h>
#include <malloc.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "capsim/common/atomic_file.hpp"
#include "capsim/common/error.hpp"
#include "checkpoint.hpp"

namespace capsim::workloads {
namespace {

namespace fs = std::filesystem;
using detail::TensorMap;
using detail::TrainState;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string duration_text(double seconds) {
  const auto s = static_cast<long>(std::max(0.0, seconds) + 0.5);
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
                   : fmt::format("{}:{:02}", s / 60, s % 60);
}

// ---- optimizer ------------------------------------------------------------------------------

// SGD with momentum (PyTorch's update rule, dampening 0) and weight decay on conv and linear
// weights only. Our own rather than torch::optim::SGD so that momentum buffers are saved and
// restored by parameter name.
class Sgd {
 public:
  Sgd(GraphNet& net, const TrainConfig& config)
      : momentum_(config.momentum), nesterov_(config.nesterov), weight_decay_(config.weight_decay) {
    for (const auto& item : net->named_parameters(true))
      params_.push_back({item.key(), item.value(), item.value().dim() > 1, {}});
  }

  void step(double lr) {
    torch::NoGradGuard no_grad;
    for (auto& p : params_) {
      torch::Tensor grad = p.param.grad();
      if (!grad.defined()) continue;
      if (p.decay && weight_decay_ > 0) grad = grad.add(p.param, weight_decay_);
      if (momentum_ > 0) {
        if (!p.buffer.defined())
          p.buffer = grad.clone();
        else
          p.buffer.mul_(momentum_).add_(grad);
        grad = nesterov_ ? grad.add(p.buffer, momentum_) : p.buffer;
      }
      p.param.add_(grad, -lr);
    }
  }

  TensorMap momentum() const {
    TensorMap buffers;
    for (const auto& p : params_)
      if (p.buffer.defined()) buffers[p.name] = p.buffer;
    return buffers;
  }

  void set_momentum(const TensorMap& buffers, const std::string& file) {
    for (auto& p : params_) {
      auto it = buffers.find(p.name);
      if (it == buffers.end()) continue;  // a parameter that never had a gradient
      if (it->second.sizes() != p.param.sizes())
        throw InputError({file, 0}, "momentum of '" + p.name + "' does not match the parameter's shape");
      p.buffer = torch::empty_like(p.param).copy_(it->second);  // in the parameter's memory format
    }
  }

 private:
  struct Param {
    std::string name;
    torch::Tensor param;
    bool decay;
    torch::Tensor buffer;
  };
  std::vector<Param> params_;
  double momentum_;
  bool nesterov_;
  double weight_decay_;
};

// ---- learning-rate schedule -----------------------------------------------------------------

// Learning rate of step `step` (0-based) of `total` steps; both schedules are per step.
double learning_rate(const TrainConfig& config, std::int64_t step, std::int64_t total,
                     std::int64_t per_epoch) {
  const ScheduleConfig& s = config.schedule;
  const double pi = std::acos(-1.0);
  auto cosine = [&](double from, double to, double fraction) {
    return to + (from - to) * 0.5 * (1.0 + std::cos(pi * std::clamp(fraction, 0.0, 1.0)));
  };
  if (s.kind == "cosine") {
    const double warmup = s.warmup_epochs * static_cast<double>(per_epoch);
    if (step < warmup) return config.lr * (static_cast<double>(step) + 1.0) / warmup;
    return cosine(config.lr, config.lr * s.min_lr_fraction, (step - warmup) / std::max(1.0, total - warmup));
  }
  // One-cycle (Smith 2018, as torch.optim.lr_scheduler.OneCycleLR with cosine annealing).
  const double start = config.lr / s.div_factor, end = start / s.final_div_factor;
  const double rise = std::max(1.0, s.pct_start * static_cast<double>(total) - 1.0);
  if (step <= rise) return cosine(start, config.lr, step / rise);
  return cosine(config.lr, end, (step - rise) / std::max(1.0, total - 1.0 - rise));
}

// ---- progress on stderr ---------------------------------------------------------------------

class Progress {
 public:
  Progress(bool enabled, std::int64_t epochs)
      : enabled_(enabled), tty_(isatty(fileno(stderr))), epochs_(epochs) {}

  void start_epoch(std::int64_t epoch) {
    epoch_ = epoch;
    epoch_start_ = last_print_ = Clock::now();
  }

  void batch(std::int64_t step, std::int64_t steps, std::int64_t images, double loss, double accuracy) {
    if (!enabled_) return;
    const double elapsed = seconds_since(epoch_start_);
    const bool last = step == steps;
    if (!last && seconds_since(last_print_) < (tty_ ? 0.5 : 30.0)) return;
    last_print_ = Clock::now();
    const double rate = images / std::max(elapsed, 1e-9);
    const double epoch_eta = elapsed / step * (steps - step);
    const double epoch_total = epoch_seconds_ > 0 ? epoch_seconds_ : elapsed / step * steps;
    const double run_eta = epoch_eta + epoch_total * static_cast<double>(epochs_ - epoch_);
    std::fprintf(
        stderr,
        "%sepoch %lld/%lld  batch %lld/%lld  loss %.4f  acc %.2f%%  %.0f img/s  ETA epoch %s, run %s%s",
        tty_ ? "\r" : "", static_cast<long long>(epoch_), static_cast<long long>(epochs_),
        static_cast<long long>(step), static_cast<long long>(steps), loss, 100 * accuracy, rate,
        duration_text(epoch_eta).c_str(), duration_text(run_eta).c_str(), tty_ ? "\033[K" : "\n");
    std::fflush(stderr);
  }

  void end_epoch(const EpochRecord& r) {
    epoch_seconds_ = r.seconds;
    if (!enabled_) return;
    std::fprintf(stderr, "%sepoch %lld/%lld: train loss %.4f acc %.2f%%, val acc %.2f%%, lr %.4g, %.1f s%s\n",
                 tty_ ? "\r" : "", static_cast<long long>(r.epoch), static_cast<long long>(epochs_),
                 r.train_loss, 100 * r.train_accuracy, 100 * r.val_accuracy, r.lr, r.seconds,
                 tty_ ? "\033[K" : "");
  }

  void note(const std::string& text) {
    if (enabled_) std::fprintf(stderr, "%s\n", text.c_str());
  }

 private:
  bool enabled_, tty_;
  std::int64_t epochs_, epoch_ = 0;
  double epoch_seconds_ = 0;
  Clock::time_point epoch_start_, last_print_;
};

// ---- memory format --------------------------------------------------------------------------

// NHWC ("channels last") tensors: faster for single convs in micro-benchmarks, not for whole networks
// on the project machine (docs/training.md), hence off by default.
void use_channels_last(GraphNet& net) {
  torch::NoGradGuard no_grad;
  for (auto& p : net->parameters())
    if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
}

torch::Tensor in_format(const torch::Tensor& x, bool channels_last) {
  return channels_last ? x.contiguous(torch::MemoryFormat::ChannelsLast) : x;
}

// ---- one epoch ------------------------------------------------------------------------------

struct EpochTotals {
  double loss = 0, accuracy = 0, last_lr = 0;
};

EpochTotals run_epoch(GraphNet& net, Sgd& sgd, const Dataset& data, const TrainConfig& config,
                      std::int64_t epoch, Rng& rng, Progress& progress) {
  const std::int64_t n = data.train.size();
  const std::int64_t batch = std::min(config.batch_size, n);
  const std::int64_t steps = n / batch;  // the incomplete last batch is dropped (a new one each epoch)
  const auto order = torch::tensor(permutation(n, rng), torch::kInt64);
  const auto loss_options =
      torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(config.label_smoothing);
  net->train();
  double loss_sum = 0, correct = 0, lr = 0;
  for (std::int64_t step = 0; step < steps; ++step) {
    const auto index = order.narrow(0, step * batch, batch);
    const auto images = augment(data.train.images.index_select(0, index), config.augment, rng);
    const auto labels = data.train.labels.index_select(0, index);
    lr = learning_rate(config, epoch * steps + step, config.epochs * steps, steps);
    const auto logits = net->forward(in_format(normalize(images, data.norm), config.channels_last));
    const auto loss = torch::nn::functional::cross_entropy(logits, labels, loss_options);
    net->zero_grad();
    loss.backward();
    sgd.step(lr);
    loss_sum += loss.item<double>() * static_cast<double>(batch);
    correct += logits.argmax(1).eq(labels).sum().item<double>();
    const double seen = static_cast<double>((step + 1) * batch);
    progress.batch(step + 1, steps, (step + 1) * batch, loss_sum / seen, correct / seen);
  }
  const double seen = static_cast<double>(steps * batch);
  return {loss_sum / seen, correct / seen, lr};
}

// ---- the training directory -----------------------------------------------------------------

ModelMeta initial_meta(const TrainConfig& config, const Dataset& data) {
  ModelMeta meta;
  meta.kind = "checkpoint";
  meta.model = config.model;
  meta.options = config.options;
  meta.options.in_channels = data.channels();
  meta.options.classes = data.classes;
  meta.data = config.data;
  meta.norm = data.norm;
  meta.epochs = config.epochs;
  meta.config_hash = config_hash(config);
  meta.config = canonical_config(config);
  meta.precision = "float32";
  return meta;
}

// "train.epochs: 10 in the checkpoint, 12 now; ..." for the lines of two canonical configs.
std::string config_difference(const std::string& stored, const std::string& current) {
  auto parse = [](const std::string& text) {
    std::map<std::string, std::string> values;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      const auto eq = line.find('=');
      if (eq != std::string::npos) values[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return values;
  };
  const auto before = parse(stored), now = parse(current);
  std::string diff;
  auto add = [&](const std::string& key, const std::string& a, const std::string& b) {
    diff += (diff.empty() ? "" : "; ") + key + ": " + a + " in the checkpoint, " + b + " now";
  };
  for (const auto& [key, value] : before) {
    auto it = now.find(key);
    if (it == now.end())
      add(key, value, "unset");
    else if (it->second != value)
      add(key, value, it->second);
  }
  for (const auto& [key, value] : now)
    if (!before.count(key)) add(key, "unset", value);
  return diff.empty() ? "settings differ" : diff;
}

void remove_stale_temporaries(const fs::path& dir) {
  // write_file_atomic leaves NAME.tmp.PID behind when a run is killed while writing.
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.find(".tmp.") != std::string::npos &&
        (name.rfind("checkpoint.pt", 0) == 0 || name.rfind("model.pt", 0) == 0 ||
         name.rfind("train_log.csv", 0) == 0 || name.rfind("summary.json", 0) == 0)) {
      std::error_code ignored;
      fs::remove(entry.path(), ignored);
    }
  }
}

// Restores a previous run's state from `path`; refuses a checkpoint of another configuration.
void resume(const std::string& path, const ModelMeta& meta, GraphNet& net, Sgd& sgd, TrainState& state) {
  detail::StoredModel stored = detail::read_stored_model(path);
  if (stored.meta.kind != "checkpoint")
    throw InputError({path, 0}, "is a final model file, not a resumable checkpoint");
  if (stored.meta.config_hash != meta.config_hash)
    throw InputError({path, 0}, "was written by a different training configuration (" +
                                    config_difference(stored.meta.config, meta.config) +
                                    "): rerun with the original settings, or use another --out directory");
  detail::load_weights(net, stored.weights, path);
  sgd.set_momentum(stored.state.momentum, path);
  state = stored.state;
  try {
    auto generator = at::detail::getDefaultCPUGenerator();
    generator.set_state(state.torch_rng);
  } catch (const c10::Error&) {
    throw InputError({path, 0}, "holds an unusable random generator state");
  }
}

void write_log(const fs::path& dir, const std::vector<EpochRecord>& log) {
  std::string csv = "epoch,train_loss,train_acc,val_acc,lr,epoch_seconds\n";
  for (const auto& r : log)
    csv += fmt::format("{},{:.6f},{:.6f},{:.6f},{:.6g},{:.2f}\n", r.epoch, r.train_loss, r.train_accuracy,
                       r.val_accuracy, r.lr, r.seconds);
  write_file_atomic((dir / "train_log.csv").string(), csv);
}

void write_summary(const fs::path& dir, const TrainConfig& config, const ModelMeta& meta,
                   const TrainSummary& s) {
  const nlohmann::json j = {{"model", meta.model},
                            {"variant", meta.options.variant},
                            {"width", meta.options.width},
                            {"in_channels", meta.options.in_channels},
                            {"classes", meta.options.classes},
                            {"dataset", meta.data.dataset},
                            {"config", config.file},
                            {"config_hash", meta.config_hash},
                            {"epochs", s.epochs_done},
                            {"val_accuracy", s.val_accuracy},
                            {"val_loss", s.val_loss},
                            {"test_accuracy", s.test_accuracy},
                            {"test_loss", s.test_loss},
                            {"test_images", s.test_images},
                            {"train_seconds", s.seconds},
                            {"parameters", s.parameters},
                            {"model_file", "model.pt"},
                            {"model_precision", config.half_precision ? "float16" : "float32"},
                            {"model_bytes", static_cast<std::int64_t>(fs::file_size(dir / "model.pt"))}};
  write_file_atomic((dir / "summary.json").string(), j.dump(2) + "\n");
}

}  // namespace

// ---- public API -----------------------------------------------------------------------------

void tune_malloc_for_training() {
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, INT_MAX);
}

EvalResult evaluate(GraphNet& model, const torch::Tensor& inputs, const torch::Tensor& labels,
                    std::int64_t batch_size, const OutputHook& hook) {
  const bool was_training = model->is_training();
  model->eval();
  torch::NoGradGuard no_grad;
  EvalResult result;
  const std::int64_t n = inputs.size(0);
  double loss_sum = 0, correct = 0;
  const auto sum = torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum);
  for (std::int64_t start = 0; start < n; start += batch_size) {
    const std::int64_t count = std::min(batch_size, n - start);
    const auto x = inputs.narrow(0, start, count);
    const auto y = labels.narrow(0, start, count);
    const auto logits = hook ? model->forward(x, hook) : model->forward(x);
    loss_sum += torch::nn::functional::cross_entropy(logits, y, sum).item<double>();
    const auto right = logits.argmax(1).eq(y).to(torch::kUInt8).contiguous();
    correct += right.sum().item<double>();
    result.correct.insert(result.correct.end(), right.data_ptr<std::uint8_t>(),
                          right.data_ptr<std::uint8_t>() + count);
  }
  model->train(was_training);
  result.images = n;
  if (n > 0) {
    result.accuracy = correct / static_cast<double>(n);
    result.loss = loss_sum / static_cast<double>(n);
  }
  return result;
}

LoadedModel load_trained_model(const std::string& path) {
  detail::StoredModel stored = detail::read_stored_model(path);
  const std::string file = fs::is_directory(path) ? (fs::path(path) / "model.pt").string() : path;
  // Building the network draws initial weights from LibTorch's global generator; keep the
  // caller's random stream unchanged.
  auto generator = at::detail::getDefaultCPUGenerator();
  const torch::Tensor saved_rng = generator.get_state();
  LoadedModel loaded;
  try {
    loaded.net = make_model(stored.meta.model, stored.meta.options);
  } catch (const InputError& e) {
    generator.set_state(saved_rng);
    throw InputError({file, 0},
                     std::string("metadata describes a network this build cannot make: ") + e.what());
  }
  generator.set_state(saved_rng);
  detail::load_weights(loaded.net, stored.weights, file);
  loaded.net->eval();
  loaded.meta = stored.meta;
  return loaded;
}

Dataset load_model_dataset(const ModelMeta& meta, const std::string& data_dir) {
  DataSpec spec = meta.data;
  if (!data_dir.empty()) spec.dir = data_dir;
  Dataset data = load_dataset(spec);
  if (data.channels() != meta.options.in_channels || data.classes != meta.options.classes)
    throw InputError(
        {spec.dataset, 0},
        fmt::format("has {} channels and {} classes, but the model was trained "
                    "for {} and {}",
                    data.channels(), data.classes, meta.options.in_channels, meta.options.classes));
  return data;
}

TrainSummary train(const TrainConfig& config, const TrainRunOptions& options) {
  tune_malloc_for_training();
  torch::set_num_threads(static_cast<int>(config.threads));
  const fs::path dir(options.out_dir);
  try {
    fs::create_directories(dir);
    remove_stale_temporaries(dir);
  } catch (const fs::filesystem_error& e) {
    throw InputError({"--out " + options.out_dir, 0},
                     std::string("cannot use the output directory: ") + e.what());
  }
  const std::string checkpoint = (dir / "checkpoint.pt").string();

  Dataset data = load_dataset(config.data);
  if (config.limit_train > 0) data.train = data.train.head(config.limit_train);
  ModelMeta meta = initial_meta(config, data);

  torch::manual_seed(config.seed);
  GraphNet net = make_model(config.model, meta.options);
  if (config.channels_last) use_channels_last(net);
  Sgd sgd(net, config);
  TrainState state;
  state.data_rng = config.seed ^ 0x243f6a8885a308d3ULL;  // a stream apart from the weight initialisation
  state.torch_rng = at::detail::getDefaultCPUGenerator().get_state();

  Progress progress(options.progress, config.epochs);
  TrainSummary summary;
  if (fs::exists(checkpoint)) {
    resume(checkpoint, meta, net, sgd, state);
    summary.resumed_from = state.epoch;
    progress.note(fmt::format("resuming {} after epoch {} of {}", checkpoint, state.epoch, config.epochs));
  }
  progress.note(fmt::format("{} (cifar, width {}): {} parameters; {}: {} training, {} validation images",
                            config.model, config.options.width, net->parameter_count(), data.name,
                            data.train.size(), data.val.size()));

  LabeledTensors val = normalized(data.val, data.norm);
  val.inputs = in_format(val.inputs, config.channels_last);
  Rng rng(state.data_rng);
  while (state.epoch < config.epochs) {
    if (options.stop_after_epoch > 0 && state.epoch >= options.stop_after_epoch) break;
    const auto start = Clock::now();
    progress.start_epoch(state.epoch + 1);
    const EpochTotals totals = run_epoch(net, sgd, data, config, state.epoch, rng, progress);
    const EvalResult v = evaluate(net, val.inputs, val.labels, config.eval_batch_size);
    const EpochRecord record{state.epoch + 1, totals.loss,    totals.accuracy,
                             v.accuracy,      totals.last_lr, seconds_since(start)};
    progress.end_epoch(record);
    state.epoch += 1;
    state.seconds += record.seconds;
    state.log.push_back(record);
    state.data_rng = rng.state();
    state.torch_rng = at::detail::getDefaultCPUGenerator().get_state();
    state.momentum = sgd.momentum();
    meta.epoch = state.epoch;
    detail::write_checkpoint(checkpoint, meta, net, state);
    write_log(dir, state.log);
  }

  summary.epochs_done = state.epoch;
  summary.seconds = state.seconds;
  summary.parameters = net->parameter_count();
  summary.log = state.log;
  summary.finished = state.epoch >= config.epochs;
  if (!summary.finished) return summary;

  const EvalResult v = evaluate(net, val.inputs, val.labels, config.eval_batch_size);
  LabeledTensors test = normalized(data.test, data.norm, config.limit_test);
  test.inputs = in_format(test.inputs, config.channels_last);
  const EvalResult t = evaluate(net, test.inputs, test.labels, config.eval_batch_size);
  summary.val_accuracy = v.accuracy;
  summary.val_loss = v.loss;
  summary.test_accuracy = t.accuracy;
  summary.test_loss = t.loss;
  summary.test_images = t.images;
  detail::write_model((dir / "model.pt").string(), meta, net, config.half_precision);
  write_summary(dir, config, meta, summary);
  progress.note(fmt::format("done: val acc {:.2f}%, test acc {:.2f}% ({} images), {} training; wrote {}",
                            100 * v.accuracy, 100 * t.accuracy, t.images, duration_text(state.seconds),
                            (dir / "model.pt").string()));
  return summary;
}

EvalReport evaluate_file(const std::string& path, const std::string& split, std::int64_t limit,
                         std::int64_t batch_size, const std::string& data_dir) {
  tune_malloc_for_training();
  torch::set_num_threads(2);
  LoadedModel loaded = load_trained_model(path);
  const Dataset data = load_model_dataset(loaded.meta, data_dir);
  const LabeledTensors set = normalized(split == "val" ? data.val : data.test, loaded.meta.norm, limit);
  const EvalResult r = evaluate(loaded.net, set.inputs, set.labels, batch_size);
  const ModelMeta& m = loaded.meta;
  EvalReport report;
  report.description = fmt::format("{} ({}, width {}, epoch {}/{}, {}) on {} {}", m.model, m.options.variant,
                                   m.options.width, m.epoch, m.epochs, m.precision, m.data.dataset, split);
  report.images = r.images;
  report.accuracy = r.accuracy;
  report.loss = r.loss;
  return report;
}

}  // namespace capsim::workloads
