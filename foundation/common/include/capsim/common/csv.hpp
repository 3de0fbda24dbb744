#pragma once
// Minimal RFC 4180 CSV: fields are quoted when they hold a comma, quote or line break.
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace capsim {

std::string csv_field(std::string_view text);
std::string csv_row(const std::vector<std::string>& fields);  // with the trailing newline

struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;

  // Column index by name, -1 when absent.
  int column(std::string_view name) const;
};

// Parses `text`; std::runtime_error naming `name` on a row whose width differs from the header's.
CsvTable parse_csv(const std::string& text, const std::string& name);

}  // namespace capsim
