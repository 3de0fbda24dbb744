// The study pipeline for one network, resumable stage by stage, and the paper table.
#include "capsim/workloads/study.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <sstream>

#include "capsim/common/atomic_file.hpp"
#include "capsim/common/error.hpp"
#include "capsim/trace/plan.hpp"
#include "capsim/workloads/train.hpp"

namespace capsim::workloads {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

// ---- configuration --------------------------------------------------------------------------

std::vector<double> numbers(const YamlView& v, std::string_view key, const std::vector<double>& fallback,
                            double lo, double hi) {
  if (!v.has(key)) return fallback;
  std::vector<double> out;
  for (const auto& item : v.sequence(key)) {
    try {
      out.push_back(item.node().as<double>());
    } catch (const YAML::Exception&) {
      item.fail_here("a number");
    }
    if (!(out.back() >= lo && out.back() <= hi)) item.fail_here(fmt::format("a number in [{}, {}]", lo, hi));
  }
  if (out.empty()) v.fail(key, "a non-empty list of numbers");
  return out;
}

// The mixed greedy's bit widths: strictly decreasing, from the baseline width down, each in 2..16
// (an empty list turns the mixed methods off).
std::vector<int> bit_levels(const YamlView& v, std::string_view key, int baseline_bits) {
  std::vector<int> out;
  for (const auto& item : v.sequence(key)) {
    int bits = 0;
    try {
      bits = item.node().as<int>();
    } catch (const YAML::Exception&) {
      item.fail_here("an integer number of bits");
    }
    if (bits < 2 || bits > 16 || (!out.empty() && bits >= out.back()))
      item.fail_here("bits in 2..16, strictly decreasing");
    out.push_back(bits);
  }
  if (!out.empty() && out.front() != baseline_bits)
    v.fail(key, fmt::format("a list starting at the baseline width ({} bits, quantization.baseline_bits)",
                            baseline_bits));
  return out;
}

// ---- curve points -----------------------------------------------------------------------------

struct CurvePoint {
  std::string method;
  std::string label;
  KeptDims k;
  PointBits bits;  // mixed plans: bits per point (empty: the quantization settings' widths)
  Reduction reduction;
  double val_accuracy = 0, val_loss = 0;
  DropInterval val_drop;  // against the 8-bit reference on the validation images
  std::optional<double> test_accuracy;
  std::optional<DropInterval> test_drop;
};

// A learnable method's plan measured with PCA projections: learning did not beat PCA on it, or
// it was not among the plans fine-tuned (the fall-back; its label carries this suffix).
const char* const kPcaFallback = "+pca";
bool is_fallback(const std::string& label) {
  return label.size() > 4 && label.compare(label.size() - 4, 4, kPcaFallback) == 0;
}

// curve_<method>.csv -> <method>
std::string method_of_curve(const std::string& file) { return file.substr(6, file.size() - 10); }

const char* const kCurveHeader =
    "method,label,reduction_vs_b8,reduction_vs_b16,reduction_vs_b8_with_overhead,reduction_vs_b16_with_"
    "overhead,"
    "val_accuracy,val_loss,val_drop,val_drop_low,val_drop_high,val_drop_bound,test_accuracy,test_drop_low,"
    "test_drop_high,dims\n";
constexpr std::size_t kCurveFields = 16;

// "k" per point, or "k:bits" for every point of a mixed plan, joined by ';'.
std::string dims_field(const KeptDims& k, const PointBits& bits) {
  std::string dims;
  for (std::size_t i = 0; i < k.size(); ++i) {
    dims += (i ? ";" : "") + std::to_string(k[i]);
    if (i < bits.size()) dims += ":" + std::to_string(bits[i]);
  }
  return dims;
}

std::string curve_csv(const std::vector<CurvePoint>& points) {
  std::string out = kCurveHeader;
  auto optional = [](const std::optional<double>& v) {
    return v ? fmt::format("{:.5f}", *v) : std::string();
  };
  for (const auto& p : points) {
    const auto& t = p.test_drop;
    out += fmt::format(
        "{},{},{:.5f},{:.5f},{:.5f},{:.5f},{:.5f},{:.5f},{:.5f},{:.5f},{:.5f},{:.5f},{},{},{},{}\n", p.method,
        p.label, p.reduction.vs_b8, p.reduction.vs_b16, p.reduction.vs_b8_with_overhead,
        p.reduction.vs_b16_with_overhead, p.val_accuracy, p.val_loss, p.val_drop.drop, p.val_drop.low,
        p.val_drop.high, p.val_drop.bound, optional(p.test_accuracy),
        optional(t ? std::optional<double>(t->low) : std::nullopt),
        optional(t ? std::optional<double>(t->high) : std::nullopt), dims_field(p.k, p.bits));
  }
  return out;
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(text);
  while (std::getline(in, part, sep)) parts.push_back(part);
  if (!text.empty() && text.back() == sep) parts.emplace_back();
  return parts;
}

// Reads a curve written by curve_csv; every plan must fit `points` (1 <= k <= C per point).
std::vector<CurvePoint> read_curve(const std::string& path, const std::vector<CompressionPoint>& points) {
  std::vector<CurvePoint> curve;
  std::istringstream in(read_file(path));
  std::string line;
  std::getline(in, line);
  if (line + "\n" != kCurveHeader) throw InputError({path, 1}, "not a capsim curve file (unexpected header)");
  int number = 1;
  while (std::getline(in, line)) {
    ++number;
    const auto f = split(line, ',');
    if (f.size() != kCurveFields)
      throw InputError({path, number}, fmt::format("expected {} comma-separated fields", kCurveFields));
    CurvePoint p;
    try {
      p.method = f[0];
      p.label = f[1];
      p.reduction = {std::stod(f[2]), std::stod(f[3]), std::stod(f[4]), std::stod(f[5])};
      p.val_accuracy = std::stod(f[6]);
      p.val_loss = std::stod(f[7]);
      p.val_drop = {std::stod(f[8]), std::stod(f[9]), std::stod(f[10]), std::stod(f[11])};
      if (!f[12].empty()) {
        p.test_accuracy = std::stod(f[12]);
        p.test_drop = DropInterval{0, std::stod(f[13]), std::stod(f[14]), 0};
      }
      for (const auto& d : split(f[15], ';')) {
        const auto colon = d.find(':');
        p.k.push_back(std::stoll(d.substr(0, colon)));
        if (colon != std::string::npos) p.bits.push_back(std::stoi(d.substr(colon + 1)));
      }
    } catch (const std::logic_error&) {
      throw InputError({path, number}, "expected numbers in the reduction, accuracy, drop and dims fields");
    }
    bool fits = p.k.size() == points.size() && (p.bits.empty() || p.bits.size() == points.size());
    for (std::size_t i = 0; fits && i < p.k.size(); ++i) fits = p.k[i] >= 1 && p.k[i] <= points[i].channels;
    for (int b : p.bits) fits = fits && b >= 2 && b <= 16;
    if (!fits)
      throw InputError({path, number},
                       fmt::format("a plan of {} dimensions within the channel counts of calibration.pt "
                                   "(the study directory mixes runs: use a fresh one)",
                                   points.size()));
    curve.push_back(p);
  }
  return curve;
}

}  // namespace

std::string budget_key(double budget) { return fmt::format("{:g}", budget); }

bool more_images_correct(double accuracy, double than_accuracy, std::int64_t images) {
  const auto n = static_cast<double>(images);
  return std::llround(accuracy * n) > std::llround(than_accuracy * n);
}

DropInterval paired_drop_interval(const std::vector<std::uint8_t>& reference,
                                  const std::vector<std::uint8_t>& plan, double confidence,
                                  std::int64_t resamples, std::uint64_t seed) {
  if (reference.empty() || reference.size() != plan.size())
    throw std::invalid_argument("paired_drop_interval: per-image results of different lengths (or none)");
  std::int64_t only_reference = 0, only_plan = 0;
  for (std::size_t i = 0; i < reference.size(); ++i) {
    only_reference += reference[i] && !plan[i] ? 1 : 0;
    only_plan += plan[i] && !reference[i] ? 1 : 0;
  }
  const auto n = static_cast<std::int64_t>(reference.size());
  const double p_ref = static_cast<double>(only_reference) / static_cast<double>(n);
  const double p_plan = static_cast<double>(only_plan) / static_cast<double>(n);
  std::mt19937_64 rng(seed);
  std::vector<double> drops;
  drops.reserve(static_cast<std::size_t>(resamples));
  for (std::int64_t r = 0; r < resamples; ++r) {
    const std::int64_t a = std::binomial_distribution<std::int64_t>(n, p_ref)(rng);
    const double rest = 1.0 - p_ref;
    const std::int64_t b =
        rest > 0 ? std::binomial_distribution<std::int64_t>(n - a, std::min(1.0, p_plan / rest))(rng) : 0;
    drops.push_back(static_cast<double>(a - b) / static_cast<double>(n));
  }
  std::sort(drops.begin(), drops.end());
  auto quantile = [&](double q) {
    const auto i =
        static_cast<std::size_t>(std::clamp(q, 0.0, 1.0) * static_cast<double>(drops.size() - 1) + 0.5);
    return drops[i];
  };
  return {p_ref - p_plan, quantile(0.025), quantile(0.975), quantile(confidence)};
}

