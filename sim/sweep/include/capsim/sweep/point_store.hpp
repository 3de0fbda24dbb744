#pragma once
// The point directories of a sweep, DIR/points/<id>/:
//   summary.json, layers.csv, counts.json, energy_table.yaml   written by `capsim simulate`
//   point.json    the point's id, key, coordinates, command, status (finished or failed), seconds,
//                 and for a failed point its exit status and the end of its stderr
//   stderr.log    the simulation's stderr
// A point is simulated in DIR/points/.staging/<id>/ and moved into place complete, so a killed
// sweep leaves finished points intact and nothing half-written under their ids. A point counts as
// finished only when its summary.json exists and point.json records status finished and the key
// the point has now.
#include <nlohmann/json.hpp>
#include <string>

#include "capsim/sweep/points.hpp"

namespace capsim::sweep {

enum class PointState { Finished, Failed, Missing };

struct PointStatus {
  PointState state = PointState::Missing;
  std::string error;  // failed points: exit status and the end of stderr
};

std::string point_dir(const std::string& sweep_dir, const std::string& id);
std::string staging_dir(const std::string& sweep_dir, const std::string& id);

PointStatus point_status(const std::string& sweep_dir, const Point& point);
std::string point_state_name(PointState state);  // finished, failed, missing

// Replaces DIR/points/<id> with `staged` (a directory on the same filesystem).
void install_point(const std::string& sweep_dir, const std::string& id, const std::string& staged);

// Removes what a killed sweep may have left in DIR/points/.staging.
void clear_staging(const std::string& sweep_dir);

// An exclusive lock on DIR/.lock while the object lives (released by the kernel when the process
// dies): two commands writing one sweep directory would install points under each other.
class DirectoryLock {
 public:
  explicit DirectoryLock(const std::string& dir);  // std::runtime_error when another process holds it
  ~DirectoryLock();
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace capsim::sweep
