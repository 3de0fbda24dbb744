// capsim sweep: run a design-space sweep file (docs/sweeps.md).
#include <exception>
#include <memory>
#include <string>

#include "capsim/common/cli_registry.hpp"
#include "capsim/sweep/points.hpp"
#include "capsim/sweep/sweep.hpp"

namespace capsim::sweep {
namespace {

struct SweepCommand {
  SweepOptions options;
  std::string shard;
  bool no_progress = false;
};

void add_sweep(CLI::App& app) {
  auto c = std::make_shared<SweepCommand>();
  CLI::App* cmd = app.add_subcommand(
      "sweep",
      "Run a design-space sweep (configs/sweeps/*.yaml): every point a capsim simulate process; writes "
      "DIR/points.csv, results.csv, manifest.json and DIR/points/<id>/");
  cmd->add_option("spec", c->options.spec, "sweep file (format in docs/sweeps.md)")->required();
  cmd->add_option("--out", c->options.out, "output directory; rerunning into it skips finished points")
      ->required();
  cmd->add_option("--jobs,-j", c->options.jobs, "simulations in parallel (default: one per CPU)")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            std::size_t used = 0;
            long value = 0;
            try {
              value = std::stol(text, &used);
            } catch (const std::exception&) {
              used = 0;
            }
            if (used != text.size() || value < 1 || value > 1000000)
              return "expected a whole number of parallel simulations, at least 1 (default: one per CPU), "
                     "got '" +
                     text + "'";
            return "";
          },
          "INT>=1"));
  cmd->add_option("--shard", c->shard,
                  "run only slice I of N (1-based, points dealt round-robin); "
                  "combine the shard directories with capsim merge");
  cmd->add_flag("--force", c->options.force, "simulate finished points again");
  cmd->add_flag("--no-progress", c->no_progress, "no progress bar on stderr");
  cmd->add_flag("--dry-run", c->options.dry_run,
                "validate the sweep and list its points and commands; run nothing");
  cmd->callback([c] {
    if (!c->shard.empty()) c->options.shard = parse_shard(c->shard);
    c->options.progress = !c->no_progress;
    cli::set_exit_code(run_sweep(c->options));
  });
}

}  // namespace

CAPSIM_REGISTER_COMMAND("sweep", add_sweep);

}  // namespace capsim::sweep