ValidationSplit split_validation(const Dataset& data, std::int64_t calibration_per_class,
                                 std::int64_t greedy_per_class, std::int64_t val_per_class,
                                 std::uint64_t seed) {
  const std::int64_t needed = calibration_per_class + greedy_per_class + val_per_class;
  std::vector<std::vector<std::int64_t>> slices(3);
  const auto labels = data.val.labels.contiguous();
  Rng rng(seed);
  for (std::int64_t c = 0; c < data.classes; ++c) {
    const auto members = (labels == c).nonzero().flatten().contiguous();
    if (members.size(0) < needed)
      throw InputError(
          {"study config", 0}, "calibration/greedy/validation images_per_class",
          fmt::format("at most {} images per class in total (the validation set has {} of class {})",
                      members.size(0), members.size(0), c),
          std::to_string(needed));
    const auto order = permutation(members.size(0), rng);
    const auto* m = members.data_ptr<std::int64_t>();
    std::int64_t next = 0;
    for (std::size_t s = 0; s < 3; ++s) {
      const std::int64_t count = s == 0 ? calibration_per_class : s == 1 ? greedy_per_class : val_per_class;
      for (std::int64_t i = 0; i < count; ++i)
        slices[s].push_back(m[order[static_cast<std::size_t>(next++)]]);
    }
  }
  auto subset = [&](std::vector<std::int64_t>& indices) {
    std::sort(indices.begin(), indices.end());
    return data.val.subset(torch::tensor(indices));
  };
  return {subset(slices[0]), subset(slices[1]), subset(slices[2])};
}

namespace {

// ---- the study ----------------------------------------------------------------------------------

class Study {
 public:
  Study(const StudyConfig& config, const StudyOptions& options)
      : config_(config), options_(options), dir_(options.out_dir) {}

  void run() {
    const std::vector<Stage> all_stages = with_only(stages());  // --only checked before any work
    fs::create_directories(dir_);
    started_ = std::chrono::steady_clock::now();
    train_config_ = load_train_config(config_.train_config);
    if (options_.limit_train > 0) train_config_.limit_train = options_.limit_train;
    if (options_.limit_test > 0) train_config_.limit_test = options_.limit_test;
    if (options_.epochs > 0) train_config_.epochs = options_.epochs;
    check_or_record_state();
    train_network();
    load_network();
    calibrate_points();
    evaluate_references();
    // A stage --only leaves out still contributes the curve an earlier run left, so selection
    // keeps its plans, traces and summary entries.
    for (const auto& s : all_stages)
      if (s.wanted || fs::exists(path("curve_" + s.method + ".csv")))
        stage("curve_" + s.method + ".csv", s.produce);
    select_and_export();
    write_curves();  // after selection: with the test accuracies it measured
    note(fmt::format("study of {} done in {:.0f} s", net_->info().model, elapsed()));
  }

 private:
  // -- helpers --
  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  }
  void note(const std::string& text) const {
    if (options_.progress) std::fprintf(stderr, "[study %6.0f s] %s\n", elapsed(), text.c_str());
  }
  std::string path(const std::string& name) const { return (fs::path(dir_) / name).string(); }

  // -- the stages a config runs, in order --
  struct Stage {
    std::string method;  // its curve is curve_<method>.csv
    std::string source;  // the method whose plans it fine-tunes (learnable stages), else empty
    std::function<std::vector<CurvePoint>()> produce;
    bool wanted = true;  // computed if its curve is missing (false: only reused, under --only)
  };

  std::vector<Stage> stages() {
    std::vector<Stage> list;
    const auto baseline = [&](const std::string& method, auto produce) {
      list.push_back({method, "", produce});
    };
    const auto learnable = [&](const std::string& from, const std::string& method) {
      list.push_back({method, from, [this, from, method] { return learnable_curve(from, method); }});
    };
    baseline("pca_uniform", [this] { return baseline_curve("pca_uniform"); });
    baseline("pca_variance", [this] { return baseline_curve("pca_variance"); });
    baseline("pca_ceiling", [this] { return baseline_curve("pca_ceiling"); });
    baseline("pca_greedy", [this] { return greedy_curve("pca_greedy", {}); });
    learnable("pca_uniform", "learnable_uniform");
    learnable("pca_greedy", "learnable_greedy");
    const bool mixed = !config_.mixed_bit_levels.empty();
    if (mixed) {
      baseline("pca_mixed", [this] { return greedy_curve("pca_mixed", config_.mixed_bit_levels); });
      learnable("pca_mixed", "learnable_mixed");
      if (config_.learnable_interleaved)
        baseline("learnable_interleaved", [this] { return interleaved_curve("learnable_interleaved"); });
      if (config_.mixed_component_bits) {
        baseline("pca_mixed_components",
                 [this] { return greedy_curve("pca_mixed_components", config_.mixed_bit_levels); });
        learnable("pca_mixed_components", "learnable_mixed_components");
      }
    }
    if (config_.learnable_backbone) {
      const std::string from = backbone_source();
      learnable(from, "learnable_backbone_" + from.substr(4));
    }
    if (config_.hardware) {
      const std::string objective = sim::to_string(config_.hardware->objective);
      const std::string greedy = "pca_greedy_" + objective;
      baseline(greedy, [this, greedy] { return hardware_greedy_curve(greedy, {}); });
      learnable(greedy, "learnable_greedy_" + objective);
      if (mixed && config_.hardware_mixed) {
        const std::string mixed_greedy = "pca_mixed_" + objective;
        baseline(mixed_greedy, [this, mixed_greedy] {
          return hardware_greedy_curve(mixed_greedy, config_.mixed_bit_levels);
        });
        learnable(mixed_greedy, "learnable_mixed_" + objective);
      }
    }
    return list;
  }

  // Marks the stages `capsim study --only` asks for and the curves they fine-tune as wanted, the
  // others not (every stage without --only). A name the config does not run is bad input,
  // reported before any work.
  std::vector<Stage> with_only(std::vector<Stage> all) const {
    if (options_.only.empty()) return all;
    std::set<std::string> keep;
    for (const auto& name : options_.only) {
      const auto named =
          std::find_if(all.begin(), all.end(), [&](const Stage& s) { return s.method == name; });
      if (named == all.end())
        throw InputError({"--only", 0}, "stage",
                         fmt::format("one of this config's stages ({})", stage_names(all)), name);
      keep.insert(name);
      if (!named->source.empty()) keep.insert(named->source);
    }
    for (auto& s : all) s.wanted = keep.count(s.method) > 0;
    return all;
  }

  static std::string stage_names(const std::vector<Stage>& all) {
    std::vector<std::string> names;
    names.reserve(all.size());
    for (const auto& stage : all) names.push_back(stage.method);
    return fmt::format("{}", fmt::join(names, ", "));
  }

  // Runs `produce` unless its file exists (resume), then keeps its curve.
  template <class Produce>
  void stage(const std::string& file, Produce&& produce) {
    if (fs::exists(path(file))) {
      note("reusing " + file);
      curves_[file] = read_curve(path(file), calibration_.points);
      // The file keeps the test interval; the drop itself is against the 8-bit reference.
      const double reference_test = references_["b8"]["test_accuracy"].get<double>();
      for (auto& p : curves_[file])
        if (p.test_drop) p.test_drop->drop = reference_test - *p.test_accuracy;
      refresh_reductions(file);
      return;
    }
    curves_[file] = produce();
    write_file_atomic(path(file), curve_csv(curves_[file]));
  }

  // A plan's reductions follow from its dims and bits: recomputed when a curve is reused, so a
  // curve written under an earlier accounting is brought up to date (and rewritten) instead of
  // being ranked beside curves counted the current way.
  void refresh_reductions(const std::string& file) {
    const QuantSettings q = quant_for(method_of_curve(file));
    for (auto& p : curves_[file])
      p.reduction = reduction_of(calibration_.points, p.k, q.with_point_bits(p.bits));
    const std::string text = curve_csv(curves_[file]);
    if (text == read_file(path(file))) return;
    note("reductions in " + file + " recomputed (written under an earlier accounting)");
    write_file_atomic(path(file), text);
  }

