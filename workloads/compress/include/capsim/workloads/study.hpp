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
  std::string text;                         // the file's contents and the overrides (resume check)
  std::string train_config;                 // training config (path resolved against the study file)
  std::int64_t calibration_per_class = 100; // class-balanced calibration images from the validation set
  std::int64_t greedy_per_class = 100;      // images the greedy search decides on (validation set)
  std::int64_t val_per_class = 200;         // validation images every curve point is measured on
  QuantSettings quant;
  GreedyOptions greedy;
  std::vector<double> uniform_ratios = {0.75, 0.5, 0.375, 0.25, 0.1875, 0.125, 0.09375, 0.0625};
  std::vector<double> variance_fractions = {0.9999, 0.999, 0.995, 0.99, 0.98, 0.95, 0.9};
  std::vector<double> ceiling_fractions = {0.5, 0.25, 0.125, 0.0625, 0.03125};   // of the largest tensor
  std::vector<double> greedy_checkpoints = {1.5, 2, 2.5, 3, 3.5, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24};
  FinetuneOptions finetune;
  std::int64_t learnable_plans = 3;         // plans fine-tuned per method
  double learnable_min_drop = 0.0025;       // ...among those losing more than this validation accuracy with PCA
  std::vector<double> budgets = {0.005, 0.01};   // test-accuracy drops the table reports
  double max_tested_drop = 0.015;           // curve points whose validation drop exceeds this skip the test set
  trace::Shape imagenet_input{3, 224, 224};
  // The deployment the hardware-aware greedy plans for and every exported plan is costed on
  // (`hardware:`; unset: neither). Its method is pca_greedy_<objective> (and learnable_...).
  std::optional<HardwareTarget> hardware;
  int hardware_matrix_bits = 8;   // side data of the hardware-aware methods' accuracy, as deployed
  std::vector<double> hardware_checkpoints = {0.99, 0.98, 0.97, 0.96, 0.95, 0.94, 0.93, 0.92, 0.9, 0.88,
                                              0.86, 0.84, 0.82, 0.8, 0.75, 0.7, 0.65, 0.6, 0.5};
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
                                 std::int64_t greedy_per_class, std::int64_t val_per_class, std::uint64_t seed);

// The key of a budget in summary.json ("0.005").
std::string budget_key(double budget);

StudyConfig load_study_config(const std::string& path, const std::vector<std::string>& overrides = {});

struct StudyOptions {
  std::string out_dir;
  bool progress = true;
  std::int64_t limit_train = 0;   // smoke runs: train on the first N images
  std::int64_t limit_test = 0;    // smoke runs: evaluate on the first N test images
  std::int64_t limit_val = 0;     // smoke runs: validate on the first N validation images
  std::int64_t epochs = 0;        // > 0 overrides the training config
};

void run_study(const StudyConfig& config, const StudyOptions& options);

// results/paper-table.md and .csv from study directories (each with summary.json).
struct PaperTable {
  std::string markdown;
  std::string csv;
};
PaperTable paper_table(const std::vector<std::string>& study_dirs);

}  // namespace capsim::workloads
