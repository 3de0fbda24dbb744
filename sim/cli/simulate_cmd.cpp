// capsim simulate: replay one trace on one architecture.
#include <cstdio>
#include <string>
#include <vector>

#include "capsim/common/atomic_file.hpp"
#include "capsim/common/cli_registry.hpp"
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
};

void simulate(const SimulateOptions& o) {
  // Validate every input before building anything.
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
  cmd->add_option("--trace", options->trace, "layer trace (format v1, docs/trace-format.md)")->required();
  cmd->add_option("--out", options->out, "output directory")->required();
  cmd->add_option("--plan", options->plan,
                  "apply a compression plan to the trace first: none, uniform:R[:B], or a plan .yaml");
  cmd->add_option("--set", options->overrides,
                  "override an architecture key, e.g. --set buffer.capacity_kib=512")
      ->allow_extra_args(false);
  cmd->add_flag("--quiet,-q", options->quiet, "do not print the summary table");
  cmd->add_flag(
      "--no-estimate", options->no_estimate,
      "skip the fast cost model's prediction (summary.json `estimate`, checked against the simulation)");
  cmd->callback([options] { simulate(*options); });
}

}  // namespace

CAPSIM_REGISTER_COMMAND("simulate", add_simulate);

}  // namespace capsim::sim
