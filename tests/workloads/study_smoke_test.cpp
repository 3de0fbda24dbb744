// The whole compression pipeline end to end on a tiny subset and a tiny network (CI smoke run):
// train, calibrate, references, baselines, greedy, learnable, selection, plans, traces, table,
// and the simulator reading the traces it wrote.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "capsim/trace/plan.hpp"
#include "capsim/trace/trace.hpp"
#include "run_command.hpp"

namespace capsim {
namespace {

namespace fs = std::filesystem;
using testing::read_text;
using testing::run_command;

TEST(StudySmoke, RunsEveryStageAndResumes) {
  testing::TempDir dir("capsim_study");
  const std::string out = dir / "resnet18";
  const std::string study = std::string(CAPSIM_BIN_DIR) + "/capsim study --config " + CAPSIM_SOURCE_DIR +
                            "/configs/study/smoke.yaml --out " + out +
                            " --limit-train 600 --limit-test 300 --limit-val 300 --quiet";
  auto r = run_command(study);
  ASSERT_EQ(r.exit_code, 0) << r.err;

  for (const char* file : {"train/model.pt", "calibration.pt", "explained_variance.csv", "references.json",
                           "curve_pca_uniform.csv", "curve_pca_greedy.csv", "greedy/trajectory.csv",
                           "greedy/timing.json", "curves.csv", "summary.json"})
    EXPECT_TRUE(fs::exists(out + "/" + file)) << file;
  const auto summary = nlohmann::json::parse(read_text(out + "/summary.json"));
  EXPECT_EQ(summary["network"], "resnet18");
  for (const char* method : {"pca_uniform", "pca_greedy", "pca_variance", "pca_ceiling"})
    EXPECT_TRUE(summary["methods"].contains(method)) << method;
  EXPECT_GT(summary["greedy_timing"]["naive_seconds_per_step"].get<double>(), 0.0);

  // Every trace it wrote is valid, and the simulator runs the 224x224 deployment trace.
  int traces = 0;
  for (const auto& entry : fs::directory_iterator(out + "/traces")) {
    const trace::Trace t = trace::read_trace(entry.path().string());
    EXPECT_FALSE(t.layers.empty());
    ++traces;
  }
  EXPECT_GE(traces, 2) << "at least the uncompressed cifar and imagenet traces";
  int plans = 0;
  for (const auto& entry : fs::directory_iterator(out + "/plans")) {
    trace::read_plan(entry.path().string());
    ++plans;
  }
  EXPECT_GE(plans, 1) << "at least one method has a plan within a budget";
  EXPECT_GE(std::count(std::istreambuf_iterator<char>(
                           *std::make_unique<std::ifstream>(out + "/curve_learnable_greedy.csv")),
                       std::istreambuf_iterator<char>(), '\n'),
            2)
      << "a header and at least one fine-tuned plan";
  EXPECT_TRUE(fs::exists(out + "/study_state.json"));
  // smoke.yaml asks for the per-point fall-back: what it kept is saved beside each fine-tuning.
  int fine_tuned = 0, decided = 0;
  for (const auto& entry : fs::directory_iterator(out + "/learnable")) {
    const std::string name = entry.path().filename().string();
    const bool per_point = name.size() > 13 && name.substr(name.size() - 13) == ".per_point.pt";
    (per_point ? decided : fine_tuned) += 1;
  }
  EXPECT_GE(fine_tuned, 1);
  EXPECT_EQ(decided, fine_tuned) << "one fall-back decision per fine-tuned plan";
  // learnable.backbone: its fine-tunings (and fall-back decisions) carry the backbone's weights, the
  // others do not (torch archives keep their key names in plain text).
  int with_weights = 0;
  for (const auto& entry : fs::directory_iterator(out + "/learnable")) {
    const std::string name = entry.path().filename().string();
    const bool backbone = name.rfind("learnable_backbone_", 0) == 0;
    EXPECT_EQ(read_text(entry.path().string()).find("backbone.size") != std::string::npos, backbone) << name;
    with_weights += backbone ? 1 : 0;
  }
  EXPECT_EQ(with_weights, 2) << "learnable.plans 1: one fine-tuning and its per-point decision";

  // The mixed greedy ran, and its trajectory lowered some point's bits.
  for (const char* file :
       {"curve_pca_mixed.csv", "curve_learnable_mixed.csv", "greedy/trajectory_mixed.csv",
        "curve_pca_mixed_energy.csv", "greedy/trajectory_mixed_energy.csv", "curve_learnable_interleaved.csv",
        "greedy/trajectory_interleaved.csv", "curve_pca_mixed_components.csv",
        "curve_learnable_mixed_components.csv", "greedy/trajectory_mixed_components.csv"})
    EXPECT_TRUE(fs::exists(out + "/" + file)) << file;
  // Bits per component: its exported plans say so (a reader applies the same widths); no other does.
  for (const auto& entry : fs::directory_iterator(out + "/plans")) {
    const std::string name = entry.path().filename().string();
    const bool components = name.find("_mixed_components_") != std::string::npos;
    EXPECT_EQ(read_text(entry.path().string()).find("component_bits: variance") != std::string::npos,
              components)
        << name;
  }
  // Learning interleaved with the mixed greedy: every curve point is a checkpoint plan with its
  // own fine-tuned projections, none a PCA fall-back.
  {
    std::istringstream in(read_text(out + "/curve_learnable_interleaved.csv"));
    std::string line;
    std::getline(in, line);
    int points = 0;
    while (std::getline(in, line)) {
      ++points;
      const std::string label =
          line.substr(line.find(',') + 1, line.find(',', line.find(',') + 1) - line.find(',') - 1);
      EXPECT_EQ(label.rfind("step=", 0), 0u) << line;
      EXPECT_EQ(label.find("+pca"), std::string::npos) << line;
      EXPECT_TRUE(fs::exists(out + "/learnable/learnable_interleaved_" + label + ".pt")) << label;
    }
    EXPECT_GE(points, 1);
  }
  EXPECT_NE(read_text(out + "/greedy/trajectory_mixed.csv").find(",4,"), std::string::npos) << "a 4-bit step";

  // The fall-back rule: a learnable curve holds every plan of its PCA curve, each either
  // fine-tuned and ahead of PCA on validation, or labelled '+pca' with PCA's accuracy.
  auto rows = [&](const std::string& file) {
    std::map<std::string, double> val;  // plan label -> validation accuracy
    std::istringstream in(read_text(out + "/" + file));
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      std::vector<std::string> f;
      std::istringstream fields(line);
      for (std::string x; std::getline(fields, x, ',');) f.push_back(x);
      val[f[1]] = std::stod(f[6]);
    }
    return val;
  };
  // learnable_backbone_mixed_components: the pca_mixed_components plans again, the backbone learning too.
  for (const char* kind : {"greedy", "mixed", "mixed_components", "backbone_mixed_components"}) {
    const std::string source =
        std::string(kind).rfind("backbone_", 0) == 0 ? std::string(kind).substr(9) : kind;
    const auto pca = rows("curve_pca_" + source + ".csv");
    const auto learned = rows(std::string("curve_learnable_") + kind + ".csv");
    EXPECT_EQ(learned.size(), pca.size()) << kind;
    int tuned = 0;
    for (const auto& [label, accuracy] : learned) {
      const bool fallback = label.size() > 4 && label.substr(label.size() - 4) == "+pca";
      const std::string plan = fallback ? label.substr(0, label.size() - 4) : label;
      ASSERT_TRUE(pca.count(plan)) << kind << " " << label;
      if (fallback)
        EXPECT_DOUBLE_EQ(accuracy, pca.at(plan)) << kind << " " << label;
      else
        EXPECT_GT(accuracy, pca.at(plan)) << kind << " " << label << ": kept only when ahead of PCA";
      tuned += fallback ? 0 : 1;
    }
    EXPECT_LE(tuned, 1) << "learnable.plans: 1";
  }