  // The quantization a method is measured with: the hardware-aware methods measure the side data
  // as deployed (hardware.matrix_bits, 8 by default), the others at quantization.matrix_bits;
  // the *_components methods spread each point's bits over its components by variance.
  QuantSettings quant_for(const std::string& method) const {
    QuantSettings q = config_.quant;
    if (method.find("_components") != std::string::npos) q.component_bits = ComponentBits::variance;
    if (config_.hardware &&
        (method.find("_energy") != std::string::npos || method.find("_dram_bytes") != std::string::npos))
      q.matrix_bits = config_.hardware_matrix_bits;
    return q;
  }

  EvalResult evaluate_with(const Compressor* compressor, const LabeledTensors& set) {
    const BackboneSwap backbone(net_, compressor ? compressor->backbone() : BackboneWeights{});
    return evaluate(net_, set.inputs, set.labels, config_.eval_batch,
                    compressor ? compressor->hook() : OutputHook{});
  }

  // Accuracy of a plan on validation (and on test when within max_tested_drop; a plan selected at
  // a budget is measured on test at selection in any case), each drop against the 8-bit reference
  // with its paired bootstrap interval.
  CurvePoint measure(const std::string& method, const std::string& label, const KeptDims& k,
                     const Compressor& compressor) {
    const QuantSettings& q = compressor.quant();
    CurvePoint p{method, label, k, q.point_bits, reduction_of(calibration_.points, k, q), 0, 0, {}, {}, {}};
    const EvalResult v = evaluate_with(&compressor, val_);
    p.val_accuracy = v.accuracy;
    p.val_loss = v.loss;
    p.val_drop = paired_drop_interval(reference_val_correct_, v.correct, config_.selection_confidence);
    if (p.val_drop.drop <= config_.max_tested_drop) measure_test(p, compressor);
    note(fmt::format(
        "{} {}: {:.2f}x (8-bit) val {:.4f} (drop {:+.2f} [{:+.2f}, {:+.2f}]) test {}", method, label,
        p.reduction.vs_b8, p.val_accuracy, 100 * p.val_drop.drop, 100 * p.val_drop.low, 100 * p.val_drop.high,
        p.test_accuracy ? fmt::format("{:.4f} (drop {:+.2f})", *p.test_accuracy, 100 * p.test_drop->drop)
                        : "-"));
    return p;
  }

  void measure_test(CurvePoint& p, const Compressor& compressor) {
    const EvalResult t = evaluate_with(&compressor, test_);
    p.test_accuracy = t.accuracy;
    p.test_drop = paired_drop_interval(reference_test_correct_, t.correct, config_.selection_confidence);
  }

  CurvePoint measure_pca(const std::string& method, const std::string& label, const KeptDims& k,
                         const PointBits& bits = {}) {
    const Compressor compressor(calibration_, k, quant_for(method).with_point_bits(bits));
    return measure(method, label, k, compressor);
  }

  // -- stages --
  // A study directory belongs to one configuration: resuming with another would mix results.
  void check_or_record_state() {
    const json state{{"study_config", config_.text},        {"train_config_hash", config_hash(train_config_)},
                     {"limit_train", options_.limit_train}, {"limit_val", options_.limit_val},
                     {"limit_test", options_.limit_test},   {"epochs", options_.epochs}};
    const std::string file = path("study_state.json");
    if (!fs::exists(file)) {
      write_file_atomic(file, state.dump(2) + "\n");
      return;
    }
    json recorded;
    try {
      recorded = json::parse(read_file(file));
    } catch (const json::exception&) {
      throw InputError({file, 0}, "not a study state file");
    }
    for (const auto& [key, value] : state.items())
      if (!recorded.contains(key) || recorded[key] != value)
        throw InputError(
            {file, 0}, key,
            "the configuration this study directory was started with (resume only with the same study "
            "config, training config and limits; use a fresh --out directory for another)",
            recorded.contains(key) ? recorded[key].dump() : "nothing");
  }

  void train_network() {
    if (fs::exists(path("train/model.pt"))) {
      note("reusing train/model.pt");
      return;
    }
    note("training " + train_config_.model + " (" + train_config_.file + ")");
    train(train_config_, TrainRunOptions{path("train"), 0, options_.progress});
  }

  void load_network() {
    LoadedModel loaded = load_trained_model(path("train/model.pt"));
    net_ = loaded.net;
    meta_ = loaded.meta;
    Dataset data = load_model_dataset(meta_);
    const ValidationSplit split = split_validation(
        data, config_.calibration_per_class, config_.greedy_per_class, config_.val_per_class, config_.seed);
    calibration_images_ = normalized(split.calibration, data.norm);
    greedy_images_ = normalized(split.greedy, data.norm);
    val_ = normalized(split.val, data.norm, options_.limit_val);
    test_ = normalized(data.test, data.norm, options_.limit_test);
    train_ = normalized(data.train, data.norm, options_.limit_train);
  }

  void calibrate_points() {
    if (fs::exists(path("calibration.pt"))) {
      calibration_ = load_calibration(path("calibration.pt"));
      check_calibration_matches(calibration_, net_, path("calibration.pt"));
      note("reusing calibration.pt");
      return;
    }
    note(fmt::format(
        "calibrating {} points on {} images",
        compression_points(net_, {val_.inputs.size(1), val_.inputs.size(2), val_.inputs.size(3)}).size(),
        calibration_images_.size()));
    calibration_ = calibrate(net_, calibration_images_.inputs, config_.eval_batch);
    write_file_atomic(path("explained_variance.csv"), explained_variance_csv(calibration_));
    save_calibration(calibration_, path("calibration.pt"));
  }

  // The per-image results of the 8-bit reference (for the paired intervals of every curve point)
  // come from its evaluation here, or from a fresh one when references.json is reused.
  void evaluate_references() {
    QuantSettings q8 = config_.quant, q16 = config_.quant;
    q8.baseline_bits = 8;
    q16.baseline_bits = 16;
    const Compressor b8(calibration_, full_dims(calibration_), q8);
    if (fs::exists(path("references.json"))) {
      references_ = json::parse(read_file(path("references.json")));
      reference_val_correct_ = evaluate_with(&b8, val_).correct;
      reference_test_correct_ = evaluate_with(&b8, test_).correct;
    } else {
      note("evaluating the references (float, 8-bit and 16-bit activations)");
      auto both = [&](const Compressor* c, bool keep_per_image) {
        EvalResult v = evaluate_with(c, val_), t = evaluate_with(c, test_);
        if (keep_per_image) {
          reference_val_correct_ = std::move(v.correct);
          reference_test_correct_ = std::move(t.correct);
        }
        return json{{"val_accuracy", v.accuracy},
                    {"val_loss", v.loss},
                    {"test_accuracy", t.accuracy},
                    {"test_images", t.images}};
      };
      const Compressor b16(calibration_, full_dims(calibration_), q16);
      references_ =
          json{{"float", both(nullptr, false)}, {"b8", both(&b8, true)}, {"b16", both(&b16, false)}};
      write_file_atomic(path("references.json"), references_.dump(2) + "\n");
    }
    reference_val8_ = references_["b8"]["val_accuracy"].get<double>();
  }

  std::vector<CurvePoint> baseline_curve(const std::string& method) {
    std::vector<CurvePoint> curve;
    if (method == "pca_uniform") {
      for (double r : config_.uniform_ratios)
        curve.push_back(measure_pca(method, fmt::format("ratio={}", r), uniform_dims(calibration_, r)));
    } else if (method == "pca_variance") {
      for (double f : config_.variance_fractions)
        curve.push_back(measure_pca(method, fmt::format("variance={}", f), variance_dims(calibration_, f)));
    } else {
      double largest = 0;
      for (const auto& p : calibration_.points)
        largest = std::max(largest, static_cast<double>(p.channels * p.pixels) * config_.quant.baseline_bits);
      for (double f : config_.ceiling_fractions)
        curve.push_back(measure_pca(method, fmt::format("ceiling={}", f),
                                    ceiling_dims(calibration_, config_.quant, f * largest)));
    }
    return curve;
  }

