#pragma once
// Child processes of a sweep: each point is a `capsim simulate` process (SystemC elaborates once
// per process), started with fork/exec so that its exit status and stderr can be recorded.
// Children die with the sweep (PR_SET_PDEATHSIG): a killed sweep leaves no simulation running.
#include <sys/types.h>

#include <string>
#include <vector>

namespace capsim::sweep {

struct ChildSpec {
  std::vector<std::string> argv;  // argv[0] is the executable's path
  std::string stdout_path;        // empty: /dev/null
  std::string stderr_path;        // empty: /dev/null
  bool inherit_stdio = false;     // share this process's stdin, stdout and stderr instead
};

struct ExitStatus {
  int code = 0;    // exit code, when the child exited
  int signal = 0;  // terminating signal, when it was killed

  bool ok() const { return code == 0 && signal == 0; }
  std::string describe() const;  // "exit code 2", "killed by signal 9 (Killed)"
};

// Starts the child; std::runtime_error when fork fails. An exec failure is the child's exit 127.
pid_t spawn_child(const ChildSpec& child);
ExitStatus decode_wait_status(int status);
ExitStatus run_child(const ChildSpec& child);  // spawn and wait

// The running executable (/proc/self/exe).
std::string self_executable();

// The last `max_bytes` of a file ("" when it cannot be read), for error records.
std::string file_tail(const std::string& path, std::size_t max_bytes);

}  // namespace capsim::sweep
