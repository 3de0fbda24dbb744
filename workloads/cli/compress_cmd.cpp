// The compression pipeline's commands (docs/compression.md): calibrate, plan, finetune, study,
// table, fold-check.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "capsim/common/atomic_file.hpp"
#include "capsim/common/error.hpp"
#include "capsim/trace/plan.hpp"
#include "capsim/workloads/fold.hpp"
#include "capsim/workloads/greedy.hpp"
#include "capsim/workloads/hardware_cost.hpp"
#include "capsim/workloads/study.hpp"
#include "capsim/workloads/train.hpp"
#include "command_registry.hpp"

namespace capsim::workloads::cli {
namespace {

namespace fs = std::filesystem;

// The trained model with its data, normalised.
struct Context {
  LoadedModel model;
  LabeledTensors val, greedy, test, train;
  Dataset data;
};

Context load_context(const std::string& model_path, std::int64_t limit_test = 0) {
  torch::set_num_threads(2);
  tune_malloc_for_training();
  Context c;
  c.model = load_trained_model(model_path);
  c.data = load_model_dataset(c.model.meta);
  // The study's default validation slice (docs/compression.md): images neither calibration nor
  // greedy decisions use.
  const ValidationSplit split = split_validation(c.data, 100, 100, 200, 1);
  c.val = normalized(split.val, c.data.norm);
  c.greedy = normalized(split.greedy, c.data.norm);  // held out for greedy decisions and early stopping
  c.test = normalized(c.data.test, c.data.norm, limit_test);
  return c;
}

QuantSettings quant_from(int bits, int baseline_bits) {
  QuantSettings q;
  q.coefficient_bits = bits;
  q.baseline_bits = baseline_bits;
  return q;
}

// ---- calibrate ----------------------------------------------------------------------------------

struct CalibrateArgs {
  std::string model, out;
  std::int64_t per_class = 100;
};

void run_calibrate(const CalibrateArgs& a) {
  Context c = load_context(a.model);
  const LabeledTensors images =
      normalized(split_validation(c.data, a.per_class, 0, 0, 1).calibration, c.data.norm);
  const Calibration cal = calibrate(c.model.net, images.inputs);
  fs::create_directories(a.out);
  save_calibration(cal, a.out + "/calibration.pt");
  write_file_atomic(a.out + "/explained_variance.csv", explained_variance_csv(cal));
  std::printf("%zu compression points calibrated on %lld images: %s/calibration.pt, explained_variance.csv\n",
              cal.points.size(), static_cast<long long>(cal.images), a.out.c_str());
  for (std::size_t p = 0; p < cal.points.size(); ++p)
    std::printf("  %-28s C=%-5lld k(99%%)=%-5lld k(99.9%%)=%lld\n", cal.points[p].name.c_str(),
                static_cast<long long>(cal.points[p].channels),
                static_cast<long long>(cal.k_for_variance(p, 0.99)),
                static_cast<long long>(cal.k_for_variance(p, 0.999)));
}

void add_calibrate(CLI::App& app) {
  auto a = std::make_shared<CalibrateArgs>();
  auto* cmd =
      app.add_subcommand("calibrate", "PCA calibration of every compression point of a trained model");
  cmd->add_option("--model", a->model, "trained model: a training directory, model.pt or checkpoint.pt")
      ->required();
  cmd->add_option("--out", a->out, "directory for calibration.pt and explained_variance.csv")->required();
  cmd->add_option("--images-per-class", a->per_class,
                  "class-balanced calibration images from the validation set")
      ->check(CLI::PositiveNumber);
  cmd->callback([a] { run_calibrate(*a); });
}

// ---- plan ----------------------------------------------------------------------------------------

struct PlanArgs {
  std::string model, calibration, method, out;
  double value = 0;
  int bits = 8;
  std::int64_t per_class = 100;
  std::string objective = "bits";      // greedy's denominator: bits, dram_bytes or energy
  std::string arch;                    // hardware objectives: the architecture...
  std::vector<std::string> overrides;  // ...its --set overrides...
  std::string input = "3x224x224";     // ...and the deployment input (imagenet variant)
  std::vector<int> mixed_bits;         // greedy: mixed precision bit widths (empty: k only)
  double max_drop = 1.0;               // greedy: stop beyond this validation accuracy drop
};

trace::Shape parse_input_shape(const std::string& text) {
  trace::Shape s;
  char x1 = 0, x2 = 0;
  std::istringstream in(text);
  if (!(in >> s.c >> x1 >> s.h >> x2 >> s.w) || x1 != 'x' || x2 != 'x' || !in.eof() || s.c < 1 || s.h < 1 ||
      s.w < 1)
    throw InputError({"command line", 0}, "--input", "CxHxW with positive sizes, e.g. 3x224x224", text);
  return s;
}

// The hardware cost of a plan at the deployment shape (imagenet variant of the trained model).
std::optional<HardwarePlanCost> hardware_cost_for(const PlanArgs& a, const Context& c, const Calibration& cal,
                                                  const QuantSettings& q) {
  const sim::CostObjective objective = sim::parse_cost_objective(a.objective);
  if (objective == sim::CostObjective::Bits) return std::nullopt;
  if (a.arch.empty())
    throw InputError({"command line", 0}, "--arch", "an architecture file for --objective " + a.objective,
                     "nothing");
  const trace::Shape input = parse_input_shape(a.input);
  const ModelOptions imagenet{"imagenet", input.c, 1000, 1.0};
  std::vector<std::string> names;
  std::vector<std::int64_t> channels;
  for (const auto& p : cal.points) {
    names.push_back(p.name);
    channels.push_back(p.channels);
  }
  return HardwarePlanCost(HardwareTarget{a.arch, a.overrides, objective},
                          to_trace(model_spec(c.model.net->info().model, imagenet), input), names, channels,
                          q.coefficient_bits);
}

// k per point and, for a mixed greedy (--mixed-bits), bits per point.
KeptDims dims_for(const PlanArgs& a, Context& c, const Calibration& cal, const QuantSettings& q,
                  PointBits& bits) {
  if (a.method == "uniform") return uniform_dims(cal, a.value);
  if (a.method == "variance") return variance_dims(cal, a.value);
  if (a.method == "ceiling") return ceiling_dims(cal, q, a.value * 8);  // --value in bytes per image
  // Decide on images the calibration (default 100 per class, seed 1) did not use.
  const LabeledTensors images =
      normalized(split_validation(c.data, 100, a.per_class, 0, 1).greedy, c.data.norm);
  CachedEvaluator evaluator(c.model.net, cal, images.inputs, images.labels, q);
  GreedyOptions options;
  options.max_reduction = a.value;
  options.max_accuracy_drop = a.max_drop;
  options.measure_uncached = false;
  options.bit_levels = a.mixed_bits;
  const std::optional<HardwarePlanCost> cost = hardware_cost_for(a, c, cal, q);
  if (cost) options.hardware_cost = [&cost](const KeptDims& k, const PointBits& b) { return (*cost)(k, b); };
  const GreedyResult result = greedy_search(evaluator, cal.points, q, options);
  // Stopped by the accuracy budget: the last step within it.
  const double start = result.steps.front().val_accuracy;
  auto chosen = result.steps.begin();
  for (auto it = result.steps.begin(); it != result.steps.end(); ++it)
    if (start - it->val_accuracy <= a.max_drop) chosen = it;
  bits = chosen->plan_bits;
  return chosen->plan;
}

void run_plan(const PlanArgs& a) {
  if ((a.method == "uniform" || a.method == "variance") && !(a.value > 0 && a.value <= 1))
    throw InputError({"--value", 0}, "value", "a fraction in (0, 1] for --method " + a.method,
                     std::to_string(a.value));
  if ((a.method == "greedy" && a.value < 1) || (a.method == "ceiling" && a.value <= 0))
    throw InputError({"--value", 0}, "value",
                     a.method == "greedy" ? "a target reduction >= 1 against 8-bit activations"
                                          : "a positive size in bytes",
                     std::to_string(a.value));
  // A hardware objective's inputs are checked before the model loads.
  if (sim::parse_cost_objective(a.objective) != sim::CostObjective::Bits) {
    if (a.method != "greedy")
      throw InputError({"command line", 0}, "--objective", "bits unless --method greedy", a.objective);
    if (a.arch.empty())
      throw InputError({"command line", 0}, "--arch", "an architecture file for --objective " + a.objective,
                       "nothing");
    sim::load_arch_spec(a.arch, a.overrides);
    parse_input_shape(a.input);
  }
  Context c = load_context(a.model);
  const Calibration cal = load_calibration(a.calibration);
  check_calibration_matches(cal, c.model.net, a.calibration);
  if (!a.mixed_bits.empty() &&
      (a.mixed_bits.front() != 8 || !std::is_sorted(a.mixed_bits.rbegin(), a.mixed_bits.rend()) ||
       std::adjacent_find(a.mixed_bits.begin(), a.mixed_bits.end()) != a.mixed_bits.end()))
    throw InputError({"command line", 0}, "--mixed-bits",
                     "strictly decreasing bit widths starting at 8, e.g. 8,6,5,4,3,2",
                     fmt::format("{}", fmt::join(a.mixed_bits, ",")));
  PointBits bits;
  const KeptDims k = dims_for(a, c, cal, quant_from(a.bits, 8), bits);
  const QuantSettings q = quant_from(a.bits, 8).with_point_bits(bits);
  const Compressor compressor(cal, k, q);
  const EvalResult val = evaluate(c.model.net, c.val.inputs, c.val.labels, 500, compressor.hook());
  const auto measures = measure_points(c.model.net, compressor, c.val.inputs.slice(0, 0, 1000));
  const std::string name = fs::path(a.out).stem().string();
  trace::write_plan(to_plan(cal, k, q, name, a.method, measures), a.out);
  if (const auto cost = hardware_cost_for(a, c, cal, q)) {
    const sim::CostEstimate none = cost->estimate(full_dims(cal)), e = cost->estimate(k, bits);
    std::printf("%s at %s on %s: DRAM bytes %.3fx, energy %.3fx of the uncompressed network\n", a.out.c_str(),
                a.input.c_str(), a.arch.c_str(),
                static_cast<double>(e.dram_bytes) / static_cast<double>(none.dram_bytes),
                e.energy_pj / none.energy_pj);
  }
  const Reduction r = reduction_of(cal.points, k, q);
  std::printf(
      "%s: %.2fx less activation memory access than 8-bit (%.2fx than 16-bit; %.2fx / %.2fx with "
      "matrices), validation accuracy %.2f%%\n",
      a.out.c_str(), r.vs_b8, r.vs_b16, r.vs_b8_with_overhead, r.vs_b16_with_overhead, 100 * val.accuracy);
}

void add_plan(CLI::App& app) {
  auto a = std::make_shared<PlanArgs>();
  auto* cmd =
      app.add_subcommand("plan", "Make a compression plan (layer -> k) for a trained, calibrated model");
  cmd->add_option("--model", a->model, "trained model (directory, model.pt or checkpoint.pt)")->required();
  cmd->add_option("--calibration", a->calibration, "calibration.pt from `capsim calibrate`")->required();
  cmd->add_option("--method", a->method, "uniform | variance | ceiling | greedy")
      ->required()
      ->check(CLI::IsMember({"uniform", "variance", "ceiling", "greedy"}));
  cmd->add_option(
         "--value", a->value,
         "uniform: kept fraction R; variance: explained-variance threshold; ceiling: bytes per tensor; "
         "greedy: target reduction against 8-bit activations")
      ->required();
  cmd->add_option("--bits", a->bits, "bits per projected coefficient")->check(CLI::Range(2, 16));
  cmd->add_option(
         "--mixed-bits", a->mixed_bits,
         "greedy: also lower bits per point through these widths (mixed precision), e.g. 8,6,5,4,3,2")
      ->delimiter(',')
      ->check(CLI::Range(2, 16));
  cmd->add_option("--images-per-class", a->per_class, "greedy: validation images per class it decides on")
      ->check(CLI::PositiveNumber);
  cmd->add_option(
         "--objective", a->objective,
         "greedy: what a step saves, per unit of validation loss: bits (activation bits, the paper's), "
         "dram_bytes or energy (of the whole network on --arch at --input)")
      ->check(CLI::IsMember({"bits", "dram_bytes", "energy"}));
  cmd->add_option("--arch", a->arch, "architecture file for a hardware objective (configs/arch/*.yaml)");
  cmd->add_option("--set", a->overrides, "override an architecture key, e.g. --set workload.batch=8")
      ->allow_extra_args(false);
  cmd->add_option("--input", a->input,
                  "deployment input CxHxW of the imagenet variant (hardware objectives)");
  cmd->add_option("--max-drop", a->max_drop, "greedy: validation accuracy drop (fraction) the plan may lose")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--out", a->out, "plan file to write (.yaml)")->required();
  cmd->callback([a] { run_plan(*a); });
}

// ---- finetune -------------------------------------------------------------------------------------

struct FinetuneArgs {
  std::string model, calibration, plan, out;
  FinetuneOptions options;
  bool fall_back_per_point = false;
};

void run_finetune(const FinetuneArgs& a) {
  Context c = load_context(a.model);
  c.train = normalized(c.data.train, c.data.norm);
  const Calibration cal = load_calibration(a.calibration);
  check_calibration_matches(cal, c.model.net, a.calibration);
  const trace::Plan plan = trace::read_plan(a.plan);
  PointBits bits;
  const KeptDims k = dims_from_plan(cal, plan, &bits);
  const QuantSettings q = quantization_of(plan, bits);
  const Compressor pca(cal, k, q);
  const EvalResult before = evaluate(c.model.net, c.val.inputs, c.val.labels, 500, pca.hook());
  const Finetuned tuned = finetune_projections(c.model.net, cal, k, q, c.train.inputs, c.train.labels,
                                               a.options, HeldOut{c.greedy.inputs, c.greedy.labels});
  auto projections = tuned.projections;
  for (const auto& h : tuned.held_out)
    std::printf("held-out step %lld: loss %.4f, accuracy %.2f%%%s\n", static_cast<long long>(h.step), h.loss,
                100 * h.accuracy, h.step == tuned.kept_step ? "  (kept)" : "");
  const BackboneSwap learned_backbone(c.model.net, tuned.backbone);  // what the projections learned with
  if (a.fall_back_per_point) {
    const PointFallBack fb =
        fall_back_per_point(c.model.net, cal, k, q, projections, HeldOut{c.greedy.inputs, c.greedy.labels});
    std::printf("per-point fall-back: %zu point(s) back to PCA, held-out loss %.4f -> %.4f\n",
                fb.restored.size(), fb.learned.loss, fb.kept.loss);
    for (std::size_t p : fb.restored) std::printf("  %s\n", cal.points[p].name.c_str());
    projections = fb.projections;
  }
  const Compressor learned(cal, projections, q);
  const EvalResult after = evaluate(c.model.net, c.val.inputs, c.val.labels, 500, learned.hook());
  torch::serialize::OutputArchive archive;
  for (std::size_t p = 0; p < projections.size(); ++p) {
    if (!projections[p]) continue;
    archive.write(cal.points[p].name + ".encoder", projections[p]->encoder);
    archive.write(cal.points[p].name + ".decoder", projections[p]->decoder);
  }
  if (!tuned.backbone.empty())
    archive.write("backbone.size", torch::tensor(static_cast<std::int64_t>(tuned.backbone.size())));
  for (std::size_t i = 0; i < tuned.backbone.size(); ++i)
    archive.write(fmt::format("backbone.{}", i), tuned.backbone[i]);
  fs::create_directories(fs::path(a.out).parent_path().empty() ? "." : fs::path(a.out).parent_path());
  archive.save_to(a.out + ".tmp");
  fs::rename(a.out + ".tmp", a.out);
  std::printf("validation accuracy: PCA %.2f%% -> learnable %.2f%%; projections in %s\n",
              100 * before.accuracy, 100 * after.accuracy, a.out.c_str());
}

void add_finetune(CLI::App& app) {
  auto a = std::make_shared<FinetuneArgs>();
  auto* cmd = app.add_subcommand(
      "finetune",
      "Learn the projections of a plan (backbone frozen unless --backbone-lr), starting from PCA");
  cmd->add_option("--model", a->model, "trained model")->required();
  cmd->add_option("--calibration", a->calibration, "calibration.pt")->required();
  cmd->add_option("--plan", a->plan, "plan file (.yaml)")->required();
  cmd->add_option("--out", a->out, "file for the learned encoders and decoders (.pt)")->required();
  cmd->add_option("--steps", a->options.steps, "optimizer steps")->check(CLI::PositiveNumber);
  cmd->add_option("--batch-size", a->options.batch_size, "images per step")->check(CLI::PositiveNumber);
  cmd->add_option("--lr", a->options.lr, "Adam learning rate (cosine-decayed)")->check(CLI::PositiveNumber);
  cmd->add_option("--reconstruction-weight", a->options.reconstruction_weight,
                  "weight of the reconstruction term")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--distillation-weight", a->options.distillation_weight,
                  "> 0: distil from the uncompressed network")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--temperature", a->options.temperature, "distillation temperature")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--eval-every", a->options.eval_every,
                  "> 0: early stopping, held-out loss (the greedy's 1,000 validation images) every N steps")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--backbone-lr", a->options.backbone_lr,
                  "> 0: train the backbone's weights too at this Adam rate (batch-norm statistics frozen; "
                  "the weights are saved with the projections as backbone.<i>)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--fall-back-per-point", a->fall_back_per_point,
                "give a point back to PCA where that lowers the held-out loss (one pass in network order)");
  cmd->callback([a] { run_finetune(*a); });
}

