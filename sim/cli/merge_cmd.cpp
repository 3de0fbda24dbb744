// capsim merge: combine the shard directories of a sweep (docs/sweeps.md).
#include <memory>
#include <string>

#include "capsim/common/cli_registry.hpp"
#include "capsim/sweep/sweep.hpp"

namespace capsim::sweep {
namespace {

void add_merge(CLI::App& app) {
  auto o = std::make_shared<MergeOptions>();
  CLI::App* cmd = app.add_subcommand("merge", "Combine sweep directories (the shards of one sweep) into one");
  cmd->add_option("dirs", o->inputs, "sweep directories written by capsim sweep")->required();
  cmd->add_option("--out", o->out, "merged sweep directory (may be one of the inputs)")->required();
  cmd->callback([o] { cli::set_exit_code(run_merge(*o)); });
}

}  // namespace

CAPSIM_REGISTER_COMMAND("merge", add_merge);

}  // namespace capsim::sweep
