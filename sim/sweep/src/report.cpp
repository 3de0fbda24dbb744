// capsim report: runs scripts/report.py on a sweep directory.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "capsim/common/atomic_file.hpp"
#include "capsim/common/error.hpp"
#include "capsim/sweep/process.hpp"
#include "capsim/sweep/sweep.hpp"

namespace capsim::sweep {
namespace {

namespace fs = std::filesystem;

}  // namespace

std::string find_report_script() {
  if (const char* env = std::getenv("CAPSIM_REPORT_SCRIPT"); env && *env) return env;
  std::error_code ec;
  const fs::path exe_dir = fs::path(self_executable()).parent_path();
  for (const fs::path& candidate : {exe_dir / "report.py", exe_dir / ".." / "share" / "capsim" / "report.py",
                                    fs::path(CAPSIM_SOURCE_DIR_PATH) / "scripts" / "report.py"})
    if (fs::is_regular_file(candidate, ec)) return candidate.lexically_normal().string();
  throw InputError({"capsim report", 0},
                   "cannot find scripts/report.py (set CAPSIM_REPORT_SCRIPT to its path)");
}

int run_report(const ReportOptions& options) {
  if (!fs::is_regular_file(options.sweep_dir + "/manifest.json"))
    throw InputError({options.sweep_dir, 0},
                     "not a sweep directory: it has no manifest.json (written by capsim sweep)");
  if (::access(options.python.c_str(), X_OK) != 0)
    throw InputError({"--python " + options.python, 0}, "--python", "an executable Python 3 interpreter",
                     options.python);
  const std::string out = options.out.empty() ? options.sweep_dir + "/report" : options.out;
  check_output_dir(out, "--out");  // read-only or not a directory: one line, exit 2, before drawing
  ChildSpec child;
  child.argv = {options.python, options.script.empty() ? find_report_script() : options.script,
                options.sweep_dir, "--out", out};
  for (const auto& assignment : options.at) child.argv.insert(child.argv.end(), {"--at", assignment});
  child.inherit_stdio = true;
  const ExitStatus status = run_child(child);
  return status.signal ? 1 : status.code;
}

}  // namespace capsim::sweep
