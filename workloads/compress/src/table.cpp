// results/paper-table.md and .csv from the study directories' summary.json files.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "capsim/common/atomic_file.hpp"
#include "capsim/common/error.hpp"
#include "capsim/workloads/study.hpp"

namespace capsim::workloads {
namespace {

using json = nlohmann::json;

const std::vector<std::pair<std::string, std::string>> kMethods = {
    {"pca_uniform", "PCA + uniform"},
    {"pca_greedy", "PCA + greedy"},
    {"learnable_uniform", "learnable + uniform"},
    {"learnable_greedy", "learnable + greedy"},
    {"pca_variance", "PCA + variance threshold (Chmiel et al.)"},
    {"pca_ceiling", "PCA + size ceiling (Price & Tanner)"},
    {"pca_greedy_energy", "PCA + energy-aware greedy"},
    {"learnable_greedy_energy", "learnable + energy-aware greedy"},
    {"pca_greedy_dram_bytes", "PCA + DRAM-aware greedy"},
    {"learnable_greedy_dram_bytes", "learnable + DRAM-aware greedy"},
    {"pca_mixed", "PCA + mixed (k, bits) greedy"},
    {"learnable_mixed", "learnable + mixed (k, bits) greedy"},
    {"learnable_interleaved", "learnable + mixed greedy, learning interleaved"},
    {"pca_mixed_components", "PCA + mixed greedy, bits per component"},
    {"learnable_mixed_components", "learnable + mixed greedy, bits per component"},
    {"learnable_backbone_mixed_components",
     "learnable + backbone fine-tuned, mixed greedy, bits per component"},
    {"learnable_backbone_mixed", "learnable + backbone fine-tuned, mixed (k, bits) greedy"},
    {"learnable_backbone_greedy", "learnable + backbone fine-tuned, greedy"},
    {"pca_mixed_energy", "PCA + energy-aware mixed greedy"},
    {"learnable_mixed_energy", "learnable + energy-aware mixed greedy"},
    {"pca_mixed_dram_bytes", "PCA + DRAM-aware mixed greedy"},
    {"learnable_mixed_dram_bytes", "learnable + DRAM-aware mixed greedy"}};

// "+0.42 [+0.10, +0.75]": an accuracy drop in points with its 95% paired-bootstrap interval.
std::string drop_cell(const json& entry, const char* key) {
  if (!entry.contains(key)) return "-";
  const auto& d = entry[key];
  return fmt::format("{:+.2f} [{:+.2f}, {:+.2f}]", 100 * d[0].get<double>(), 100 * d[1].get<double>(),
                     100 * d[2].get<double>());
}

// Whether the test drop lies inside the validation drop's 95% interval.
std::string agreement_cell(const json& entry) {
  if (!entry.contains("val_drop") || !entry.contains("test_drop")) return "-";
  const double test = entry["test_drop"][0].get<double>();
  return test >= entry["val_drop"][1].get<double>() - 1e-12 &&
                 test <= entry["val_drop"][2].get<double>() + 1e-12
             ? "yes"
             : "no";
}

// DRAM bytes and energy of a method's exported plan at a budget, against the uncompressed network,
// at the study's deployment (summary.json `hardware`), as "0.812 | 0.934", or "- | -".
std::pair<std::string, std::string> hardware_cells(const json& study, const std::string& method,
                                                   double budget) {
  if (!study.contains("hardware")) return {"-", "-"};
  const std::string plan =
      fmt::format("{}_{}_drop{:g}", study["network"].get<std::string>(), method, budget * 100);
  if (!study["hardware"].contains(plan)) return {"-", "-"};
  const auto& h = study["hardware"][plan];
  return {fmt::format("{:.3f}", h["dram_bytes_ratio"].get<double>()),
          fmt::format("{:.3f}", h["energy_ratio"].get<double>())};
}

const std::vector<std::pair<std::string, std::string>> kMeasures = {
    {"vs_b8", "vs 8-bit"},
    {"vs_b16", "vs 16-bit"},
    {"vs_b8_with_overhead", "vs 8-bit, with matrices"},
    {"vs_b16_with_overhead", "vs 16-bit, with matrices"}};

json load_summary(const std::string& dir) {
  const std::string file = dir + "/summary.json";
  json s;
  try {
    s = json::parse(read_file(file));
  } catch (const json::exception& e) {
    throw InputError({file, 0}, std::string("not a study summary: ") + e.what());
  }
  for (const char* key : {"network", "width", "points", "references", "budgets", "methods"})
    if (!s.contains(key))
      throw InputError({file, 0}, key, "a key of a study summary (written by capsim study)");
  return s;
}

// The entry of a method at a budget, or nullptr when that study did not report it.
const json* entry_of(const json& study, const std::string& method, const std::string& budget) {
  const auto& methods = study["methods"];
  if (!methods.contains(method) || !methods[method].contains(budget)) return nullptr;
  return &methods[method][budget];
}

// How the rows of one budget fared on test: the acceptance reads "no row meets the budget on
// validation and misses it on test by more than the interval", so the table counts the rows whose
// test drop exceeds the budget, those whose whole 95% test interval lies above it, and those whose
// test drop lies outside the validation interval.
struct TestOutcome {
  int rows = 0;                // rows measured on test with an interval (compressed selections)
  int exceeding = 0;           // test drop > budget
  int significant = 0;         // lower end of the test interval > budget
  int touching = 0;            // lower end equal to the budget (to 1e-9): not above it
  int outside_validation = 0;  // test drop outside the validation interval
  int differing = 0;           // test - validation drop outside its own 95% interval
  double largest_excess = 0;   // max(test drop - budget), fraction
};

// Whether a validation and a test drop, [drop, low, high] with 95% intervals each, differ by more
// than the 95% interval of their difference. The two image sets are independent, so the standard
// errors (each interval's half-width / 1.96, the normal approximation of the bootstrap) add in
// quadrature; the *agree* column instead ignores the test drop's own uncertainty.
bool drops_differ(const json& val, const json& test) {
  const auto se = [](const json& d) { return (d[2].get<double>() - d[1].get<double>()) / (2 * 1.96); };
  const double difference = test[0].get<double>() - val[0].get<double>();
  return std::abs(difference) > 1.96 * std::hypot(se(val), se(test)) + 1e-12;
}

TestOutcome test_outcome(const std::vector<json>& studies, const std::string& key, double budget) {
  TestOutcome o;
  for (const auto& s : studies)
    for (const auto& [method, title] : kMethods) {
      const json* e = entry_of(s, method, key);
      if (!e || !(*e)["vs_b8"].contains("test_drop")) continue;
      const auto& b8 = (*e)["vs_b8"];
      const double drop = b8["test_drop"][0].get<double>(), low = b8["test_drop"][1].get<double>();
      ++o.rows;
      o.exceeding += drop > budget + 1e-9;
      o.significant += low > budget + 1e-9;
      o.touching += std::abs(low - budget) <= 1e-9;
      o.outside_validation += agreement_cell(b8) == "no";
      o.differing += b8.contains("val_drop") && drops_differ(b8["val_drop"], b8["test_drop"]);
      o.largest_excess = std::max(o.largest_excess, drop - budget);
    }
  return o;
}

std::string test_outcome_line(const std::vector<json>& studies, const std::string& key, double budget) {
  const TestOutcome o = test_outcome(studies, key, budget);
  if (o.rows == 0) return "";
  const json& first = studies.front();
  // The shipped studies share one confidence; the first study's is quoted (0.75 when it records none).
  const double confidence = first.contains("validation") && first["validation"].is_object()
                                ? first["validation"].value("selection_confidence", 0.75)
                                : 0.75;
  return fmt::format(
      "\n**On test:** {} of {} rows with a test interval exceed the {:.1f}% budget{}; {} by more than their "
      "interval (its lower end above the budget){}. The test drop lies outside the validation interval in {} "
      "rows; test and validation drops differ by more than the 95% interval of their difference (independent "
      "image sets) in {}. At selection confidence {:g} a plan whose bound sits at the budget exceeds it with "
      "probability "
      "about {:.2g} (docs/compression.md, *Selection*; fall-back rows repeat their PCA row).\n",
      o.exceeding, o.rows, 100.0 * budget,
      o.exceeding > 0 ? fmt::format(", by at most {:.2f} points", 100.0 * o.largest_excess) : "",
      o.significant, o.touching > 0 ? fmt::format("; in {} its lower end equals the budget", o.touching) : "",
      o.outside_validation, o.differing, confidence, 1.0 - confidence);
}

std::string percent(const json& v) { return fmt::format("{:.2f}", 100.0 * v.get<double>()); }

// The reduction a method reached at a budget (1 when it reached none).
double reduction_of(const json& study, const std::string& method, const std::string& budget,
                    const char* measure) {
  const json* e = entry_of(study, method, budget);
  return e ? (*e)[measure]["reduction"].get<double>() : 1.0;
}

std::string compare(double a, double b) {
  if (a > b * 1.005) return "ahead";
  if (b > a * 1.005) return "behind";
  return "equal";
}

// Validation accuracy of learnable and PCA projections on the same plans (curves.csv), at the
// largest reduction both were measured at: "2.54x: 91.20% vs 89.15%".
std::string learnable_at_largest_ratio(const std::string& study_dir, const std::string& kind) {
  const std::string file = study_dir + "/curves.csv";
  if (!std::filesystem::exists(file)) return "-";
  std::map<std::pair<std::string, std::string>, std::pair<double, double>>
      rows;  // (method, plan) -> (ratio, val)
  std::istringstream in(read_file(file));
  std::string line;
  std::getline(in, line);  // header: network,method,plan,reduction_vs_b8,...,val_accuracy,test_accuracy
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::istringstream fields(line);
    for (std::string x; std::getline(fields, x, ',');) f.push_back(x);
    if (f.size() < 8) continue;  // a trailing empty test_accuracy yields no field
    rows[{f[1], f[2]}] = {std::stod(f[3]), std::stod(f[7])};
  }
  double best_ratio = 0, learnable = 0, pca = 0;
  for (const auto& [key, value] : rows) {
    if (key.first != "learnable_" + kind) continue;
    const auto partner = rows.find({"pca_" + kind, key.second});
    if (partner == rows.end() || value.first <= best_ratio) continue;
    best_ratio = value.first;
    learnable = value.second;
    pca = partner->second.second;
  }
  if (best_ratio == 0) return "-";
  return fmt::format("{:.2f}x: {:.2f}% vs {:.2f}%", best_ratio, 100.0 * learnable, 100.0 * pca);
}

// The paper's expectations, checked on this measurement (at the loosest budget).
std::string claims_section(const std::vector<json>& studies, const std::string& budget, double budget_value) {
  std::string md =
      fmt::format("\n## The paper's expectations against this measurement ({:.1f}% budget, vs 8-bit)\n\n",
                  100.0 * budget_value);
  md +=
      "| network | greedy vs uniform (PCA) | greedy vs uniform (learnable) | learnable vs PCA (uniform) | "
      "learnable vs PCA (greedy) | learnable vs PCA (mixed) | mixed vs k-only greedy (learnable) | best vs "
      "8-bit | "
      "best vs 16-bit (paper: 2.91x-5.97x) | learnable vs PCA, most aggressive "
      "uniform plan (val) | learnable vs PCA, most aggressive greedy plan (val) "
      "|\n|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& s : studies) {
    const auto r = [&](const char* method, const char* measure = "vs_b8") {
      return reduction_of(s, method, budget, measure);
    };
    const auto cell = [](double a, double b) {
      return fmt::format("{}: {:.2f}x vs {:.2f}x", compare(a, b), a, b);
    };
    double best8 = 1.0, best16 = 1.0;
    for (const auto& [method, title] : kMethods) {
      best8 = std::max(best8, r(method.c_str(), "vs_b8"));
      best16 = std::max(best16, r(method.c_str(), "vs_b16"));
    }
    const std::string dir = s["study_dir"].get<std::string>();
    md += fmt::format(
        "| {} | {} | {} | {} | {} | {} | {} | {:.2f}x | {:.2f}x | {} | {} |\n",
        s["network"].get<std::string>(), cell(r("pca_greedy"), r("pca_uniform")),
        cell(r("learnable_greedy"), r("learnable_uniform")), cell(r("learnable_uniform"), r("pca_uniform")),
        cell(r("learnable_greedy"), r("pca_greedy")), cell(r("learnable_mixed"), r("pca_mixed")),
        cell(r("learnable_mixed"), r("learnable_greedy")), best8, best16,
        learnable_at_largest_ratio(dir, "uniform"), learnable_at_largest_ratio(dir, "greedy"));
  }
  md +=
      "\nThe paper expects greedy ahead of uniform and learnable ahead of PCA at aggressive ratios. Each "
      "budget is checked on 3,000 validation images with a paired bootstrap interval (measured on VGG16: "
      "the drop's 95% interval is about +-0.6 points on validation and +-0.35 on the 10,000 test images at a "
      "1-point drop); neighbouring plans on a curve can still swap, so read the "
      "curves (`curves.csv`) beside the table. "
      "The last two columns compare both projections on the same plan, at the largest reduction the study "
      "fine-tuned.\n";
  return md;
}

}  // namespace

