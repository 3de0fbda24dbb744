#include "run_command.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace capsim::testing {

CommandResult run_command(const std::string& command_line) {
  TempDir capture("capsim_cmd");
  const std::string out = capture / "out", err = capture / "err";
  const int status = std::system((command_line + " >" + out + " 2>" + err).c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_text(out);
  r.err = read_text(err);
  return r;
}

namespace {

std::string single_quoted(const std::string& text) {
  std::string quoted = "'";
  for (const char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

}  // namespace

CommandResult run_in_private_tmpfs(const std::string& mount_dir, const std::string& tmpfs_options,
                                   const std::string& script) {
  const std::string inner = "M=" + single_quoted(mount_dir) + "; mount -t tmpfs -o " + tmpfs_options +
                            " capsim-test \"$M\" || exit 125; " + script;
  return run_command("unshare --user --map-root-user --mount sh -c " + single_quoted(inner));
}

bool private_tmpfs_available(std::string& why_not) {
  TempDir dir("capsim_tmpfs_probe");
  const CommandResult r = run_in_private_tmpfs(dir.path(), "size=64k", "touch \"$M/x\"");
  if (r.exit_code == 0) return true;
  why_not = "cannot mount a tmpfs in a private user+mount namespace (unshare -rm; exit " +
            std::to_string(r.exit_code) + "): " + r.err;
  return false;
}

TempDir::TempDir(const std::string& prefix) {
  std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "_XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

}  // namespace capsim::testing
