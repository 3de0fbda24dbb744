#include "capsim/sweep/point_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "capsim/common/atomic_file.hpp"

namespace capsim::sweep {
namespace {

namespace fs = std::filesystem;

const char* const kStaging = ".staging";

}  // namespace

std::string point_dir(const std::string& sweep_dir, const std::string& id) {
  return (fs::path(sweep_dir) / "points" / id).string();
}

std::string staging_dir(const std::string& sweep_dir, const std::string& id) {
  return (fs::path(sweep_dir) / "points" / kStaging / id).string();
}

PointStatus point_status(const std::string& sweep_dir, const Point& point) {
  const std::string dir = point_dir(sweep_dir, point.id);
  PointStatus status;
  nlohmann::json record;
  try {
    record = nlohmann::json::parse(read_file(dir + "/point.json"));
    if (record.at("key") != point.key) return status;  // inputs changed since: stale
    if (record.at("status") == "failed") {
      status.state = PointState::Failed;
      status.error = record.value("error", "");
      return status;
    }
    if (record.at("status") == "finished" && fs::exists(dir + "/summary.json"))
      status.state = PointState::Finished;
  } catch (const std::exception&) {
    // No record, or an unreadable one: the point has to run (again).
  }
  return status;
}

std::string point_state_name(PointState state) {
  switch (state) {
    case PointState::Finished:
      return "finished";
    case PointState::Failed:
      return "failed";
    case PointState::Missing:
      break;
  }
  return "missing";
}

void install_point(const std::string& sweep_dir, const std::string& id, const std::string& staged) {
  const fs::path target = point_dir(sweep_dir, id);
  const fs::path old = staging_dir(sweep_dir, id + ".old");
  fs::remove_all(old);
  // rename(2) cannot replace a non-empty directory: move the old one aside first. A kill in
  // between leaves the point missing (it reruns), never a mixture of two runs.
  if (fs::exists(target)) fs::rename(target, old);
  fs::create_directories(target.parent_path());
  fs::rename(staged, target);
  fs::remove_all(old);
}

void clear_staging(const std::string& sweep_dir) {
  fs::remove_all(fs::path(sweep_dir) / "points" / kStaging);
}

DirectoryLock::DirectoryLock(const std::string& dir) {
  // flock(2): the kernel releases the lock when its holder exits, however it ends (SIGKILL, a
  // Slurm time limit), so a .lock left by a killed run never blocks the next one. The holder's
  // pid is written into the file for the message another process gets.
  const std::string path = dir + "/.lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    const int err = errno;
    throw OutputError("cannot create " + path + ": " + std::strerror(err));
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    char text[32] = {};
    const ssize_t n = ::pread(fd_, text, sizeof text - 1, 0);
    ::close(fd_);
    std::string holder = n > 0 ? std::string(text, static_cast<std::size_t>(n)) : "";
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    throw std::runtime_error("another capsim sweep or merge" +
                             (holder.empty() ? "" : " (pid " + holder + ")") + " is writing " + dir +
                             " (it holds " + path + "); wait for it to end, or use another --out");
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) < 0) {
    // The pid is only for messages: the lock holds without it.
  }
}

DirectoryLock::~DirectoryLock() {
  if (::ftruncate(fd_, 0) != 0) {
    // Best effort: a stale pid in an unlocked file misleads no one (it is read only under contention).
  }
  ::close(fd_);
}

}  // namespace capsim::sweep