  // The greedy (k only) or the mixed greedy (k and bits, `bit_levels`).
  std::vector<CurvePoint> greedy_curve(const std::string& method, const std::vector<int>& bit_levels) {
    const bool mixed = !bit_levels.empty();
    note(fmt::format("{}: greedy search over {} points on {} images", method, calibration_.points.size(),
                     greedy_images_.size()));
    const QuantSettings q = quant_for(method);  // the decisions see the quantization the curve measures
    CachedEvaluator evaluator(net_, calibration_, greedy_images_.inputs, greedy_images_.labels, q,
                              config_.eval_batch);
    GreedyOptions options = config_.greedy;
    options.bit_levels = bit_levels;
    options.measure_uncached = options.measure_uncached && !mixed;
    if (mixed) options.max_accuracy_drop = config_.mixed_max_accuracy_drop;
    const GreedyResult result = greedy_search(evaluator, calibration_.points, q, options, options_.progress);
    fs::create_directories(path("greedy"));
    // greedy/trajectory.csv (pca_greedy), trajectory_mixed.csv, trajectory_mixed_components.csv
    const std::string variant = method.substr(method.find('_') + 1);
    write_file_atomic(
        path(variant == "greedy" ? "greedy/trajectory.csv" : "greedy/trajectory_" + variant + ".csv"),
        trajectory_csv(net_->info().model, result.steps));
    if (mixed) {
      note(fmt::format("{}: {} steps in {:.0f} s", method, result.steps.size() - 1,
                       result.timing.total_seconds));
      return curve_at_checkpoints(method, result.steps);
    }
    const auto& t = result.timing;
    const json timing{{"points", t.points},
                      {"steps", static_cast<std::int64_t>(result.steps.size()) - 1},
                      {"cached_seconds_per_evaluation", t.cached_seconds_per_evaluation},
                      {"uncached_seconds_per_evaluation", t.uncached_seconds_per_evaluation},
                      {"evaluations_per_step", t.evaluations_per_step},
                      {"seconds_per_step", t.seconds_per_step},
                      {"naive_seconds_per_step", t.naive_seconds_per_step},
                      {"speedup_over_naive", t.speedup},
                      {"total_seconds", t.total_seconds},
                      {"images", greedy_images_.size()}};
    write_file_atomic(path("greedy/timing.json"), timing.dump(2) + "\n");
    note(fmt::format("greedy: {} steps in {:.0f} s, {:.1f} evaluations per step, {:.1f}x faster than naive",
                     result.steps.size() - 1, t.total_seconds, t.evaluations_per_step, t.speedup));
    return curve_at_checkpoints(method, result.steps);
  }

  // The curve of a greedy trajectory: the first step reaching each checkpoint reduction.
  std::vector<CurvePoint> curve_at_checkpoints(const std::string& method,
                                               const std::vector<GreedyStep>& steps) {
    std::vector<CurvePoint> curve;
    std::size_t next = 0;
    for (const auto& step : steps) {
      if (next >= config_.greedy_checkpoints.size()) break;
      if (step.reduction.vs_b8 + 1e-9 < config_.greedy_checkpoints[next]) continue;
      while (next < config_.greedy_checkpoints.size() &&
             step.reduction.vs_b8 + 1e-9 >= config_.greedy_checkpoints[next])
        ++next;
      curve.push_back(measure_pca(method, fmt::format("step={}", step.step), step.plan, step.plan_bits));
    }
    return curve;
  }

  // The deployment network (imagenet variant at imagenet_input) costed on the study's hardware.
  HardwarePlanCost hardware_cost() const {
    const ModelInfo& info = net_->info();
    ModelOptions imagenet{"imagenet", config_.imagenet_input.c, 1000, 1.0};
    std::vector<std::string> names;
    std::vector<std::int64_t> channels;
    for (const auto& p : calibration_.points) {
      names.push_back(p.name);
      channels.push_back(p.channels);
    }
    return HardwarePlanCost(*config_.hardware,
                            to_trace(model_spec(info.model, imagenet), config_.imagenet_input), names,
                            channels, config_.quant.coefficient_bits, config_.quant.baseline_bits);
  }

  // The greedy with the hardware cost of the whole plan as the metric's denominator; curve points
  // where the cost first falls below each checkpoint fraction of the uncompressed plan's.
  std::vector<CurvePoint> hardware_greedy_curve(const std::string& method,
                                                const std::vector<int>& bit_levels) {
    const HardwarePlanCost cost = hardware_cost();
    const std::string objective = sim::to_string(cost.objective());
    note(fmt::format("{}: hardware-aware greedy ({} on {}) over {} points", method, objective,
                     config_.hardware->arch, calibration_.points.size()));
    const QuantSettings q = quant_for(method);
    CachedEvaluator evaluator(net_, calibration_, greedy_images_.inputs, greedy_images_.labels, q,
                              config_.eval_batch);
    GreedyOptions options = config_.greedy;
    options.measure_uncached = false;
    options.bit_levels = bit_levels;
    options.hardware_cost = [&cost](const KeptDims& k, const PointBits& bits) { return cost(k, bits); };
    const GreedyResult result = greedy_search(evaluator, calibration_.points, q, options, options_.progress);
    fs::create_directories(path("greedy"));
    write_file_atomic(
        path("greedy/trajectory_" + std::string(bit_levels.empty() ? "" : "mixed_") + objective + ".csv"),
        trajectory_csv(net_->info().model, result.steps));
    note(fmt::format("{}: {} steps in {:.0f} s", method, result.steps.size() - 1,
                     result.timing.total_seconds));
    std::vector<CurvePoint> curve;
    const double start = result.steps.front().hardware_cost;
    std::size_t next = 0;
    for (const auto& step : result.steps) {
      const double ratio = step.hardware_cost / start;
      if (next >= config_.hardware_checkpoints.size()) break;
      if (ratio > config_.hardware_checkpoints[next] + 1e-12) continue;
      while (next < config_.hardware_checkpoints.size() &&
             ratio <= config_.hardware_checkpoints[next] + 1e-12)
        ++next;
      curve.push_back(measure_pca(method, fmt::format("step={}", step.step), step.plan, step.plan_bits));
    }
    return curve;
  }

  // Every plan of the PCA method `from`, with projections fine-tuned for a few of them: where PCA
  // starts to lose accuracy (the least aggressive plans losing more than learnable_min_drop on
  // validation). A fine-tuned plan that does not beat PCA on validation, and every plan not
  // fine-tuned, falls back to PCA (label suffix "+pca"): the learnable method is never behind PCA
  // at the same allocation, and the table says where it is equal.
  std::vector<CurvePoint> learnable_curve(const std::string& from, const std::string& method) {
    const auto& source = curves_.at("curve_" + from + ".csv");
    std::vector<const CurvePoint*> candidates;
    for (const auto& p : source)
      if (p.val_drop.drop > config_.learnable_min_drop) candidates.push_back(&p);
    std::sort(candidates.begin(), candidates.end(),
              [](auto* a, auto* b) { return a->reduction.vs_b8 < b->reduction.vs_b8; });
    if (candidates.size() > static_cast<std::size_t>(config_.learnable_plans))
      candidates.resize(static_cast<std::size_t>(config_.learnable_plans));
    std::vector<CurvePoint> curve;
    fs::create_directories(path("learnable"));
    for (const auto& pca : source) {
      const bool tuned = std::find(candidates.begin(), candidates.end(), &pca) != candidates.end();
      std::optional<CurvePoint> learned;
      if (tuned) learned = fine_tuned(method, pca);
      if (learned && beats_on_validation(*learned, pca)) {
        curve.push_back(*learned);
        continue;
      }
      if (learned)
        note(fmt::format("{} {}: learning did not beat PCA on validation; PCA kept", method, pca.label));
      CurvePoint fallback = pca;
      fallback.method = method;
      fallback.label = pca.label + kPcaFallback;
      curve.push_back(fallback);
    }
    return curve;
  }

  bool beats_on_validation(const CurvePoint& learned, const CurvePoint& pca) const {
    return more_images_correct(learned.val_accuracy, pca.val_accuracy, val_.size());
  }

  CurvePoint fine_tuned(const std::string& method, const CurvePoint& c) {
    const QuantSettings q = quant_for(method).with_point_bits(c.bits);
    return measure(method, c.label, c.k, compressor_of(learned_plan(method, c, q), q));
  }

  // What a learnable plan learned: its projections and, with learnable.backbone, the backbone's
  // weights they were learned with (empty: the trained network's).
  struct LearnedPlan {
    std::vector<std::optional<Projection>> projections;
    BackboneWeights backbone;
  };

  Compressor compressor_of(LearnedPlan learned, const QuantSettings& q) const {
    Compressor compressor(calibration_, std::move(learned.projections), q);
    compressor.with_backbone(std::move(learned.backbone));
    return compressor;
  }