// ---- fold-check ------------------------------------------------------------------------------------

struct FoldCheckArgs {
  std::string model, calibration, plan, precision = "float32", predictions;
  std::int64_t images = 0, batch = 500;
  int matrix_bits = 16, bits = 0;
  bool list_edges = false, decoded_only = false;
};

// One row per test image (image index in the test file, label, the decode-then-convolve network's
// class): paired analyses across plans (scripts/selection_bias.py noise) need which images each
// plan gets right, not only how many.
void write_predictions(const std::string& path, const torch::Tensor& labels,
                       const std::vector<std::int64_t>& predictions) {
  const auto l = labels.to(torch::kLong).contiguous();
  if (static_cast<std::size_t>(l.numel()) != predictions.size())
    throw std::logic_error(
        fmt::format("fold-check: {} predictions for {} labels", predictions.size(), l.numel()));
  const std::int64_t* label = l.data_ptr<std::int64_t>();
  std::string csv = "image,label,prediction\n";
  for (std::size_t i = 0; i < predictions.size(); ++i)
    csv += fmt::format("{},{},{}\n", i, label[i], predictions[i]);
  write_file_atomic(path, csv);
}

void run_fold_check(const FoldCheckArgs& a) {
  // The small files first: a bad plan or calibration fails before the data set loads.
  const trace::Plan plan = trace::read_plan(a.plan);
  const Calibration cal = load_calibration(a.calibration);
  Context c = load_context(a.model, a.images);
  check_calibration_matches(cal, c.model.net, a.calibration);
  PointBits bits;
  const KeptDims k = dims_from_plan(cal, plan, &bits);
  QuantSettings q = quantization_of(plan, bits, a.bits);  // a mixed plan's own widths unless --bits
  q.matrix_bits = a.matrix_bits;
  const Compressor compressor(cal, k, q);
  const torch::Dtype dtype = a.precision == "float64" ? torch::kFloat64 : torch::kFloat32;
  FoldedNetwork network(c.model.net, compressor, cal.input, dtype);
  std::int64_t folded = 0, projected = 0;
  for (const auto& e : network.edges()) folded += e.folded ? 1 : 0;
  for (std::size_t p = 0; p < k.size(); ++p) projected += k[p] < cal.points[p].channels ? 1 : 0;
  std::printf(
      "%s, plan %s: %lld of %zu points projected; %zu consumer edges, %lld folded, %lld keep the decoder\n",
      cal.model.c_str(), a.plan.c_str(), static_cast<long long>(projected), cal.points.size(),
      network.edges().size(), static_cast<long long>(folded),
      static_cast<long long>(network.edges().size()) - static_cast<long long>(folded));
  if (a.list_edges)
    for (const auto& e : network.edges())
      std::printf("  %-28s -> %-28s %s\n", e.point.c_str(), e.consumer.c_str(),
                  e.folded ? "folded" : "decoder");
  const FoldCheck r = check_folding(network, c.test.inputs, c.test.labels, a.batch, !a.decoded_only);
  if (!a.predictions.empty()) write_predictions(a.predictions, c.test.labels, r.predictions);
  const std::string widths = q.point_bits.empty() ? std::to_string(q.coefficient_bits) + "-bit coefficients"
                                                  : std::string("the plan's widths per point");
  std::printf("%s, %s (%s over components), %d-bit matrices, %lld test images\n", a.precision.c_str(),
              widths.c_str(), to_string(q.component_bits), q.matrix_bits, static_cast<long long>(r.images));
  if (a.decoded_only) {
    std::printf("accuracy: decode-then-convolve %.2f%% (folded network not run)\n",
                100 * r.accuracy_unfolded);
    return;
  }
  std::printf("max |logit diff| %.3g (max |logit| %.3g, relative %.3g)\n", r.max_abs_logit_diff,
              r.max_abs_logit, r.max_abs_logit > 0 ? r.max_abs_logit_diff / r.max_abs_logit : 0.0);
  std::printf("accuracy: decode-then-convolve %.2f%%, folded %.2f%% (%lld predictions differ)\n",
              100 * r.accuracy_unfolded, 100 * r.accuracy_folded,
              static_cast<long long>(r.differing_predictions));
}

