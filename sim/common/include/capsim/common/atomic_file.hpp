#pragma once
// Results are written atomically: to a temporary file beside the target, flushed, then renamed.
// A reader (or a killed run) therefore sees either the old file or the complete new one.
#include <string>
#include <string_view>

namespace capsim {

// Writes `contents` to `path` atomically; creates parent directories. Throws std::runtime_error.
void write_file_atomic(const std::string& path, std::string_view contents);

// Checks, before any work, that results can go to directory `dir`: it and the parents that exist
// must be directories. Throws InputError naming `origin` (e.g. "--out") otherwise. Creates nothing.
void check_output_dir(const std::string& dir, const std::string& origin);

// Reads a whole file; throws InputError naming the file when it cannot be read.
std::string read_file(const std::string& path);

}  // namespace capsim
