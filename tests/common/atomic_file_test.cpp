#include "capsim/common/atomic_file.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "capsim/common/error.hpp"

namespace capsim {
namespace {

TEST(AtomicFile, WritesCreatesParentsAndReplaces) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("capsim_atomic_" + std::to_string(::getpid()));
  const std::string path = (dir / "sub" / "out.txt").string();
  write_file_atomic(path, "first");
  EXPECT_EQ(read_file(path), "first");
  write_file_atomic(path, "second, longer");
  EXPECT_EQ(read_file(path), "second, longer");
  int files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir / "sub")) ++files;
  EXPECT_EQ(files, 1) << "no temporary file may be left behind";
  fs::remove_all(dir);
}

TEST(AtomicFile, ReadingAMissingFileIsAnInputError) {
  EXPECT_THROW(read_file("/nonexistent/file"), InputError);
}

}  // namespace
}  // namespace capsim
