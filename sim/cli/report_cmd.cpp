// capsim report: figures and tables of a sweep directory (docs/reports.md).
#include <memory>
#include <string>

#include "capsim/common/cli_registry.hpp"
#include "capsim/sweep/sweep.hpp"

namespace capsim::sweep {
namespace {

void add_report(CLI::App& app) {
  auto o = std::make_shared<ReportOptions>();
  CLI::App* cmd = app.add_subcommand(
      "report",
      "Figures (PDF, PNG) and report.md from a sweep directory (docs/reports.md; runs scripts/report.py)");
  cmd->add_option("dir", o->sweep_dir, "sweep directory written by capsim sweep or capsim merge")->required();
  cmd->add_option("--out", o->out, "report directory (default: DIR/report)");
  cmd->add_option("--at", o->at,
                  "axis value of the figures drawn at one point, e.g. --at buffer.capacity_kib=512 "
                  "(default: each axis's first value)")
      ->allow_extra_args(false);
  cmd->add_option("--python", o->python, "Python 3 with matplotlib and numpy")->capture_default_str();
  cmd->add_option("--script", o->script,
                  "report script (default: scripts/report.py of capsim's source tree)");
  cmd->callback([o] { cli::set_exit_code(run_report(*o)); });
}

}  // namespace

CAPSIM_REGISTER_COMMAND("report", add_report);

}  // namespace capsim::sweep
