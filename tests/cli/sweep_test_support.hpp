#pragma once
// Helpers for sweep tests: a scratch directory with small traces and sweep files, and running the
// real capsim binary.
#include <string>
#include <vector>

#include "run_command.hpp"

namespace capsim::sweep::testing {

using capsim::testing::CommandResult;
using capsim::testing::read_text;

// A fresh directory under $TMPDIR, removed with everything in it.
class Scratch : public capsim::testing::TempDir {
 public:
  Scratch() : TempDir("capsim-sweep-test") {}

  const std::string& dir() const { return TempDir::path(); }
  std::string path(const std::string& name) const { return TempDir::path() + "/" + name; }
  std::string write(const std::string& name, const std::string& text) const;  // returns the path
  // A small residual network (tests/sim/trace_builder.hpp) as a trace file; returns the path.
  std::string write_trace(const std::string& name, long channels, long size, const std::string& model) const;
};

// Runs `capsim args...`; stdout and stderr are captured.
CommandResult run_capsim(const std::vector<std::string>& args);

// The base architecture every test sweep uses (configs/arch/edge.yaml of the source tree).
std::string edge_arch();
bool exists(const std::string& path);

}  // namespace capsim::sweep::testing
