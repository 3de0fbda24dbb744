// capsim params: the declared architecture keys (key, type, unit, default, valid values, meaning,
// source of the default), as a text list or as the Markdown table docs/architecture.md holds; with
// --layer-columns, the declared columns of layers.csv (docs/outputs.md).
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <string>

#include "capsim/common/cli_registry.hpp"
#include "capsim/common/params.hpp"
#include "capsim/sim/arch_spec.hpp"
#include "capsim/sim/layer_columns.hpp"

namespace capsim::sim {
namespace {

void print_params(bool markdown, bool layer_columns_table) {
  if (layer_columns_table) {
    std::fputs(layer_columns_markdown().c_str(), stdout);
    return;
  }
  const std::vector<ParamRow> rows = arch_params().rows();
  if (markdown) {
    std::fputs(params_markdown(rows).c_str(), stdout);
    return;
  }
  for (const auto& r : rows) {
    std::string line = fmt::format("{:<34} {:<8} {:<12} default {}", r.key, to_string(r.kind),
                                   r.info.unit.empty() ? "-" : r.info.unit, r.default_text);
    if (!r.range_text.empty()) line += ", valid " + r.range_text;
    std::fputs((line + "\n    " + r.info.description + "\n").c_str(), stdout);
  }
}

void add_params(CLI::App& app) {
  auto markdown = std::make_shared<bool>(false);
  auto columns = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "params",
      "List every architecture key with its type, unit, default and range (or the layers.csv columns)");
  cmd->add_flag("--markdown", *markdown, "print the key table of docs/architecture.md");
  cmd->add_flag("--layer-columns", *columns, "print the layers.csv column table of docs/outputs.md");
  cmd->callback([markdown, columns] { print_params(*markdown, *columns); });
}

}  // namespace

CAPSIM_REGISTER_COMMAND("params", add_params);

}  // namespace capsim::sim