  // The hardware-aware greedy never takes a step that raises the plan's energy at the deployment.
  {
    std::ifstream in(out + "/greedy/trajectory_energy.csv");
    ASSERT_TRUE(in) << "greedy/trajectory_energy.csv";
    std::string line;
    std::getline(in, line);
    ASSERT_EQ(line.substr(line.rfind(',') + 1), "hardware_cost");
    double previous = 0;
    int steps = 0;
    while (std::getline(in, line)) {
      const double cost = std::stod(line.substr(line.rfind(',') + 1));
      if (steps++ > 0) {
        EXPECT_LT(cost, previous) << line;
      }
      previous = cost;
    }
    EXPECT_GE(steps, 2) << "the start and at least one step";
  }
  for (const auto& [plan, h] : summary["hardware"].items()) {
    EXPECT_GT(h["energy_pj_none"].get<double>(), 0.0) << plan;
    if (plan.find("greedy_energy") != std::string::npos) {
      EXPECT_LT(h["energy_ratio"].get<double>(), 1.0) << plan;
    }
  }
  const std::string imagenet = out + "/traces/resnet18_imagenet_3x224x224_none.trace";
  ASSERT_TRUE(fs::exists(imagenet));
  r = run_command(std::string(CAPSIM_BIN_DIR) + "/capsim simulate --quiet --arch " + CAPSIM_SOURCE_DIR +
                  "/configs/arch/edge.yaml --trace " + imagenet + " --plan uniform:0.5 --out " +
                  (dir / "sim"));
  EXPECT_EQ(r.exit_code, 0) << r.err;

