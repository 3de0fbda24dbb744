#include "capsim/common/error.hpp"

namespace capsim {
namespace {

std::string format_key_error(const SourceLocation& where, const std::string& key, const std::string& expected,
                             const std::string& got) {
  std::string msg = where.str() + ": key '" + key + "': expected " + expected;
  if (!got.empty()) msg += ", got '" + got + "'";
  return msg;
}

}  // namespace

InputError::InputError(SourceLocation where, std::string key, std::string expected, std::string got)
    : std::runtime_error(format_key_error(where, key, expected, got)),
      where_(std::move(where)),
      key_(std::move(key)) {}

InputError::InputError(SourceLocation where, std::string message)
    : std::runtime_error(where.str() + ": " + message), where_(std::move(where)) {}

}  // namespace capsim
