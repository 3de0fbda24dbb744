#pragma once
// The totals of a run, declared once: name, unit, description, the summary.json object that holds
// it and how it is computed from the run's counts. summary.json's `total` and `dram_bytes` objects,
// the text summary of `capsim simulate`, the totals a sweep reads back into points.csv and
// results.csv, and the table of docs/outputs.md (`capsim params --run-totals`, checked by a test)
// come from this list, so a new total is one entry here.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "capsim/sim/energy.hpp"
#include "capsim/sim/run_result.hpp"

namespace capsim::sim {

struct RunTotal {
  std::string name;     // key in summary.json and metric name in a sweep; ends in its unit where not obvious
  std::string unit;     // "bytes", "cycles", "ns", "pJ", "count"
  std::string section;  // the summary.json object that holds it: "total" or "dram_bytes"
  std::string description;
  bool integer = true;  // written as an integer (counts, bytes, cycles) or as a number
  // The value of a whole run (`energy` is the run's breakdown).
  std::function<double(const RunResult&, const EnergyBreakdown& energy)> value;
};

const std::vector<RunTotal>& run_totals();

// The summary.json rows of docs/outputs.md (key, unit, meaning).
std::string run_totals_markdown();

}  // namespace capsim::sim