  // A rerun resumes: every stage is found and nothing is recomputed.
  const std::vector<std::string> stages = {"train/model.pt",
                                           "calibration.pt",
                                           "references.json",
                                           "curve_pca_uniform.csv",
                                           "curve_pca_variance.csv",
                                           "curve_pca_ceiling.csv",
                                           "curve_pca_greedy.csv",
                                           "curve_learnable_uniform.csv",
                                           "curve_learnable_greedy.csv",
                                           "curve_learnable_backbone_mixed_components.csv"};
  std::vector<fs::file_time_type> before;
  before.reserve(stages.size());
  for (const auto& f : stages) before.push_back(fs::last_write_time(out + "/" + f));
  r = run_command(study);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (std::size_t i = 0; i < stages.size(); ++i)
    EXPECT_EQ(fs::last_write_time(out + "/" + stages[i]), before[i]) << stages[i] << " was recomputed";

  // results/study commits no learned projections: a study resumed from a committed directory that
  // must run the interleaved stage writes them into a learnable/ it creates (it once stopped with
  // "Parent directory .../learnable does not exist").
  fs::remove_all(out + "/learnable");
  fs::remove(out + "/curve_learnable_interleaved.csv");
  r = run_command(study);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(out + "/curve_learnable_interleaved.csv"));

