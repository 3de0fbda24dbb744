#pragma once
// Runs sweep points as parallel `capsim simulate` processes, with a progress bar and ETA on
// stderr. Each point is simulated into a staging directory and installed when its process ends,
// finished or failed (point_store.hpp); a failed point never stops the others.
#include <cstddef>
#include <string>
#include <vector>

#include "capsim/sweep/points.hpp"

namespace capsim::sweep {

struct RunOptions {
  int jobs = 1;
  bool progress = true;
  std::string capsim_exe;
};

struct RunSummary {
  std::size_t finished = 0;
  std::size_t failed = 0;
  double seconds = 0.0;
};

// `todo` points of `sweep`, into sweep_dir/points/.
RunSummary run_points(const std::string& sweep_dir, const PreparedSweep& sweep,
                      const std::vector<const Point*>& todo, const RunOptions& options);

// The `capsim simulate` command of a point writing into `out_dir`.
std::vector<std::string> simulate_command(const PreparedSweep& sweep, const Point& point,
                                          const std::string& exe, const std::string& out_dir);

// Draws "[=====>    ] 112/225  50%  3.4 points/s  ETA 0:33  2 failed" on stderr: redrawn in place on
// a terminal, a line every tenth of the way (or every 30 s) otherwise.
class ProgressBar {
 public:
  ProgressBar(std::size_t total, bool enabled);
  void update(std::size_t done, std::size_t failed);  // redraws when due
  void finish(std::size_t done, std::size_t failed);

 private:
  std::string line(std::size_t done, std::size_t failed) const;
  double elapsed_seconds() const;

  std::size_t total_;
  bool enabled_;
  bool terminal_;
  double start_;
  double last_draw_ = -1.0;
  std::size_t last_tenth_ = 0;
};

}  // namespace capsim::sweep