PaperTable paper_table(const std::vector<std::string>& study_dirs) {
  std::vector<json> studies;
  for (const auto& dir : study_dirs) {
    studies.push_back(load_summary(dir));
    studies.back()["study_dir"] = dir;
  }
  PaperTable t;
  std::string& md = t.markdown;
  md += "# Activation memory-access reduction at a test-accuracy budget\n\n";
  md +=
      "Reproduction of Tai, Teng, Chang, Wu, *Compression-aware Projection with Greedy Dimension Reduction "
      "for "
      "CNN Activations* (arXiv 2110.08828) on Fashion-MNIST, `cifar` variants of the networks at 1x32x32. "
      "Generated by `scripts/reproduce` (`capsim table`); method and caveats in docs/compression.md.\n\n";
  md +=
      "**Paper's claim:** 2.91x-5.97x less activation memory access with negligible accuracy drop on "
      "MobileNetV2, ResNet18 and VGG16 (full text not public; the baseline bit width is not stated, 16-bit "
      "activations is consistent with the authors' later papers).\n\n";
  md +=
      "Activation memory access counts every compressed tensor once written and once read per consuming "
      "layer. "
      "Projected coefficients are stored at 8 bits; tensors left at full dimension stay at the baseline "
      "width (8 bits in the accuracy model) against either reference, so a plan's reduction against 16-bit "
      "activations is twice its reduction against 8-bit (the 8-bit network itself: 2x). The *mixed* methods "
      "choose (k, bits) per tensor, 2 to 8 bits, "
      "and "
      "may store a tensor unprojected at fewer bits (docs/compression.md). *With matrices* adds the encoder, "
      "decoder, means and quantization "
      "parameters (16-bit) fetched once per producing and consuming layer of an inference. At 1x32x32 the "
      "deep layers' tensors are tiny (a 256-channel 2x2 map holds 1,024 values, its encoder and decoder at "
      "k = 128 hold 65,536), so with matrices a plan can move more bytes than it saves: below 1x. At a "
      "3x224x224 deployment the same plans are costed in hardware by the simulator (results/default/).\n\n";
  md +=
      "## Reference accuracies (test set)\n\n| network | width | points | float | 8-bit activations | 16-bit "
      "activations |\n";
  md += "|---|---|---|---|---|---|\n";
  for (const auto& s : studies) {
    const auto& r = s["references"];
    md += fmt::format("| {} | {} | {} | {}% | {}% | {}% |\n", s["network"].get<std::string>(),
                      s["width"].get<double>(), s["points"].get<int>(), percent(r["float"]["test_accuracy"]),
                      percent(r["b8"]["test_accuracy"]), percent(r["b16"]["test_accuracy"]));
  }
  std::vector<std::string> earlier;  // studies from before intervals and the mixed greedy
  for (const auto& s : studies)
    if (!s.contains("validation")) earlier.push_back(s["network"].get<std::string>());
  if (!earlier.empty())
    md += fmt::format(
        "\n**{}**: studies of the earlier protocol (2,000 validation images, selection on the point "
        "estimate, no "
        "intervals, no mixed greedy); `scripts/reproduce {}` regenerates them.\n",
        fmt::join(earlier, ", "), fmt::join(earlier, " "));
  t.csv =
      "network,method,budget,measure,reduction,val_drop,test_accuracy,test_drop,plan,dram_bytes_vs_none,"
      "energy_vs_none\n";
  for (const auto& budget : studies.empty() ? json::array() : studies.front()["budgets"]) {
    const std::string key = budget_key(budget.get<double>());
    md += fmt::format("\n## Accuracy drop at most {:.1f}%\n\n", 100.0 * budget.get<double>());
    md +=
        "Plans are selected on 3,000 validation images held out from training: the largest reduction whose "
        "validation drop is within the budget at the study's selection confidence (the 75% quantile of its "
        "paired bootstrap distribution, configs/study `validation.selection_confidence`). The test columns "
        "report "
        "the selected plan (against 8-bit activations) on the 10,000 test images; drops are in points with "
        "their "
        "95% paired-bootstrap intervals, and *agree* says whether the test drop lies inside the validation "
        "interval. *Entropy-coded* is the reduction against 8-bit activations if every stored value were "
        "entropy-coded at its point's measured entropy: what a lossless back end would add. A learnable row "
        "marked *(PCA fall-back)* selected a plan whose learned projections did not beat PCA on validation "
        "(or "
        "were not fine-tuned), so it is measured with PCA. "
        "The last two columns cost the selected plan in hardware: total DRAM bytes and energy of the "
        "imagenet "
        "variant at the study's deployment (configs/study `hardware:`, the edge preset at 3x224x224, batch "
        "1, "
        "folding and 8-bit side data) over the uncompressed network's, from the simulator's cost model "
        "(within 2% of `capsim simulate`).\n\n";
    md += "| network | method |";
    for (const auto& [m, title] : kMeasures) md += " " + title + " |";
    md +=
        " entropy-coded vs 8-bit | val drop [95% CI] | test accuracy | test drop [95% CI] | agree | DRAM "
        "bytes vs none | "
        "energy vs none |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    for (const auto& s : studies) {
      const auto& r = s["references"];
      for (const auto& [method, title] : kMethods) {
        const json* found = entry_of(s, method, key);
        if (!found) continue;
        const auto& entry = *found;
        const bool fallback = entry["vs_b8"].value("pca_fallback", false);
        md += fmt::format("| {} | {}{} |", s["network"].get<std::string>(), title,
                          fallback ? " (PCA fall-back)" : "");
        const auto [dram_cell, energy_cell] = entry["vs_b8"]["plan"] == "uncompressed"
                                                  ? std::pair<std::string, std::string>{"1.000", "1.000"}
                                                  : hardware_cells(s, method, budget.get<double>());
        for (const auto& [m, mtitle] : kMeasures) {
          const std::string ref = m.find("b16") != std::string::npos ? "b16" : "b8";
          const auto& e = entry[m];
          md += fmt::format(" {:.2f}x |", e["reduction"].get<double>());
          t.csv += fmt::format(
              "{},{},{},{},{:.4f},{:.5f},{:.5f},{:.5f},{},{},{}\n", s["network"].get<std::string>(), method,
              budget.get<double>(), m, e["reduction"].get<double>(),
              r[ref]["val_accuracy"].get<double>() - e["val_accuracy"].get<double>(),
              e["test_accuracy"].get<double>(),
              r[ref]["test_accuracy"].get<double>() - e["test_accuracy"].get<double>(),
              e["plan"].get<std::string>(), m == "vs_b8" ? dram_cell : "", m == "vs_b8" ? energy_cell : "");
        }
        const auto& b8 = entry["vs_b8"];
        const std::string entropy = b8.contains("entropy_reduction")
                                        ? fmt::format("{:.2f}x", b8["entropy_reduction"].get<double>())
                                        : "-";
        md += fmt::format(" {} | {} | {}% | {} | {} | {} | {} |\n", entropy, drop_cell(b8, "val_drop"),
                          percent(b8["test_accuracy"]),
                          b8.contains("test_drop")
                              ? drop_cell(b8, "test_drop")
                              : fmt::format("{:+.2f}", 100.0 * (r["b8"]["test_accuracy"].get<double>() -
                                                                b8["test_accuracy"].get<double>())),
                          agreement_cell(b8), dram_cell, energy_cell);
      }
    }
    md += test_outcome_line(studies, key, budget.get<double>());
  }
  if (!studies.empty() && !studies.front()["budgets"].empty()) {
    const double loosest = studies.front()["budgets"].back().get<double>();
    md += claims_section(studies, budget_key(loosest), loosest);
  }
  md +=
      "\n## Greedy search cost\n\n| network | points | steps | s per step | evaluations per step | naive s "
      "per step | "
      "speed-up | total |\n|---|---|---|---|---|---|---|---|\n";
  for (const auto& s : studies) {
    if (!s.contains("greedy_timing")) continue;
    const auto& g = s["greedy_timing"];
    md += fmt::format("| {} | {} | {} | {:.2f} | {:.2f} | {:.1f} | {:.1f}x | {:.0f} s |\n",
                      s["network"].get<std::string>(), g["points"].get<int>(), g["steps"].get<int>(),
                      g["seconds_per_step"].get<double>(), g["evaluations_per_step"].get<double>(),
                      g["naive_seconds_per_step"].get<double>(), g["speedup_over_naive"].get<double>(),
                      g["total_seconds"].get<double>());
  }
  return t;
}

}  // namespace capsim::workloads