  // Resuming with other limits would mix results: refused, naming the state file and key.
  std::string other = study;
  other.replace(other.find("--limit-val 300"), 15, "--limit-val 200");
  r = run_command(other);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("study_state.json: key 'limit_val'"), std::string::npos) << r.err;

  r = run_command(std::string(CAPSIM_BIN_DIR) + "/capsim table " + out + " --out " + (dir / "table.md"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string table = read_text(dir / "table.md");
  EXPECT_NE(table.find("| resnet18 | PCA + greedy |"), std::string::npos);
  EXPECT_NE(table.find("energy vs none"), std::string::npos);
  // The expectations row compares learnable and PCA on the same fine-tuned plans ("2.00x: a% vs b%").
  EXPECT_NE(table.find("## The paper's expectations"), std::string::npos);
  EXPECT_NE(table.find("% vs "), std::string::npos) << table;
  EXPECT_TRUE(fs::exists(dir / "table.csv"));

  // --only: a stage and the curve it fine-tunes, run from the same trained network in a fresh
  // directory, give byte for byte the rows the whole study gave (what scripts/reproduce --headline
  // relies on), and no other stage runs.
  const std::string only = dir / "only";
  fs::create_directories(only + "/train");
  fs::copy_file(out + "/train/model.pt", only + "/train/model.pt");
  std::string only_study = study;
  only_study.replace(only_study.find(out), out.size(), only);
  r = run_command(only_study + " --only learnable_mixed");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> curves;
  for (const auto& entry : fs::directory_iterator(only))
    if (entry.path().extension() == ".csv" && entry.path().filename().string().rfind("curve_", 0) == 0)
      curves.push_back(entry.path().filename().string());
  std::sort(curves.begin(), curves.end());
  EXPECT_EQ(curves, (std::vector<std::string>{"curve_learnable_mixed.csv", "curve_pca_mixed.csv"}));
  for (const auto& curve : curves)
    EXPECT_EQ(read_text(only + "/" + curve), read_text(out + "/" + curve)) << curve;
  // ...including a row that kept its learned projections (a fall-back row would only repeat PCA).
  std::istringstream learned(read_text(only + "/curve_learnable_mixed.csv"));
  int learned_rows = 0;
  for (std::string line; std::getline(learned, line);) {
    const std::string label = line.substr(0, line.find(',', line.find(',') + 1));
    if (label.rfind("learnable_mixed,", 0) == 0 && label.substr(label.size() - 4) != "+pca") ++learned_rows;
  }
  EXPECT_GE(learned_rows, 1) << read_text(only + "/curve_learnable_mixed.csv");
  const auto only_summary = nlohmann::json::parse(read_text(only + "/summary.json"));
  EXPECT_EQ(only_summary["methods"].size(), 2U) << only_summary["methods"].dump();

  // --only in a finished study computes nothing and keeps every other method's curve, plans and
  // summary entries (selection rewrites plans/ and summary.json from the curves it holds).
  const std::string summary_before = read_text(out + "/summary.json");
  std::vector<std::string> plans_before;
  for (const auto& entry : fs::directory_iterator(out + "/plans"))
    plans_before.push_back(entry.path().string());
  r = run_command(study + " --only learnable_mixed");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_text(out + "/summary.json"), summary_before);
  std::vector<std::string> plans_after;
  for (const auto& entry : fs::directory_iterator(out + "/plans"))
    plans_after.push_back(entry.path().string());
  std::sort(plans_before.begin(), plans_before.end());
  std::sort(plans_after.begin(), plans_after.end());
  EXPECT_EQ(plans_after, plans_before);

  // A curve whose reductions were written under another accounting (here a stale column against
  // 16-bit) is recomputed from its plans' dims and bits when reused; nothing else changes.
  std::map<std::string, std::string> plan_texts;
  for (const auto& plan : plans_before) plan_texts[plan] = read_text(plan);
  const std::string curve_file = out + "/curve_learnable_mixed.csv";
  const std::string curve_before = read_text(curve_file);
  std::string stale;
  {
    std::istringstream stale_rows(curve_before);
    for (std::string line; std::getline(stale_rows, line);) {
      if (!stale.empty()) {  // after the header: every row's reduction_vs_b16 (field 4) set to 1
        const std::size_t third = line.find(',', line.find(',', line.find(',') + 1) + 1);
        line.replace(third + 1, line.find(',', third + 1) - third - 1, "1.00000");
      }
      stale += line + "\n";
    }
  }
  ASSERT_NE(stale, curve_before);
  testing::write_text(curve_file, stale);
  const std::string verbose = study.substr(0, study.rfind(" --quiet"));  // its notes say what it did
  r = run_command(verbose);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_text(curve_file), curve_before);
  EXPECT_NE(r.err.find("curve_learnable_mixed.csv recomputed"), std::string::npos) << r.err;
  for (const auto& [plan, text] : plan_texts) EXPECT_EQ(read_text(plan), text) << plan;
  EXPECT_EQ(read_text(out + "/summary.json"), summary_before);

  // A selected learned plan whose projections the directory does not hold (results/study commits
  // no learnable/): learnable_greedy's selected PCA fall-back relabelled as learned. Its exported
  // plan (entropy and NRMSE measured with projections this directory no longer has; marked here)
  // is kept as it was, not re-measured with PCA's.
  const std::string greedy_curve = out + "/curve_learnable_greedy.csv";
  const std::string fallback =
      nlohmann::json::parse(summary_before)["methods"]["learnable_greedy"]["0.01"]["vs_b8"]["plan"];
  ASSERT_EQ(fallback.substr(fallback.size() - 4), "+pca") << summary_before;
  const std::string learned_label = fallback.substr(0, fallback.size() - 4);
  std::string greedy_text = read_text(greedy_curve);
  const std::size_t row = greedy_text.find("," + fallback + ",");
  ASSERT_NE(row, std::string::npos);
  greedy_text.replace(row + 1, fallback.size(), learned_label);
  testing::write_text(greedy_curve, greedy_text);
  r = run_command(study);  // selects the relabelled row; the previous export was another label
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string plan_file = out + "/plans/resnet18_learnable_greedy_drop1.yaml";
  const std::string marked = read_text(plan_file) + "# measured with projections no longer here\n";
  testing::write_text(plan_file, marked);
  r = run_command(verbose);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_text(plan_file), marked);
  EXPECT_NE(r.err.find("resnet18_learnable_greedy_drop1: " + learned_label +
                       " selected again, its exported plan kept"),
            std::string::npos)
      << r.err;

  // Not yet measured on test, such a plan cannot be: its test accuracy needs its projections.
  // Refused (exit 2) before the previous selection is removed.
  std::istringstream greedy_rows(greedy_text);
  std::string untested;
  for (std::string line; std::getline(greedy_rows, line);) {
    if (line.find("," + learned_label + ",") != std::string::npos) {
      std::size_t start = 0;  // fields 13 to 15 emptied: the test accuracy and its interval
      for (int field = 0; field < 12; ++field) start = line.find(',', start) + 1;
      const std::size_t end = line.rfind(',');  // before dims, the last field
      line.replace(start, end - start, ",,");
    }
    untested += line + "\n";
  }
  testing::write_text(greedy_curve, untested);
  r = run_command(study);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("the learned projections of learnable_greedy " + learned_label), std::string::npos)
      << r.err;
  EXPECT_EQ(read_text(plan_file), marked) << "the previous selection is left as it was";
}