void add_fold_check(CLI::App& app) {
  auto a = std::make_shared<FoldCheckArgs>();
  auto* cmd = app.add_subcommand("fold-check",
                                 "Compare a plan's network with decoders folded into dense consumers against "
                                 "decode-then-convolve on the test set");
  cmd->add_option("--model", a->model, "trained model (directory, model.pt or checkpoint.pt)")->required();
  cmd->add_option("--calibration", a->calibration, "calibration.pt from `capsim calibrate`")->required();
  cmd->add_option("--plan", a->plan, "plan file (.yaml); PCA projections at its k")->required();
  cmd->add_option("--images", a->images, "first N test images (default: all)")->check(CLI::PositiveNumber);
  cmd->add_option("--bits", a->bits, "bits per coefficient (default: the plan's)")->check(CLI::Range(2, 16));
  cmd->add_option("--matrix-bits", a->matrix_bits, "bits of E, D and the means (32: float)")
      ->check(CLI::Range(2, 32));
  cmd->add_option("--precision", a->precision, "float32 (as deployed) or float64 (exactness)")
      ->check(CLI::IsMember({"float32", "float64"}));
  cmd->add_option("--batch-size", a->batch, "images per batch")->check(CLI::PositiveNumber);
  cmd->add_flag("--list-edges", a->list_edges, "print every (point, consumer) edge and whether it folds");
  cmd->add_option(
      "--predictions", a->predictions,
      "write the decode-then-convolve class of every test image to this CSV (image,label,prediction)");
  cmd->add_flag(
      "--decoded-only", a->decoded_only,
      "run only the decode-then-convolve network: the plan's test accuracy as the study measures it");
  cmd->callback([a] { run_fold_check(*a); });
}

