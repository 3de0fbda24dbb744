#pragma once
// Results are written atomically: to a temporary file beside the target, flushed, then renamed.
// A reader (or a killed run) therefore sees either the old file or the complete new one.
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace capsim {

// A result could not be written (no space, read-only, I/O error): not a bug, not bad input.
class OutputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// True when `message` (e.g. a child's stderr) reports an error of the output's file system: no
// space, quota exceeded, read-only.
bool is_output_full_or_read_only(const std::string& message);

// Writes `contents` to `path` atomically; creates parent directories. Throws OutputError.
void write_file_atomic(const std::string& path, std::string_view contents);

// Writes the files of one result into directory `dir` all or nothing: each goes to a temporary
// beside its target first, and only when every one is written and flushed are they renamed into
// place, in order (the last one, e.g. summary.json, marks a complete result). When anything fails
// (no space, read-only, I/O error) the temporaries and the directories this call created are
// removed, files already in `dir` are left as they were, and an InputError names `origin dir`
// and the reason (the CLI prints it and exits 2).
void write_files_atomic(const std::string& dir, const std::vector<std::pair<std::string, std::string>>& files,
                        const std::string& origin);

// Checks, before any work, that results can go to directory `dir`: it and the parents that exist
// must be directories, and the nearest one that exists must be writable (not on a read-only file
// system, not denied). Throws InputError naming `origin` (e.g. "--out") otherwise. Creates nothing.
void check_output_dir(const std::string& dir, const std::string& origin);

// Removes what a killed writer leaves in `dir` (not below it): temporaries NAME.tmp.PID of
// write_file_atomic. Only call it while holding the directory (e.g. the sweep lock).
void remove_stale_temporaries(const std::string& dir);

// Reads a whole file; throws InputError naming the file when it cannot be read.
std::string read_file(const std::string& path);

}  // namespace capsim