TEST(StudySmoke, BadStudyConfigIsReported) {
  testing::TempDir dir("capsim_study_bad");
  testing::write_text(dir / "bad.yaml", "train: ../nowhere.yaml\ngredy: {}\n");
  auto r = run_command(std::string(CAPSIM_BIN_DIR) + "/capsim study --config " + (dir / "bad.yaml") +
                       " --out " + (dir / "out"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("did you mean 'greedy'?"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "out"));

  // learnable.backbone must be a map {lr, steps}; a bare key would silently run nothing.
  for (const char* backbone : {"backbone: 0.001", "backbone:", "backbone: {lr: 1.0e-5, step: 600}"}) {
    testing::write_text(dir / "bad_backbone.yaml", std::string("train: ") + CAPSIM_SOURCE_DIR +
                                                       "/configs/train/smoke.yaml\nlearnable:\n  " +
                                                       backbone + "\n");
    r = run_command(std::string(CAPSIM_BIN_DIR) + "/capsim study --config " + (dir / "bad_backbone.yaml") +
                    " --out " + (dir / "out"));
    EXPECT_EQ(r.exit_code, 2) << backbone;
    EXPECT_NE(r.err.find("learnable.backbone"), std::string::npos) << backbone << ": " << r.err;
    EXPECT_NE(r.err.find("bad_backbone.yaml:3"), std::string::npos) << backbone << ": " << r.err;
    EXPECT_FALSE(fs::exists(dir / "out"));
  }

  // --only names stages of the config; anything else is refused before the directory is made.
  r = run_command(std::string(CAPSIM_BIN_DIR) + "/capsim study --config " + CAPSIM_SOURCE_DIR +
                  "/configs/study/smoke.yaml --out " + (dir / "out") + " --only pca_uniform,learnable_mixd");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--only: key 'stage'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("got 'learnable_mixd'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("learnable_mixed_components"), std::string::npos) << "lists the stages: " << r.err;
  EXPECT_FALSE(fs::exists(dir / "out"));
}

}  // namespace
}  // namespace capsim
