// capsim params: the declared architecture keys (key, type, unit, default, valid values, meaning,
// source of the default), as a text list or as the Markdown table docs/architecture.md holds; with
// --dram, the keys of a DRAM spec (docs/dram.md). The declared outputs print as the tables of the
// docs: --layer-columns (layers.csv, docs/outputs.md), --run-totals (summary.json, docs/outputs.md),
// --point-columns (points.csv, docs/sweeps.md).
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <string>

#include "capsim/common/cli_registry.hpp"
#include "capsim/common/params.hpp"
#include "capsim/rtl/dram/dram_spec.hpp"
#include "capsim/sim/arch_spec.hpp"
#include "capsim/sim/layer_columns.hpp"
#include "capsim/sim/run_totals.hpp"
#include "capsim/sweep/aggregate.hpp"

namespace capsim::sim {
namespace {

struct ParamsOptions {
  bool markdown = false;
  bool dram = false;
  bool layer_columns = false;
  bool run_totals = false;
  bool point_columns = false;
};

void print_keys(const std::vector<ParamRow>& rows, bool markdown) {
  if (markdown) {
    std::fputs(params_markdown(rows).c_str(), stdout);
    return;
  }
  for (const auto& r : rows) {
    std::string line = fmt::format("{:<34} {:<8} {:<12} default {}", r.key, to_string(r.kind),
                                   r.info.unit.empty() ? "-" : r.info.unit, r.default_text);
    if (!r.range_text.empty()) line += ", valid " + r.range_text;
    std::fputs((line + "\n    " + r.info.description + "\n").c_str(), stdout);
  }
}

void print_params(const ParamsOptions& o) {
  if (o.layer_columns) return (void)std::fputs(layer_columns_markdown().c_str(), stdout);
  if (o.run_totals) return (void)std::fputs(run_totals_markdown().c_str(), stdout);
  if (o.point_columns) return (void)std::fputs(sweep::point_columns_markdown().c_str(), stdout);
  print_keys(o.dram ? dram::dram_params().rows() : arch_params().rows(), o.markdown);
}

void add_params(CLI::App& app) {
  auto o = std::make_shared<ParamsOptions>();
  CLI::App* cmd = app.add_subcommand(
      "params",
      "List every architecture key with its type, unit, default and range (or a declared output table)");
  cmd->add_flag("--markdown", o->markdown,
                "print the key table of docs/architecture.md (with --dram: docs/dram.md)");
  auto* dram = cmd->add_flag("--dram", o->dram,
                             "the keys of a DRAM spec (a preset, or an architecture's dram: section)");
  auto* layers =
      cmd->add_flag("--layer-columns", o->layer_columns, "the layers.csv column table of docs/outputs.md");
  auto* totals =
      cmd->add_flag("--run-totals", o->run_totals, "the summary.json totals table of docs/outputs.md");
  auto* points =
      cmd->add_flag("--point-columns", o->point_columns, "the points.csv column table of docs/sweeps.md");
  for (auto* a : {dram, layers, totals, points})
    for (auto* b : {dram, layers, totals, points})
      if (a != b) a->excludes(b);
  cmd->callback([o] { print_params(*o); });
}

}  // namespace

CAPSIM_REGISTER_COMMAND("params", add_params);

}  // namespace capsim::sim
