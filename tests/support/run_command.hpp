#pragma once
// Runs a command line through /bin/sh for process-level tests and captures what it printed.
#include <string>

namespace capsim::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

CommandResult run_command(const std::string& command_line);

// A fresh empty directory under the system temp dir, removed by the destructor.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Process-level probes of a read-only or full output: a command run with a fresh tmpfs mounted at
// `mount_dir` (which must exist), in a private user and mount namespace (`unshare -rm`), so that
// neither root privileges nor cleanup are needed and the mount vanishes with the command.
// `tmpfs_options` as for mount(8): "ro", "size=64k". The script runs under sh with $M set to the
// mount point; it may fill the file system first (fill_tmpfs below) and list what was left.
// private_tmpfs_available() says whether this machine allows it (else: why not, for GTEST_SKIP).
bool private_tmpfs_available(std::string& why_not);
CommandResult run_in_private_tmpfs(const std::string& mount_dir, const std::string& tmpfs_options,
                                   const std::string& script);
// Shell text that fills the file system at $M completely (leaves $M/fill).
inline const char* fill_tmpfs() { return "dd if=/dev/zero of=\"$M/fill\" bs=4096 2>/dev/null; "; }

std::string read_text(const std::string& path);
void write_text(const std::string& path, const std::string& text);

}  // namespace capsim::testing