  // The pca_ greedy whose plans learnable.backbone fine-tunes again: the last of the bits objective
  // (the paper's; the hardware-objective greedies are not fine-tuned with the backbone).
  std::string backbone_source() const {
    if (config_.mixed_bit_levels.empty()) return "pca_greedy";
    return config_.mixed_component_bits ? "pca_mixed_components" : "pca_mixed";
  }

  FinetuneOptions finetune_for(const std::string& method) const {
    FinetuneOptions options = config_.finetune;
    if (method.rfind("learnable_backbone", 0) == 0 && config_.learnable_backbone) {
      options.backbone_lr = config_.learnable_backbone->lr;
      options.steps = config_.learnable_backbone->steps;
    }
    return options;
  }

  // Plan c fine-tuned from PCA (loaded when fine-tuned before an interruption), then the
  // per-point fall-back when the study asks for it.
  LearnedPlan learned_plan(const std::string& method, const CurvePoint& c, const QuantSettings& q) {
    const std::string file = path("learnable/" + method + "_" + c.label + ".pt");
    LearnedPlan learned;
    if (fs::exists(file)) {
      learned = load_learned(method, c.k, file);
    } else {
      note(
          fmt::format("{}: fine-tuning the projections of {} ({:.2f}x)", method, c.label, c.reduction.vs_b8));
      const FinetuneOptions options = finetune_for(method);
      const Finetuned tuned =
          finetune_projections(net_, calibration_, c.k, q, train_.inputs, train_.labels, options,
                               HeldOut{greedy_images_.inputs, greedy_images_.labels}, options_.progress);
      if (const HeldOutLoss* kept = tuned.kept())
        note(fmt::format("{} {}: kept step {} of {} (held-out loss {:.4f} at PCA, {:.4f} kept)", method,
                         c.label, tuned.kept_step, options.steps, tuned.held_out.front().loss, kept->loss));
      learned = {tuned.projections, tuned.backbone};
      save_learned(learned, file);
    }
    if (config_.learnable_fall_back_per_point) learned = fall_back(method, c, q, learned);
    return learned;
  }

  // Learning interleaved with the mixed greedy ("compression-aware"): whenever the trajectory
  // reaches a checkpoint reduction, the projections of the plan reached are fine-tuned (and the
  // per-point fall-back applied) and handed to the greedy's evaluator, so every later decision
  // sees the compensated network; points changed afterwards use PCA at their new k until the next
  // checkpoint learns them. Each checkpoint plan is a curve point with its own projections.
  // Deterministic, so an interrupted run replays the same trajectory from the saved projections.
  std::vector<CurvePoint> interleaved_curve(const std::string& method) {
    note(fmt::format("{}: mixed greedy with learning at every checkpoint", method));
    const QuantSettings q = quant_for(method);
    CachedEvaluator evaluator(net_, calibration_, greedy_images_.inputs, greedy_images_.labels, q,
                              config_.eval_batch);
    GreedyOptions options = config_.greedy;
    options.bit_levels = config_.mixed_bit_levels;
    options.measure_uncached = false;
    options.max_accuracy_drop = config_.mixed_max_accuracy_drop;
    std::vector<CurvePoint> learned;  // checkpoint plans (k, bits, reduction) in trajectory order
    std::size_t next = 0;
    options.after_step = [&](int step, const Reduction& r) {
      const auto& checkpoints = config_.greedy_checkpoints;
      if (next >= checkpoints.size() || r.vs_b8 + 1e-9 < checkpoints[next]) return false;
      while (next < checkpoints.size() && r.vs_b8 + 1e-9 >= checkpoints[next]) ++next;
      if (options_.progress) std::fputc('\n', stderr);
      CurvePoint c{method, fmt::format("step={}", step), evaluator.plan(), evaluator.bits(), r, 0, 0, {}, {},
                   {}};
      evaluator.use_learned(learned_plan(method, c, q.with_point_bits(c.bits)).projections);
      learned.push_back(std::move(c));
      return true;
    };
    const GreedyResult result = greedy_search(evaluator, calibration_.points, q, options, options_.progress);
    fs::create_directories(path("greedy"));
    write_file_atomic(path("greedy/trajectory_interleaved.csv"),
                      trajectory_csv(net_->info().model, result.steps));
    std::vector<CurvePoint> curve;
    for (const auto& c : learned) {
      const QuantSettings plan_q = q.with_point_bits(c.bits);
      curve.push_back(
          measure(method, c.label, c.k,
                  compressor_of(load_learned(method, c.k, learned_file(method, c.label)), plan_q)));
    }
    return curve;
  }

  // The projections a learnable plan is measured and exported with: the fine-tuned ones, or with
  // the per-point fall-back the ones it kept (a file of their own, so the export and a resumed
  // study use exactly what the curve measured).
  std::string learned_file(const std::string& method, const std::string& label) const {
    return path("learnable/" + method + "_" + label +
                (config_.learnable_fall_back_per_point ? ".per_point.pt" : ".pt"));
  }

  // The per-point fall-back on the fine-tuning's held-out images (the greedy's decision slice),
  // with the backbone the projections were learned with.
  LearnedPlan fall_back(const std::string& method, const CurvePoint& c, const QuantSettings& q,
                        const LearnedPlan& learned) {
    const std::string file = learned_file(method, c.label);
    if (fs::exists(file)) return load_learned(method, c.k, file);  // decided before an interruption
    const BackboneSwap backbone(net_, learned.backbone);
    const PointFallBack fb =
        fall_back_per_point(net_, calibration_, c.k, q, learned.projections,
                            HeldOut{greedy_images_.inputs, greedy_images_.labels}, config_.eval_batch);
    std::string names;
    for (std::size_t p : fb.restored) names += (names.empty() ? "" : ", ") + calibration_.points[p].name;
    note(fmt::format(
        "{} {}: per-point fall-back, {} point(s) back to PCA (held-out loss {:.4f} -> {:.4f}){}{}", method,
        c.label, fb.restored.size(), fb.learned.loss, fb.kept.loss, names.empty() ? "" : ": ", names));
    LearnedPlan kept{fb.projections, learned.backbone};
    save_learned(kept, file);
    return kept;
  }

  // Learned encoders and decoders with the calibration statistics they were trained against, and
  // the backbone's weights when they were learned too.
  static void save_learned(const LearnedPlan& learned, const std::string& file) {
    fs::create_directories(fs::path(file).parent_path());  // a resumed study's first learned plan
    torch::serialize::OutputArchive archive;
    const auto& projections = learned.projections;
    for (std::size_t p = 0; p < projections.size(); ++p) {
      if (!projections[p]) continue;
      archive.write(fmt::format("{}.encoder", p), projections[p]->encoder);
      archive.write(fmt::format("{}.decoder", p), projections[p]->decoder);
      archive.write(fmt::format("{}.mean", p), projections[p]->mean);
      archive.write(fmt::format("{}.clip", p), projections[p]->clip);
    }
    if (!learned.backbone.empty())
      archive.write("backbone.size", torch::tensor(static_cast<std::int64_t>(learned.backbone.size())));
    for (std::size_t i = 0; i < learned.backbone.size(); ++i)
      archive.write(fmt::format("backbone.{}", i), learned.backbone[i]);
    archive.save_to(file + ".tmp");
    fs::rename(file + ".tmp", file);
  }

  // The learned plan in `file`; a learnable_backbone method's must carry the backbone's weights.
  LearnedPlan load_learned(const std::string& method, const KeptDims& k, const std::string& file) {
    LearnedPlan learned;
    learned.projections.resize(k.size());
    try {
      torch::serialize::InputArchive archive;
      archive.load_from(file);
      for (std::size_t p = 0; p < k.size(); ++p) {
        if (k[p] >= calibration_.points[p].channels) continue;
        const Projection init = pca_projection(calibration_.stats[p], k[p]);
        Projection pr;
        archive.read(fmt::format("{}.encoder", p), pr.encoder);
        archive.read(fmt::format("{}.decoder", p), pr.decoder);
        archive.read(fmt::format("{}.mean", p), pr.mean);
        archive.read(fmt::format("{}.clip", p), pr.clip);
        if (!pr.encoder.sizes().equals(init.encoder.sizes()) ||
            !pr.decoder.sizes().equals(init.decoder.sizes()) || !torch::equal(pr.mean, init.mean) ||
            !torch::equal(pr.clip, init.clip))
          throw InputError({file, 0}, "learned projections of point '" + calibration_.points[p].name +
                                          "' do not match calibration.pt (the study directory mixes runs)");
        learned.projections[p] = pr;
      }
      learned.backbone = read_backbone(archive, file);
      if (learned.backbone.empty() && method.rfind("learnable_backbone", 0) == 0)
        throw InputError({file, 0}, "no backbone weights (backbone.size) for method " + method +
                                        " (the study directory mixes runs)");
    } catch (const c10::Error& e) {
      throw InputError({file, 0},
                       std::string("unreadable learned projections: ") + e.what_without_backtrace());
    }
    return learned;
  }

