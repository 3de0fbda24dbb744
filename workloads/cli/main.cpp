// capsim-torch: the LibTorch half of the capsim command line (inspect, trace, train, evaluate,
// calibrate, plan, finetune, study). Users normally run it through `capsim <command>`.
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>

#include "capsim/common/error.hpp"
#include "command_registry.hpp"

namespace capsim::workloads::cli {

std::vector<CommandEntry>& command_registry() {
  static std::vector<CommandEntry> registry;
  return registry;
}

}  // namespace capsim::workloads::cli

int main(int argc, char** argv) {
  using namespace capsim::workloads::cli;
  CLI::App app{"capsim-torch: model zoo, training and compression pipeline (LibTorch)"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  auto& registry = command_registry();
  std::sort(registry.begin(), registry.end(), [](auto& a, auto& b) { return a.name < b.name; });
  for (const auto& entry : registry) entry.add(app);
  spdlog::set_pattern("%^%l%$: %v");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : capsim::kExitBadInput;
  } catch (const capsim::InputError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return capsim::kExitBadInput;
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "error: LibTorch: %s\n", e.what_without_backtrace());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
