#pragma once
// Subcommands register themselves: each command file of an executable holds its commands and a
// CAPSIM_REGISTER_COMMAND line, so adding a command touches no central list. (Registration runs
// from static initialisers, so command files must be compiled into the executable itself, not
// into a static library.)
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace capsim::cli {

struct CommandEntry {
  std::string name;                        // for ordering in --help
  std::function<void(CLI::App& app)> add;  // adds the subcommand(s) and their callbacks
};

std::vector<CommandEntry>& command_registry();

// Adds every registered command to `app`, in name order.
void add_registered_commands(CLI::App& app);

struct CommandRegistration {
  CommandRegistration(std::string name, std::function<void(CLI::App&)> add) {
    command_registry().push_back({std::move(name), std::move(add)});
  }
};

// A command whose outcome is not plain success (e.g. a sweep with failed points) sets the code the
// process exits with; run_cli returns it.
void set_exit_code(int code);

// Runs `app` on argv: CLI usage errors and capsim::InputError print one message and return 2;
// otherwise the code a command set (0 by default).
int run_cli(CLI::App& app, int argc, char** argv);

}  // namespace capsim::cli

#define CAPSIM_REGISTER_COMMAND(name, function) \
  static const ::capsim::cli::CommandRegistration capsim_command_##function { name, function }
