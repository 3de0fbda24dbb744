#pragma once
// The whole study for one network, resumable stage by stage (docs/compression.md):
//   train -> calibrate -> references -> baselines (uniform, variance, ceiling) -> greedy ->
//   learnable (uniform and greedy plans) -> selection (plans at each accuracy budget) -> traces
// Every stage writes its results atomically into the study directory; a rerun skips the stages
// whose results exist. Study configs: configs/study/*.yaml.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "capsim/common/yaml_view.hpp"
#include "capsim/trace/trace.hpp"
#include "capsim/workloads/data.hpp"
#include "capsim/workloads/greedy.hpp"
#include "capsim/workloads/hardware_cost.hpp"

namespace capsim::workloads {

struct StudyConfig {
  std::string file;
  std::string text;                          // the file's contents and the overrides (resume check)
  std::string train_config;                  // training config (path resolved against the study file)
  std::int64_t calibration_per_class = 100;  // class-balanced calibration images from the validation set
  std::int64_t greedy_per_class = 100;       // images the greedy search decides on (validation set)
  std::int64_t val_per_class = 300;          // validation images every curve point is measured on
  // A plan is selected at a budget when this quantile of its bootstrap validation drop is within
  // the budget (0.5: the point estimate; higher: fewer plans that meet the budget on validation
  // and miss it on test).
  double selection_confidence = 0.75;
  // The mixed (k, bits) greedy: bit widths a point steps down through (empty: no mixed methods).
  std::vector<int> mixed_bit_levels = {8, 6, 5, 4, 3, 2};
  // Also the mixed greedy with bits per component (pca_mixed_components and its learnable
  // fine-tuning): a point's k * b bits spread over its components by variance.
  bool mixed_component_bits = false;
  // The mixed greedy stops this far below the start on its decision images: its plans are for the
  // budgets (and the learnable projection fine-tunes near them), not for the far end of the curve.
  double mixed_max_accuracy_drop = 0.03;
  bool hardware_mixed = true;  // also a mixed hardware-aware greedy (pca_mixed_<objective>)
  QuantSettings quant;
  GreedyOptions greedy;
  std::vector<double> uniform_ratios = {0.75, 0.5, 0.375, 0.25, 0.1875, 0.125, 0.09375, 0.0625};
  std::vector<double> variance_fractions = {0.9999, 0.999, 0.995, 0.99, 0.98, 0.95, 0.9};
  std::vector<double> ceiling_fractions = {0.5, 0.25, 0.125, 0.0625, 0.03125};  // of the largest tensor
  std::vector<double> greedy_checkpoints = {1.5, 2, 2.5, 3, 3.5, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24};
  FinetuneOptions finetune;
  std::int64_t learnable_plans = 3;    // plans fine-tuned per method
  double learnable_min_drop = 0.0025;  // ...among those losing more than this validation accuracy with PCA
  // After fine-tuning, PCA back at every point where that lowers the held-out loss.
  bool learnable_fall_back_per_point = false;
  // The mixed greedy with learning at every checkpoint (method learnable_interleaved).
  bool learnable_interleaved = false;
  // Beyond the paper: the plans of the last PCA greedy (pca_mixed_components, else pca_mixed, else
  // pca_greedy) fine-tuned again with the backbone's weights trained too (method
  // learnable_backbone_<greedy>): how much of the projection's loss the network itself absorbs.
  struct BackboneTuning {
    double lr = 1e-5;          // the backbone's Adam rate (the projections keep learnable.lr)
    std::int64_t steps = 600;  // optimizer steps (replaces learnable.steps for these plans)
  };
  std::optional<BackboneTuning> learnable_backbone;
  std::vector<double> budgets = {0.005, 0.01};  // test-accuracy drops the table reports
  // Curve points whose validation drop is within this are also measured on test (the curves then
  // show test accuracy along the way); a plan selected at a budget is measured on test regardless.
  double max_tested_drop = 0.0;
  trace::Shape imagenet_input{3, 224, 224};
  // The deployment the hardware-aware greedy plans for and every exported plan is costed on
  // (`hardware:`; unset: neither). Its method is pca_greedy_<objective> (and learnable_...).
  std::optional<HardwareTarget> hardware;
  int hardware_matrix_bits = 8;  // side data of the hardware-aware methods' accuracy, as deployed
  std::vector<double> hardware_checkpoints = {0.99, 0.98, 0.97, 0.96, 0.95, 0.94, 0.93, 0.92, 0.9, 0.88,
                                              0.86, 0.84, 0.82, 0.8,  0.75, 0.7,  0.65, 0.6,  0.5};
  std::int64_t eval_batch = 500;
  std::uint64_t seed = 1;
};

// Disjoint class-balanced slices of the validation images (per class: a seeded permutation cut
// into calibration, greedy-decision and validation slices), so that no image serves two roles.
// InputError when a class has fewer images than the three slices need.
struct ValidationSplit {
  ImageSet calibration, greedy, val;
};
ValidationSplit split_validation(const Dataset& data, std::int64_t calibration_per_class,
                                 std::int64_t greedy_per_class, std::int64_t val_per_class,
                                 std::uint64_t seed);

// The accuracy drop of a plan against a reference on the same images, with a paired bootstrap
// over the images: resampling n images with replacement, the drop is (N+ - N-) / n where N+ counts
// images only the reference gets right and N- those only the plan gets right, so each resample is
// a multinomial draw of (N+, N-) (exact, and fast enough for thousands of resamples).
struct DropInterval {
  double drop = 0;   // reference accuracy - plan accuracy, fraction
  double low = 0;    // 2.5% quantile of the bootstrap distribution
  double high = 0;   // 97.5% quantile
  double bound = 0;  // the `confidence` quantile: what a CI-aware selection compares with a budget
};
// InputError-free: std::invalid_argument when the vectors differ in length or are empty.
DropInterval paired_drop_interval(const std::vector<std::uint8_t>& reference,
                                  const std::vector<std::uint8_t>& plan, double confidence,
                                  std::int64_t resamples = 4000, std::uint64_t seed = 1);

// The key of a budget in summary.json ("0.005").
std::string budget_key(double budget);

// Whether `accuracy` counts more correct images than `than_accuracy`, both on `images` images. A
// resumed study reads accuracies back rounded to 5 decimals, so they are compared as image counts:
// a learned plan that only ties PCA must not pass for a gain through the rounding (on MobileNetV2's
// 3,000 validation images one did: 0.9233333 against the file's 0.92333).
bool more_images_correct(double accuracy, double than_accuracy, std::int64_t images);

StudyConfig load_study_config(const std::string& path, const std::vector<std::string>& overrides = {});

struct StudyOptions {
  std::string out_dir;
  bool progress = true;
  std::int64_t limit_train = 0;  // smoke runs: train on the first N images
  std::int64_t limit_test = 0;   // smoke runs: evaluate on the first N test images
  std::int64_t limit_val = 0;    // smoke runs: validate on the first N validation images
  std::int64_t epochs = 0;       // > 0 overrides the training config
  // Only these stages (curve methods, e.g. learnable_mixed_components) and the curves they
  // fine-tune; empty: every stage of the config. What a quick reproduction of one row runs.
  std::vector<std::string> only;
};

void run_study(const StudyConfig& config, const StudyOptions& options);

// results/paper-table.md and .csv from study directories (each with summary.json).
struct PaperTable {
  std::string markdown;
  std::string csv;
};
PaperTable paper_table(const std::vector<std::string>& study_dirs);

}  // namespace capsim::workloads
