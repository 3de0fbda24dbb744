// capsim simulate: replay one trace on one architecture.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "capsim/common/atomic_file.hpp"
#include "capsim/common/cli_registry.hpp"
#include "capsim/common/error.hpp"
#include "capsim/common/params.hpp"
#include "capsim/rtl/dram/dram_spec.hpp"
#include "capsim/sim/accelerator.hpp"
#include "capsim/sim/arch_spec.hpp"
#include "capsim/sim/cost_model.hpp"
#include "capsim/sim/energy.hpp"
#include "capsim/sim/report.hpp"
#include "capsim/trace/plan.hpp"

namespace capsim::sim {
namespace {

struct SimulateOptions {
  std::string arch;
  std::string trace;
  std::string out;
  std::string plan;
  std::vector<std::string> overrides;
  bool quiet = false;
  bool no_estimate = false;
  bool print_config = false;
};

// The architecture as it will be simulated: every declared key with its resolved value (defaults,
// presets and --set applied), as YAML that `--arch` reads back to the same spec.
void print_config(const ArchSpec& arch) {
  std::string text = "# " + arch.file;
  for (const auto& o : arch.overrides) text += " --set " + o;
  std::vector<ParamValue> values = arch_params().values(arch);
  for (auto& v : values)  // files resolved beside the arch file: absolute, so the output reads back anywhere
    if (v.key == "dram.preset" || v.key == "energy.table")
      v.text = std::filesystem::absolute(v.text).string();
  std::vector<ParamRow> rows = arch_params().rows();
  for (auto row : dram::dram_params().rows()) {  // units of the DRAM keys, as comments
    row.key = "dram." + row.key;
    rows.push_back(std::move(row));
  }
  text += "\n" + params_yaml(values, rows);
  std::fputs(text.c_str(), stdout);
}

void require_option(const std::string& value, const std::string& option, const std::string& what) {
  if (value.empty()) throw InputError({option, 0}, option, what + " (required unless --print-config)", "");
}

void simulate(const SimulateOptions& o) {
  // Validate every input before building anything.
  if (o.print_config) return print_config(load_arch_spec(o.arch, o.overrides));
  require_option(o.trace, "--trace", "a layer trace file");
  require_option(o.out, "--out", "an output directory");
  check_output_dir(o.out, "--out");
  const ArchSpec arch = load_arch_spec(o.arch, o.overrides);
  trace::Trace trace = trace::read_trace(o.trace);
  if (!o.plan.empty()) trace::apply_plan(trace, trace::parse_plan_spec(o.plan, "--plan"));
  const EnergyTable table = resolve_energy_table(arch);

  Accelerator accelerator(arch);
  const RunResult run = accelerator.run(trace);
  RunMetadata meta = make_run_metadata(arch, o.trace, trace);
  if (!o.no_estimate) {
    const CostEstimate e = CostModel(arch).estimate(trace);
    meta.estimate = {{"dram_bytes", e.dram_bytes}, {"energy_pj", e.energy_pj}, {"cycles", e.cycles}};
  }
  write_run_outputs(o.out, run, meta, table);
  if (!o.quiet) std::fputs(summary_table(run, meta, table).c_str(), stdout);
}

void add_simulate(CLI::App& app) {
  auto options = std::make_shared<SimulateOptions>();
  CLI::App* cmd = app.add_subcommand("simulate",
                                     "Replay a layer trace on an accelerator; write DIR/summary.json, "
                                     "layers.csv, counts.json, energy_table.yaml");
  cmd->add_option("--arch", options->arch, "architecture spec (configs/arch/*.yaml)")->required();
  cmd->add_option("--trace", options->trace, "layer trace (format v1, docs/trace-format.md)");
  cmd->add_option("--out", options->out, "output directory");
  cmd->add_option("--plan", options->plan,
                  "apply a compression plan to the trace first: none, uniform:R[:B], or a plan .yaml");
  cmd->add_option("--set", options->overrides,
                  "override an architecture key, e.g. --set buffer.capacity_kib=512")
      ->allow_extra_args(false);
  cmd->add_flag(
      "--print-config", options->print_config,
      "print every architecture key with its resolved value (YAML that --arch reads back) and exit");
  cmd->add_flag("--quiet,-q", options->quiet, "do not print the summary table");
  cmd->add_flag(
      "--no-estimate", options->no_estimate,
      "skip the fast cost model's prediction (summary.json `estimate`, checked against the simulation)");
  cmd->callback([options] { simulate(*options); });
}

}  // namespace

CAPSIM_REGISTER_COMMAND("simulate", add_simulate);

}  // namespace capsim::sim
