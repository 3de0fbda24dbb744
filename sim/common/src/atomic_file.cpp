#include "capsim/common/atomic_file.hpp"

#include <fcntl.h>
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
  if (target.has_parent_path()) fs::create_directories(target.parent_path());
  const std::string temp = path + ".tmp." + std::to_string(::getpid());

  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot create " + temp + ": " + std::strerror(errno));
  std::size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      ::unlink(temp.c_str());
      throw std::runtime_error("cannot write " + temp + ": " + std::strerror(err));
    }
    written += static_cast<std::size_t>(n);
  }
  // fsync so that a crash after rename never exposes an empty file.
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(temp.c_str());
    throw std::runtime_error("cannot flush " + temp + ": " + std::strerror(errno));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    throw std::runtime_error("cannot rename " + temp + " to " + path + ": " + std::strerror(err));
  }
}

void check_output_dir(const std::string& dir, const std::string& origin) {
  namespace fs = std::filesystem;
  std::error_code error;
  for (fs::path p = fs::path(dir).lexically_normal(); !p.empty(); p = p.parent_path()) {
    const auto status = fs::status(p, error);
    if (status.type() == fs::file_type::not_found) {
      if (p == p.parent_path()) break;
      continue;
    }
    if (status.type() != fs::file_type::directory)
      throw InputError({origin + " " + dir, 0},
                       "'" + p.string() +
                           "' exists and is not a directory: expected a directory (existing or new) "
                           "for the results");
    return;
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
