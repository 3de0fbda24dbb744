#pragma once
// Subcommands of capsim-torch register themselves: each cli/*.cpp file holds one group of
// commands and a CAPSIM_REGISTER_COMMAND line, so adding a command touches no central list.
#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace capsim::workloads::cli {

struct CommandEntry {
  std::string name;                          // for ordering in --help
  std::function<void(CLI::App& app)> add;    // adds the subcommand(s) and their callbacks
};

std::vector<CommandEntry>& command_registry();

struct CommandRegistration {
  CommandRegistration(std::string name, std::function<void(CLI::App&)> add) {
    command_registry().push_back({std::move(name), std::move(add)});
  }
};

}  // namespace capsim::workloads::cli

#define CAPSIM_REGISTER_COMMAND(name, function) \
  static const ::capsim::workloads::cli::CommandRegistration capsim_command_##function{name, function}