  BackboneWeights read_backbone(torch::serialize::InputArchive& archive, const std::string& file) {
    torch::Tensor size;
    if (!archive.try_read("backbone.size", size)) return {};
    const auto parameters = net_->parameters();
    if (size.item<std::int64_t>() != static_cast<std::int64_t>(parameters.size()))
      throw InputError({file, 0}, fmt::format("backbone weights: {} tensors, the network has {} parameters",
                                              size.item<std::int64_t>(), parameters.size()));
    BackboneWeights weights(parameters.size());
    for (std::size_t i = 0; i < parameters.size(); ++i) {
      archive.read(fmt::format("backbone.{}", i), weights[i]);
      if (!weights[i].sizes().equals(parameters[i].sizes()))
        throw InputError({file, 0}, fmt::format("backbone weights: tensor {} does not match the network", i));
    }
    return weights;
  }

  void write_curves() {
    std::string out =
        "network,method,plan,reduction_vs_b8,reduction_vs_b16,reduction_vs_b8_with_overhead,"
        "reduction_vs_b16_with_overhead,val_accuracy,test_accuracy\n";
    for (const auto& [file, curve] : curves_)
      for (const auto& p : curve)
        out += fmt::format("{},{},{},{:.5f},{:.5f},{:.5f},{:.5f},{:.5f},{}\n", net_->info().model, p.method,
                           p.label, p.reduction.vs_b8, p.reduction.vs_b16, p.reduction.vs_b8_with_overhead,
                           p.reduction.vs_b16_with_overhead, p.val_accuracy,
                           p.test_accuracy ? fmt::format("{:.5f}", *p.test_accuracy) : "");
    write_file_atomic(path("curves.csv"), out);
  }

  // The plan of a method with the largest reduction (one measure) whose *validation* accuracy drop
  // against the reference is within the budget: plans are selected on validation images and the
  // test set only reports the selected plan's accuracy (no model selection on the test set).
  const CurvePoint* best_under(const std::vector<CurvePoint>& curve, double budget,
                               const std::string& reference, double Reduction::*measure) const {
    // Drops against the 16-bit reference: the bootstrap bound against 8-bit, shifted by the
    // references' difference (the two differ by a few images).
    const double shift = references_[reference]["val_accuracy"].get<double>() -
                         references_["b8"]["val_accuracy"].get<double>();
    const CurvePoint* best = nullptr;
    for (const auto& p : curve)
      if (p.val_drop.bound + shift <= budget + 1e-12 &&
          (!best || p.reduction.*measure > best->reduction.*measure))
        best = &p;
    return best;
  }

  // When no plan qualifies: the 8-bit network itself (reduction 1 against 8 bits, 2 against 16
  // if its own validation drop against the 16-bit reference is within the budget, else 1).
  json uncompressed_entry(const std::string& reference, double budget) const {
    const double drop = references_[reference]["val_accuracy"].get<double>() -
                        references_["b8"]["val_accuracy"].get<double>();
    const double reduction = reference == "b16" && drop <= budget + 1e-12 ? 2.0 : 1.0;
    const std::string accuracy_of = reduction == 1.0 && reference == "b16" ? "b16" : "b8";
    return json{{"reduction", reduction},
                {"val_accuracy", references_[accuracy_of]["val_accuracy"]},
                {"test_accuracy", references_[accuracy_of]["test_accuracy"]},
                {"plan", "uncompressed"}};
  }

  // The reduction measures a selection ranks by, each against its reference.
  static const std::vector<std::pair<std::string, double Reduction::*>>& selection_measures() {
    static const std::vector<std::pair<std::string, double Reduction::*>> measures = {
        {"vs_b8", &Reduction::vs_b8},
        {"vs_b16", &Reduction::vs_b16},
        {"vs_b8_with_overhead", &Reduction::vs_b8_with_overhead},
        {"vs_b16_with_overhead", &Reduction::vs_b16_with_overhead}};
    return measures;
  }

  // A plan selected now and not yet measured on test needs the projections it was measured with
  // (PCA's would measure another network). Checked before the previous selection is removed.
  void check_selections_measurable() const {
    for (const auto& [file, curve] : curves_)
      for (double budget : config_.budgets)
        for (const auto& [name, measure] : selection_measures()) {
          const std::string method = method_of_curve(file);
          const CurvePoint* best =
              best_under(curve, budget, name.find("b16") != std::string::npos ? "b16" : "b8", measure);
          if (best && !best->test_accuracy && !has_projections(method, *best))
            throw InputError(
                {learned_file(method, best->label), 0},
                fmt::format("the learned projections of {} {}, selected now and not yet measured on "
                            "test (learnable/ is not committed: delete curve_{}.csv to fine-tune "
                            "again)",
                            method, best->label, method));
        }
  }

  void select_and_export() {
    json methods = json::object();
    check_selections_measurable();
    previous_exports_ = read_previous_exports();
    // Plans and traces of an earlier selection must not linger beside the new ones.
    fs::remove_all(path("plans"));
    fs::remove_all(path("traces"));
    fs::create_directories(path("plans"));
    fs::create_directories(path("traces"));
    const auto& measures = selection_measures();
    for (auto& [file, curve] : curves_) {
      const std::string method = method_of_curve(file);
      bool tested = false;
      json per_budget = json::object();
      for (double budget : config_.budgets) {
        json entry = json::object();
        for (const auto& [name, measure] : measures) {
          const std::string reference = name.find("b16") != std::string::npos ? "b16" : "b8";
          CurvePoint* best = const_cast<CurvePoint*>(best_under(curve, budget, reference, measure));
          if (best && !best->test_accuracy) {  // selected on validation: now, and only now, on test
            measure_test(*best, *compressor_for(method, *best));
            tested = true;
          }
          entry[name] =
              best ? json{{"reduction", best->reduction.*measure},
                          {"val_accuracy", best->val_accuracy},
                          {"test_accuracy", *best->test_accuracy},
                          {"plan", best->label},
                          {"val_drop", {best->val_drop.drop, best->val_drop.low, best->val_drop.high}},
                          {"test_drop", {best->test_drop->drop, best->test_drop->low, best->test_drop->high}},
                          {"pca_fallback", is_fallback(best->label)}}
                   : uncompressed_entry(reference, budget);
          if (name == "vs_b8" && best) entry[name]["entropy_reduction"] = export_plan(method, budget, *best);
        }
        per_budget[budget_key(budget)] = entry;
      }
      methods[method] = per_budget;
      if (tested) write_file_atomic(path(file), curve_csv(curve));  // a resumed study keeps the test results
    }
    export_plain_traces();
    json summary{
        {"network", net_->info().model},
        {"variant", net_->info().options.variant},
        {"width", net_->info().options.width},
        {"input", trace::to_string(calibration_.input)},
        {"points", calibration_.points.size()},
        {"train_config", train_config_.file},
        {"references", references_},
        {"budgets", config_.budgets},
        {"validation", {{"images", val_.size()}, {"selection_confidence", config_.selection_confidence}}},
        {"methods", methods}};
    if (config_.hardware) summary["hardware"] = hardware_;
    if (fs::exists(path("greedy/timing.json")))
      summary["greedy_timing"] = json::parse(read_file(path("greedy/timing.json")));
    if (fs::exists(path("train/summary.json")))
      summary["training"] = json::parse(read_file(path("train/summary.json")));
    write_file_atomic(path("summary.json"), summary.dump(2) + "\n");
  }

  // Writes the plan and its traces; returns the reduction against 8-bit activations if the stored
  // values were entropy-coded (each point at its measured entropy per value: what a lossless back
  // end would add to the fixed-width reduction).
  double export_plan(const std::string& method, double budget, const CurvePoint& point) {
    const std::string name = fmt::format("{}_{}_drop{:g}", net_->info().model, method, budget * 100);
    if (const auto kept = previous_exports_.find(name); kept != previous_exports_.end() &&
                                                        !has_projections(method, point) &&
                                                        same_plan(kept->second, method, point))
      return keep_export(method, budget, point, kept->second);
    const std::unique_ptr<Compressor> compressor = compressor_for(method, point);
    const auto measures = measure_points(net_, *compressor, greedy_images_.inputs, config_.eval_batch);
    const trace::Plan plan =
        to_plan(calibration_, point.k, quant_for(method).with_point_bits(point.bits), name, method, measures);
    trace::write_plan(plan, path("plans/" + name + ".yaml"));
    if (config_.hardware) record_hardware(name, point.k, point.bits);
    write_traces(plan, method + fmt::format("_drop{:g}", budget * 100));
    return entropy_reduction(point.k, measures);
  }