// ---- study and table ------------------------------------------------------------------------------

struct StudyArgs {
  std::string config, out;
  std::vector<std::string> overrides;
  StudyOptions options;
  bool quiet = false;
};

void add_study(CLI::App& app) {
  auto a = std::make_shared<StudyArgs>();
  auto* cmd = app.add_subcommand("study", "The whole pipeline for one network, resumable stage by stage");
  cmd->add_option("--config", a->config, "study config (configs/study/<model>.yaml)")->required();
  cmd->add_option("--out", a->out, "study directory (rerun the same command to resume)")->required();
  cmd->add_option("--set", a->overrides, "override a study config key: KEY.PATH=VALUE")
      ->allow_extra_args(false);
  cmd->add_option("--epochs", a->options.epochs, "override the training epochs")->check(CLI::PositiveNumber);
  cmd->add_option("--limit-train", a->options.limit_train, "smoke runs: first N training images")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--limit-test", a->options.limit_test, "smoke runs: first N test images")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--limit-val", a->options.limit_val, "smoke runs: first N validation images")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--only", a->options.only,
                  "run only these stages (curve methods, comma-separated) and the curves they fine-tune")
      ->delimiter(',');
  cmd->add_flag("--quiet", a->quiet, "no progress on stderr");
  cmd->callback([a] {
    StudyOptions options = a->options;
    options.out_dir = a->out;
    options.progress = !a->quiet;
    run_study(load_study_config(a->config, a->overrides), options);
  });
}

struct TableArgs {
  std::vector<std::string> studies;
  std::string out;
};

void add_table(CLI::App& app) {
  auto a = std::make_shared<TableArgs>();
  auto* cmd = app.add_subcommand("table", "The paper table (markdown and CSV) from study directories");
  cmd->add_option("studies", a->studies, "study directories (each with summary.json)")->required();
  cmd->add_option("--out", a->out, "markdown file to write; the CSV goes beside it")->required();
  cmd->callback([a] {
    const PaperTable t = paper_table(a->studies);
    write_file_atomic(a->out, t.markdown);
    write_file_atomic(fs::path(a->out).replace_extension(".csv").string(), t.csv);
    std::fputs(t.markdown.c_str(), stdout);
  });
}

}  // namespace

CAPSIM_REGISTER_COMMAND("calibrate", add_calibrate);
CAPSIM_REGISTER_COMMAND("finetune", add_finetune);
CAPSIM_REGISTER_COMMAND("fold-check", add_fold_check);
CAPSIM_REGISTER_COMMAND("plan", add_plan);
CAPSIM_REGISTER_COMMAND("study", add_study);
CAPSIM_REGISTER_COMMAND("table", add_table);

}  // namespace capsim::workloads::cli
