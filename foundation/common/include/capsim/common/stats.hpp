#pragma once
// A statistic carries its name, unit and a one-line description, so that every number capsim
// writes (summary.json, layers.csv, reports) says what it is and in which unit. Names end in
// their unit where it is not obvious: dram_read_bytes, cycles, energy_pj.
#include <string>
#include <vector>

namespace capsim {

struct Stat {
  std::string name;         // snake_case, unit suffix: "row_hits", "read_bytes", "busy_cycles"
  std::string unit;         // "bytes", "cycles", "pJ", "count", "ps", "ratio"
  std::string description;  // one line, for humans
  double value = 0.0;
};

using StatList = std::vector<Stat>;

}  // namespace capsim