  // An exported plan of the previous selection: its file and the entropy-coded reduction the
  // summary recorded, both measured with the projections the plan was selected with.
  struct Export {
    std::string label;
    std::string file;  // for messages
    std::string plan_text;
    double entropy_reduction = 0;
  };

  // An unreadable or partial summary keeps nothing (every plan is measured again).
  std::map<std::string, Export> read_previous_exports() const {
    std::map<std::string, Export> exports;
    if (!fs::exists(path("summary.json"))) return exports;
    try {
      const json summary = json::parse(read_file(path("summary.json")));
      const json methods = summary.value("methods", json::object());  // items() of a named object
      for (const auto& [method, budgets] : methods.items())
        for (double budget : config_.budgets) {
          const json entry = budgets.value(budget_key(budget), json::object()).value("vs_b8", json::object());
          const std::string name = fmt::format("{}_{}_drop{:g}", net_->info().model, method, budget * 100);
          const std::string file = path("plans/" + name + ".yaml");
          if (entry.contains("plan") && entry.contains("entropy_reduction") && fs::exists(file))
            exports[name] = {entry["plan"].get<std::string>(), file, read_file(file),
                             entry["entropy_reduction"].get<double>()};
        }
    } catch (const json::exception&) {
      return {};
    }
    return exports;
  }

  // A learnable plan with projections to measure it with: its learned ones, or PCA's (fall-back).
  bool has_projections(const std::string& method, const CurvePoint& point) const {
    return method.rfind("learnable", 0) != 0 || is_fallback(point.label) ||
           fs::exists(learned_file(method, point.label));
  }

  // The same label, k and bits, both sides read back the way a plan file is (dims_from_plan
  // leaves the bits empty when every listed point is at the baseline width).
  bool same_plan(const Export& e, const std::string& method, const CurvePoint& point) const {
    if (e.label != point.label) return false;
    const trace::Plan now =
        to_plan(calibration_, point.k, quant_for(method).with_point_bits(point.bits), e.label, method, {});
    const int baseline = config_.quant.baseline_bits;
    PointBits bits_then, bits_now;
    const KeptDims k_then =
        dims_from_plan(calibration_, trace::parse_plan(e.plan_text, e.file), &bits_then, baseline);
    return k_then == dims_from_plan(calibration_, now, &bits_now, baseline) && bits_then == bits_now;
  }

  // learnable/ is not committed: a study resumed from the committed results keeps the plans it
  // selects again as they were exported (entropy and NRMSE measured with the learned projections)
  // instead of re-measuring them with PCA's.
  double keep_export(const std::string& method, double budget, const CurvePoint& point, const Export& e) {
    const std::string name = fmt::format("{}_{}_drop{:g}", net_->info().model, method, budget * 100);
    note(fmt::format("{}: {} selected again, its exported plan kept (no learned projections here)", name,
                     point.label));
    write_file_atomic(path("plans/" + name + ".yaml"), e.plan_text);
    if (config_.hardware) record_hardware(name, point.k, point.bits);
    write_traces(trace::parse_plan(e.plan_text, e.file), method + fmt::format("_drop{:g}", budget * 100));
    return e.entropy_reduction;
  }

  // The compressor a curve point was measured with: its learned projections (learnable methods,
  // unless it fell back to PCA) or PCA.
  std::unique_ptr<Compressor> compressor_for(const std::string& method, const CurvePoint& point) {
    std::optional<Compressor> compressor;
    const std::string learned = learned_file(method, point.label);
    const QuantSettings q = quant_for(method).with_point_bits(point.bits);
    if (method.rfind("learnable", 0) == 0 && fs::exists(learned))
      compressor.emplace(compressor_of(load_learned(method, point.k, learned), q));
    else if (method.rfind("learnable", 0) == 0 && !is_fallback(point.label)) {
      // learnable/ is not committed: a study resumed from the committed results re-selects its
      // learnable plans (k per point, from the curves) without their projections, and measures
      // the plan's entropy and NRMSE with PCA at the same k.
      note(fmt::format("{}: {} not found, {} measured with PCA projections (and the trained weights)", method,
                       learned, point.label));
      compressor.emplace(calibration_, point.k, q);
    } else
      compressor.emplace(calibration_, point.k, q);
    return std::make_unique<Compressor>(std::move(*compressor));
  }

  double entropy_reduction(const KeptDims& k, const std::vector<PointMeasure>& measures) const {
    double coded = 0;
    for (std::size_t p = 0; p < k.size(); ++p) {
      const auto& pt = calibration_.points[p];
      coded += static_cast<double>(1 + pt.consumers) * static_cast<double>(pt.pixels) *
               static_cast<double>(k[p]) * measures[p].entropy_bits_per_value;
    }
    return coded > 0 ? access_bits(calibration_.points, full_dims(calibration_), config_.quant, 8) / coded
                     : 0.0;
  }

  // DRAM bytes and energy of an exported plan at the deployment shape, against the uncompressed
  // network on the same hardware (fast cost model; `capsim simulate` of the plan agrees within 2%).
  void record_hardware(const std::string& plan_name, const KeptDims& k, const PointBits& bits) {
    const HardwarePlanCost cost = hardware_cost();
    const sim::CostEstimate none = cost.estimate(full_dims(calibration_));
    const sim::CostEstimate e = cost.estimate(k, bits);
    hardware_[plan_name] =
        json{{"arch", config_.hardware->arch},
             {"overrides", config_.hardware->overrides},
             {"input", trace::to_string(config_.imagenet_input)},
             {"dram_bytes", e.dram_bytes},
             {"dram_bytes_none", none.dram_bytes},
             {"dram_bytes_ratio", static_cast<double>(e.dram_bytes) / static_cast<double>(none.dram_bytes)},
             {"energy_pj", e.energy_pj},
             {"energy_pj_none", none.energy_pj},
             {"energy_ratio", e.energy_pj / none.energy_pj}};
  }

  void write_traces(const trace::Plan& plan, const std::string& suffix) {
    const ModelInfo& info = net_->info();
    trace::Trace cifar = to_trace(net_->spec(), calibration_.input);
    trace::apply_plan(cifar, plan);
    trace::write_trace(cifar, path(fmt::format("traces/{}_cifar_{}_{}.trace", info.model,
                                               trace::to_string(calibration_.input), suffix)));
    ModelOptions imagenet{"imagenet", config_.imagenet_input.c, 1000, 1.0};
    trace::Trace full = to_trace(model_spec(info.model, imagenet), config_.imagenet_input);
    trace::apply_plan(full, plan);
    trace::write_trace(full, path(fmt::format("traces/{}_imagenet_{}_{}.trace", info.model,
                                              trace::to_string(config_.imagenet_input), suffix)));
  }

  void export_plain_traces() {
    trace::Plan none;
    write_traces(none, "none");
  }

  const StudyConfig& config_;
  const StudyOptions& options_;
  std::string dir_;
  std::chrono::steady_clock::time_point started_;
  TrainConfig train_config_;
  GraphNet net_{nullptr};
  ModelMeta meta_;
  LabeledTensors val_, test_, train_, calibration_images_, greedy_images_;
  Calibration calibration_;
  json references_;
  double reference_val8_ = 0;
  std::vector<std::uint8_t> reference_val_correct_,
      reference_test_correct_;  // the 8-bit reference, per image
  std::map<std::string, std::vector<CurvePoint>> curves_;
  json hardware_ = json::object();  // exported plan -> its hardware cost at the deployment shape
  std::map<std::string, Export> previous_exports_;  // plan name -> what the last selection exported
};

}  // namespace

namespace {

// What can only be checked against the training config: the validation images the three
// subsets need, and a deployment input the imagenet network accepts. Checked now, not after hours.
void check_against_training(const YamlView& root, const StudyConfig& c) {
  const TrainConfig train = load_train_config(c.train_config);
  const std::int64_t needed = c.calibration_per_class + c.greedy_per_class + c.val_per_class;
  if (needed > train.data.val_per_class)
    root.fail("calibration",
              fmt::format("calibration, greedy and validation images_per_class summing to at most {} "
                          "(the validation images per class of {}); they sum to {}",
                          train.data.val_per_class, c.train_config, needed));
  try {
    output_shapes(model_spec(train.model, ModelOptions{"imagenet", c.imagenet_input.c, 1000, 1.0}).nodes,
                  c.imagenet_input);
  } catch (const InputError& e) {
    root.fail("imagenet_input",
              std::string("an input the imagenet ") + train.model + " accepts (" + e.what() + ")");
  }
}

}  // namespace

