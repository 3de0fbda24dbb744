// capsim: the command-line front end. Simulator commands (simulate, recost, sweep, merge,
// report) run here; the LibTorch commands (inspect, trace, train, ...) are handed to
// capsim-torch beside this executable, so a simulation never loads LibTorch.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <systemc>
#include <vector>

#include "capsim/common/cli_registry.hpp"
#include "capsim/common/error.hpp"

namespace {

const std::vector<std::string> kTorchCommands = {"inspect", "trace",    "train", "evaluate", "calibrate",
                                                 "plan",    "finetune", "study", "table",    "fold-check"};

bool is_torch_command(const char* word) {
  for (const auto& c : kTorchCommands)
    if (c == word) return true;
  return false;
}

// Replaces this process with capsim-torch; returns an exit code only when that is impossible.
int run_torch_command(char** argv) {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  const std::string torch = (self.parent_path() / "capsim-torch").string();
  if (ec || ::access(torch.c_str(), X_OK) != 0) {
    std::fprintf(stderr,
                 "error: '%s' needs capsim-torch, which this build does not have (it is built with "
                 "-DCAPSIM_WITH_TORCH=ON; expected at %s)\n",
                 argv[1], torch.c_str());
    return capsim::kExitBadInput;
  }
  argv[0] = const_cast<char*>(torch.c_str());
  ::execv(torch.c_str(), argv);
  std::fprintf(stderr, "error: cannot run %s: %s\n", torch.c_str(), std::strerror(errno));
  return 1;
}

}  // namespace

// Defining main() here takes precedence over the one in libsystemc.so, so the SystemC banner can
// be silenced before the kernel starts and LibTorch commands never start it at all.
int main(int argc, char* argv[]) {
  if (argc > 1 && is_torch_command(argv[1])) return run_torch_command(argv);
  ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  return sc_core::sc_elab_and_sim(argc, argv);
}

int sc_main(int argc, char* argv[]) {
  CLI::App app{"capsim: activation-compression studies on a cycle-approximate edge CNN accelerator"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  for (const auto& c : kTorchCommands)
    app.add_subcommand(c, "(LibTorch) run `capsim " + c + " --help` for its options")->allow_extras();
  capsim::cli::add_registered_commands(app);
  spdlog::set_pattern("%^%l%$: %v");
  try {
    return capsim::cli::run_cli(app, argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
  }
  return 1;
}
