#pragma once
// Errors caused by what a user gave us (YAML, traces, checkpoints, command lines). Every one names
// where the bad value came from, the key, and what was expected; the CLI prints it once and exits 2.
#include <stdexcept>
#include <string>

namespace capsim {

// Exit code for bad input (YAML, trace, checkpoint, CLI). Internal failures use 1.
inline constexpr int kExitBadInput = 2;

// Where a value came from: a file and 1-based line, or a command-line origin such as "--set".
struct SourceLocation {
  std::string file;  // path as the user wrote it, or an origin like "--set buffer.capacity_kib=0"
  int line = 0;      // 1-based; 0 when unknown (file-level errors, command-line values)

  std::string str() const { return line > 0 ? file + ":" + std::to_string(line) : file; }
};

class InputError : public std::runtime_error {
 public:
  // "<file>:<line>: key '<key>': expected <expected>, got '<got>'"
  InputError(SourceLocation where, std::string key, std::string expected, std::string got = "");
  // "<file>[:<line>]: <message>" for errors that are not about one key (missing file, syntax).
  InputError(SourceLocation where, std::string message);

  const SourceLocation& where() const { return where_; }
  const std::string& key() const { return key_; }

 private:
  SourceLocation where_;
  std::string key_;
};

}  // namespace capsim
