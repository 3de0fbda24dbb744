#include "capsim/common/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "capsim/common/error.hpp"

namespace capsim {

void write_file_atomic(const std::string& path, std::string_view contents) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  // rename(2) replaces whatever the target is: a FIFO, a socket, or (for root) /dev/null or
  // /dev/full would become a regular file. Only a regular file (or a new path) may be written.
  std::error_code ec;
  const auto status = fs::status(target, ec);
  if (fs::exists(status) && !fs::is_regular_file(status))
    throw InputError({path, 0}, std::string("exists and is not a regular file (") +
                                    (fs::is_directory(status)        ? "a directory"
                                     : fs::is_character_file(status) ? "a character device"
                                     : fs::is_block_file(status)     ? "a block device"
                                     : fs::is_fifo(status)           ? "a FIFO"
                                                                     : "a special file") +
                                    "): expected a path for a new or existing regular file");
  if (target.has_parent_path()) fs::create_directories(target.parent_path());
  const std::string temp = path + ".tmp." + std::to_string(::getpid());

  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw OutputError("cannot create " + temp + ": " + std::strerror(errno));
  std::size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      ::unlink(temp.c_str());
      throw OutputError("cannot write " + temp + ": " + std::strerror(err));
    }
    written += static_cast<std::size_t>(n);
  }
  // fsync so that a crash after rename never exposes an empty file.
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(temp.c_str());
    throw OutputError("cannot flush " + temp + ": " + std::strerror(errno));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    throw OutputError("cannot rename " + temp + " to " + path + ": " + std::strerror(err));
  }
}

namespace {

// Writes one temporary file completely and flushes it; returns 0 or the errno of the failure.
int write_temporary(const std::string& temp, std::string_view contents) {
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno;
  std::size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return err;
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    return err;
  }
  return ::close(fd) != 0 ? errno : 0;
}

}  // namespace

void write_files_atomic(const std::string& dir, const std::vector<std::pair<std::string, std::string>>& files,
                        const std::string& origin) {
  namespace fs = std::filesystem;
  const std::string where = origin.empty() ? dir : origin + " " + dir;
  // The directories this call creates, outermost first, so that a failure can take them back.
  std::vector<fs::path> created;
  std::error_code ec;
  for (fs::path p = fs::path(dir).lexically_normal(); !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
    created.insert(created.begin(), p);
    if (p == p.parent_path()) break;
  }
  std::vector<std::string> temps;
  auto fail = [&](const std::string& what, int err) {
    for (const auto& t : temps) ::unlink(t.c_str());
    for (auto it = created.rbegin(); it != created.rend(); ++it) fs::remove(*it, ec);  // only when empty
    throw InputError({where, 0}, "cannot write the results: " + what + ": " + std::strerror(err) +
                                     " (nothing was written; expected a writable directory with free space)");
  };
  for (const auto& d : created)
    if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) {
      const int err = errno;
      fail("cannot create " + d.string(), err);
    }
  const std::string suffix = ".tmp." + std::to_string(::getpid());
  for (const auto& [name, contents] : files) {
    temps.push_back(dir + "/" + name + suffix);
    if (const int err = write_temporary(temps.back(), contents)) fail("cannot write " + temps.back(), err);
  }
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string target = dir + "/" + files[i].first;
    if (::rename(temps[i].c_str(), target.c_str()) != 0) {
      const int err = errno;
      temps.erase(temps.begin(), temps.begin() + static_cast<std::ptrdiff_t>(i));
      fail("cannot rename " + temps.front() + " to " + target, err);
    }
  }
}

bool is_output_full_or_read_only(const std::string& message) {
  for (const int err : {ENOSPC, EDQUOT, EROFS})
    if (message.find(std::strerror(err)) != std::string::npos) return true;
  return false;
}

void check_output_dir(const std::string& dir, const std::string& origin) {
  namespace fs = std::filesystem;
  std::error_code error;
  fs::path p = fs::path(dir).lexically_normal();
  if (p.is_relative()) p = fs::path(".") / p;  // the working directory is the last parent to check
  for (; !p.empty(); p = p.parent_path()) {
    const auto status = fs::status(p, error);
    if (status.type() == fs::file_type::not_found) {
      if (p == p.parent_path()) break;
      continue;
    }
    if (status.type() != fs::file_type::directory)
      throw InputError({origin + " " + dir, 0},
                       "'" + p.lexically_normal().string() +
                           "' exists and is not a directory: expected a directory (existing or new) "
                           "for the results");
    if (::access(p.c_str(), W_OK | X_OK) != 0) {
      const int err = errno;
      throw InputError({origin + " " + dir, 0},
                       "cannot write in '" + p.lexically_normal().string() + "': " + std::strerror(err) +
                           ": expected a writable directory (existing or new) for the results");
    }
    return;
  }
}

void remove_stale_temporaries(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const auto at = name.rfind(".tmp.");
    if (at == std::string::npos || at + 5 >= name.size()) continue;
    if (name.find_first_not_of("0123456789", at + 5) != std::string::npos) continue;
    if (it->is_regular_file(ec)) fs::remove(it->path(), ec);
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError({path, 0}, "cannot open file (does it exist and is it readable?)");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace capsim
