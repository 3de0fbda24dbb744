#pragma once
// SHA-256 (FIPS 180-4), used for the resume keys of sweep points and the file hashes of the
// manifest. Implemented here because capsim takes no dependency for one hash function.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace capsim::sweep {

class Sha256 {
 public:
  Sha256();
  Sha256& update(std::string_view data);
  // Finishes the hash; the object must not be updated afterwards.
  std::string hex_digest();

 private:
  void compress(const std::uint8_t* block);

  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t total_bytes_ = 0;
};

// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

// Lower-case hex SHA-256 of a file's contents; InputError naming the file when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace capsim::sweep
