#include "capsim/common/cli_registry.hpp"

#include <algorithm>
#include <cstdio>

#include "capsim/common/atomic_file.hpp"
#include "capsim/common/error.hpp"

namespace capsim::cli {

std::vector<CommandEntry>& command_registry() {
  static std::vector<CommandEntry> registry;
  return registry;
}

void add_registered_commands(CLI::App& app) {
  auto& registry = command_registry();
  std::sort(registry.begin(), registry.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  for (const auto& entry : registry) entry.add(app);
}

namespace {
int exit_code = 0;
}  // namespace

void set_exit_code(int code) { exit_code = code; }

int run_cli(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kExitBadInput;
  } catch (const InputError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitBadInput;
  } catch (const OutputError& e) {  // a full or read-only output: the user's to fix, like bad input
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitBadInput;
  }
  return exit_code;
}

}  // namespace capsim::cli