StudyConfig load_study_config(const std::string& file, const std::vector<std::string>& overrides) {
  YamlDocument doc = YamlDocument::load_file(file);
  std::string text = read_file(file);
  for (const auto& o : overrides) text += "\n# --set " + o;
  for (const auto& o : overrides) doc.apply_override(o);
  const YamlView root = doc.root();
  root.require_map("a study config (configs/study/*.yaml)");
  root.allow_keys({"train", "calibration", "validation", "quantization", "baselines", "greedy", "learnable",
                   "budgets", "max_tested_drop", "imagenet_input", "eval_batch", "seed", "hardware"});
  StudyConfig c;
  c.file = file;
  c.text = text;
  c.train_config = (fs::path(file).parent_path() / root.string("train")).lexically_normal().string();
  if (!fs::exists(c.train_config)) root.fail("train", "a training config file (relative to this file)");
  if (auto v = root.find("calibration")) {
    v->allow_keys({"images_per_class"});
    c.calibration_per_class = v->integer_or("images_per_class", c.calibration_per_class, 1, 5000);
  }
  if (auto v = root.find("validation")) {
    v->allow_keys({"images_per_class", "selection_confidence"});
    c.val_per_class = v->integer_or("images_per_class", c.val_per_class, 1, 5000);
    c.selection_confidence = v->number_or("selection_confidence", c.selection_confidence, 0.5, 0.999);
  }
  if (auto v = root.find("quantization")) {
    v->allow_keys({"coefficient_bits", "baseline_bits", "matrix_bits"});
    c.quant.baseline_bits = static_cast<int>(v->integer_or("baseline_bits", c.quant.baseline_bits, 2, 16));
    // A projected point must store fewer bits than a full one, or a greedy step could save nothing.
    c.quant.coefficient_bits = static_cast<int>(
        v->integer_or("coefficient_bits", c.quant.coefficient_bits, 2, c.quant.baseline_bits));
    c.quant.matrix_bits = static_cast<int>(v->integer_or("matrix_bits", c.quant.matrix_bits, 2, 32));
  }
  if (auto v = root.find("baselines")) {
    v->allow_keys({"uniform_ratios", "variance_fractions", "ceiling_fractions"});
    c.uniform_ratios = numbers(*v, "uniform_ratios", c.uniform_ratios, 1e-4, 1.0);
    c.variance_fractions = numbers(*v, "variance_fractions", c.variance_fractions, 1e-4, 1.0);
    c.ceiling_fractions = numbers(*v, "ceiling_fractions", c.ceiling_fractions, 1e-6, 1.0);
  }
  if (auto v = root.find("greedy")) {
    v->allow_keys({"images_per_class", "fractions", "max_accuracy_drop", "max_reduction", "checkpoints",
                   "measure_uncached", "mixed_bits", "mixed_max_accuracy_drop", "component_bits"});
    c.greedy_per_class = v->integer_or("images_per_class", c.greedy_per_class, 1, 5000);
    c.greedy.fractions = numbers(*v, "fractions", c.greedy.fractions, 1e-4, 1.0);
    c.greedy.max_accuracy_drop = v->number_or("max_accuracy_drop", c.greedy.max_accuracy_drop, 0.0, 1.0);
    c.greedy.max_reduction = v->number_or("max_reduction", c.greedy.max_reduction, 1.0, 1e6);
    c.greedy_checkpoints = numbers(*v, "checkpoints", c.greedy_checkpoints, 1.0, 1e6);
    std::sort(c.greedy_checkpoints.begin(), c.greedy_checkpoints.end());
    c.greedy.measure_uncached = v->boolean_or("measure_uncached", c.greedy.measure_uncached);
    if (v->has("mixed_bits")) c.mixed_bit_levels = bit_levels(*v, "mixed_bits", c.quant.baseline_bits);
    c.mixed_max_accuracy_drop = v->number_or("mixed_max_accuracy_drop", c.mixed_max_accuracy_drop, 0.0, 1.0);
    c.mixed_component_bits = v->boolean_or("component_bits", c.mixed_component_bits);
    if (c.mixed_component_bits && c.mixed_bit_levels.empty())
      v->fail("component_bits",
              "false, or mixed_bits to step through (bits per component ride the mixed greedy)");
  }
  if (auto v = root.find("learnable")) {
    v->allow_keys({"plans", "min_drop", "steps", "batch_size", "lr", "reconstruction_weight",
                   "distillation_weight", "temperature", "eval_every", "fall_back_per_point", "interleaved",
                   "backbone"});
    c.learnable_plans = v->integer_or("plans", c.learnable_plans, 0, 100);
    c.learnable_min_drop = v->number_or("min_drop", c.learnable_min_drop, -1.0, 1.0);
    c.finetune.steps = v->integer_or("steps", c.finetune.steps, 1, 1000000);
    c.finetune.batch_size = v->integer_or("batch_size", c.finetune.batch_size, 1, 4096);
    c.finetune.lr = v->number_or("lr", c.finetune.lr, 1e-8, 10.0);
    c.finetune.reconstruction_weight =
        v->number_or("reconstruction_weight", c.finetune.reconstruction_weight, 0.0, 1e6);
    c.finetune.distillation_weight =
        v->number_or("distillation_weight", c.finetune.distillation_weight, 0.0, 1e6);
    c.finetune.temperature = v->number_or("temperature", c.finetune.temperature, 0.1, 100.0);
    c.finetune.eval_every = v->integer_or("eval_every", c.finetune.eval_every, 0, 1000000);
    c.learnable_fall_back_per_point = v->boolean_or("fall_back_per_point", c.learnable_fall_back_per_point);
    c.learnable_interleaved = v->boolean_or("interleaved", c.learnable_interleaved);
    const auto keys = v->keys();
    if (std::find(keys.begin(), keys.end(), "backbone") != keys.end()) {  // a bare key is an error too
      const auto b = v->find("backbone");
      if (!b || !b->is_map()) v->fail("backbone", "a map {lr, steps}, e.g. {lr: 1.0e-5, steps: 600}");
      b->allow_keys({"lr", "steps"});
      StudyConfig::BackboneTuning tuning;
      tuning.lr = b->number_or("lr", tuning.lr, 1e-10, 1.0);
      tuning.steps = b->integer_or("steps", tuning.steps, 1, 1000000);
      c.learnable_backbone = tuning;
    }
  }
  c.budgets = numbers(root, "budgets", c.budgets, 0.0, 1.0);
  c.max_tested_drop = root.number_or("max_tested_drop", c.max_tested_drop, 0.0, 1.0);
  if (root.has("imagenet_input")) {
    auto dims = root.integer_list("imagenet_input", 3, 1);
    c.imagenet_input = {dims[0], dims[1], dims[2]};
  }
  if (auto v = root.find("hardware")) {
    v->allow_keys({"arch", "set", "objective", "checkpoints", "matrix_bits", "mixed"});
    HardwareTarget h;
    h.arch = (fs::path(file).parent_path() / v->string("arch")).lexically_normal().string();
    if (!fs::exists(h.arch)) v->fail("arch", "an architecture file (relative to this file)");
    if (v->has("set")) h.overrides = v->string_list("set");
    const std::string objective = v->choice_or("objective", {"energy", "dram_bytes"}, "energy");
    h.objective = sim::parse_cost_objective(objective);
    sim::load_arch_spec(h.arch, h.overrides);  // validated now, not after hours of training
    c.hardware = h;
    c.hardware_checkpoints = numbers(*v, "checkpoints", c.hardware_checkpoints, 1e-6, 1.0);
    c.hardware_matrix_bits = static_cast<int>(v->integer_or("matrix_bits", c.hardware_matrix_bits, 2, 32));
    c.hardware_mixed = v->boolean_or("mixed", c.hardware_mixed);
    std::sort(c.hardware_checkpoints.rbegin(), c.hardware_checkpoints.rend());
  }
  c.eval_batch = root.integer_or("eval_batch", c.eval_batch, 1, 100000);
  c.seed = static_cast<std::uint64_t>(root.integer_or("seed", 1, 0));
  check_against_training(root, c);
  return c;
}

void run_study(const StudyConfig& config, const StudyOptions& options) {
  tune_malloc_for_training();
  torch::set_num_threads(2);
  Study(config, options).run();
}

}  // namespace capsim::workloads
