#pragma once
// Helpers for sweep tests: a scratch directory with small traces and sweep files, and running the
// real capsim binary.
#include <string>
#include <vector>

namespace capsim::sweep::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class Scratch {
 public:
  Scratch();   // a fresh directory under $TMPDIR
  ~Scratch();  // removed with everything in it
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  const std::string& dir() const { return dir_; }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string write(const std::string& name, const std::string& text) const;  // returns the path
  // A small residual network (tests/sim/trace_builder.hpp) as a trace file; returns the path.
  std::string write_trace(const std::string& name, long channels, long size, const std::string& model) const;

 private:
  std::string dir_;
};

// Runs `capsim args...`; stdout and stderr are captured.
CommandResult run_capsim(const std::vector<std::string>& args);

std::string read_text(const std::string& path);
// The base architecture every test sweep uses (configs/arch/edge.yaml of the source tree).
std::string edge_arch();
bool exists(const std::string& path);

}  // namespace capsim::sweep::testing
