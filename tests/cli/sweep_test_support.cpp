#include "sweep_test_support.hpp"

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>

#include "capsim/common/atomic_file.hpp"
#include "capsim/sweep/process.hpp"
#include "capsim/trace/trace.hpp"
#include "trace_builder.hpp"

namespace capsim::sweep::testing {

namespace fs = std::filesystem;

std::string Scratch::write(const std::string& name, const std::string& text) const {
  write_file_atomic(path(name), text);
  return path(name);
}

std::string Scratch::write_trace(const std::string& name, long channels, long size,
                                 const std::string& model) const {
  trace::Trace t = capsim::testing::small_residual_network(channels, size);
  t.network.model = model;
  trace::write_trace(t, path(name));
  return path(name);
}

CommandResult run_capsim(const std::vector<std::string>& args) {
  Scratch logs;
  ChildSpec child;
  child.argv = {CAPSIM_EXE};
  child.argv.insert(child.argv.end(), args.begin(), args.end());
  child.stdout_path = logs.path("out");
  child.stderr_path = logs.path("err");
  const ExitStatus status = run_child(child);
  return {status.signal ? 128 + status.signal : status.code, read_text(child.stdout_path),
          read_text(child.stderr_path)};
}

std::string edge_arch() { return std::string(CAPSIM_TEST_SOURCE_DIR) + "/configs/arch/edge.yaml"; }

bool exists(const std::string& path) { return fs::exists(path); }

}  // namespace capsim::sweep::testing
