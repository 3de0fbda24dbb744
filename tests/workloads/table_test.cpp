// results/paper-table.md from study summaries: the per-budget account of how the selected rows fared
// on test (the acceptance: no row meets its budget on validation and misses it on test by
// more than the interval), on a hand-built summary whose counts are known.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "capsim/workloads/study.hpp"
#include "run_command.hpp"

namespace capsim::workloads {
namespace {

using json = nlohmann::json;

// One method's entry at a budget: every measure at 2x; val and test drops as [drop, low, high].
json entry(const json& val_drop, const json& test_drop) {
  json e;
  for (const char* m : {"vs_b8", "vs_b16", "vs_b8_with_overhead", "vs_b16_with_overhead"})
    e[m] = {{"reduction", 2.0}, {"val_accuracy", 0.92}, {"test_accuracy", 0.92}, {"plan", "ratio=0.5"}};
  e["vs_b8"]["val_drop"] = val_drop;
  if (!test_drop.is_null()) e["vs_b8"]["test_drop"] = test_drop;
  return e;
}

json summary() {
  const json ref = {{"val_accuracy", 0.93}, {"test_accuracy", 0.93}};
  json s = {{"network", "net"},
            {"width", 0.5},
            {"points", 3},
            {"references", {{"float", ref}, {"b8", ref}, {"b16", ref}}},
            {"budgets", {0.005, 0.01}},
            {"validation", {{"images", 3000}, {"selection_confidence", 0.75}}}};
  // Budget 1 point. Within it; above it inside the interval and outside the validation interval
  // (the difference, 0.7 points, inside its interval: 1.96 * hypot(0.306, 0.255) = 0.78); significantly
  // above it, and the difference, 1.3, outside its interval (0.75); above it with the interval's lower
  // end on the budget (inside the validation interval); and a row without a test interval (not counted).
  s["methods"]["pca_uniform"]["0.01"] = entry({0.004, -0.002, 0.010}, {0.008, 0.005, 0.011});
  s["methods"]["pca_greedy"]["0.01"] = entry({0.006, 0.0, 0.012}, {0.013, 0.008, 0.018});
  s["methods"]["pca_variance"]["0.01"] = entry({0.007, 0.001, 0.013}, {0.020, 0.0155, 0.0245});
  s["methods"]["pca_ceiling"]["0.01"] = entry({0.008, 0.002, 0.014}, {0.0135, 0.010, 0.017});
  s["methods"]["learnable_uniform"]["0.01"] = entry({0.0, 0.0, 0.0}, nullptr);
  // Budget 0.5 points, its own section: one row just above it, inside every interval.
  s["methods"]["pca_uniform"]["0.005"] = entry({0.002, -0.003, 0.007}, {0.006, 0.003, 0.009});
  return s;
}

TEST(PaperTable, CountsRowsExceedingTheBudgetOnTestAndThoseBeyondTheirInterval) {
  capsim::testing::TempDir dir("table_test");
  capsim::testing::write_text(dir.path() + "/summary.json", summary().dump());
  const PaperTable t = paper_table({dir.path()});
  EXPECT_NE(
      t.markdown.find(
          "**On test:** 3 of 4 rows with a test interval exceed the 1.0% budget, by at most "
          "1.00 points; 1 by more than their interval (its lower end above the budget); in 1 "
          "its lower end equals the budget. The test drop lies outside the validation interval "
          "in 2 rows; test and validation drops differ by more than the 95% interval of their difference "
          "(independent image sets) in 1. At selection confidence 0.75 a plan whose bound sits at the budget "
          "exceeds it with probability about 0.25"),
      std::string::npos)
      << t.markdown;
}

TEST(PaperTable, NoAccountWithoutTestIntervals) {
  json s = summary();
  for (auto& [method, budgets] : s["methods"].items())
    for (auto& [budget, e] : budgets.items()) e["vs_b8"].erase("test_drop");
  capsim::testing::TempDir dir("table_test");
  capsim::testing::write_text(dir.path() + "/summary.json", s.dump());
  EXPECT_EQ(paper_table({dir.path()}).markdown.find("**On test:**"), std::string::npos);
}

}  // namespace
}  // namespace capsim::workloads
