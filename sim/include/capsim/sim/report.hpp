#pragma once
// Outputs of `capsim simulate` (documented in docs/outputs.md):
//   summary.json       totals, DRAM bytes by tensor class, energy by component, DRAM statistics
//   layers.csv         one row per layer with the same quantities
//   counts.json        every count of the run (no energy): `capsim recost` re-prices it
//   energy_table.yaml  the resolved energy table used
// Every file is rendered in memory first and written atomically.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "capsim/sim/arch_spec.hpp"
#include "capsim/sim/energy.hpp"
#include "capsim/sim/run_result.hpp"
#include "capsim/trace/trace.hpp"

namespace capsim::sim {

struct RunMetadata {
  std::string arch_name;
  std::string arch_file;
  std::vector<std::string> overrides;
  std::string trace_file;
  std::string model;
  std::string variant;
  std::string input;  // "3x224x224"
  std::string plan;
  nlohmann::ordered_json arch;      // resolved architecture parameters
  nlohmann::ordered_json estimate;  // the fast cost model's prediction of this run (null: none)
};

RunMetadata make_run_metadata(const ArchSpec& arch, const std::string& trace_file, const trace::Trace& trace);
nlohmann::ordered_json arch_parameters_json(const ArchSpec& arch);

nlohmann::ordered_json counts_to_json(const RunResult& run, const RunMetadata& meta);
// Reads counts.json back (InputError naming the file and key on bad content).
RunResult counts_from_json(const std::string& text, const std::string& file, RunMetadata& meta);

nlohmann::ordered_json summary_json(const RunResult& run, const RunMetadata& meta, const EnergyTable& table);
std::string layers_csv(const RunResult& run, const EnergyTable& table);
std::string summary_table(const RunResult& run, const RunMetadata& meta, const EnergyTable& table);

// Writes all four files into `dir` (created if needed).
void write_run_outputs(const std::string& dir, const RunResult& run, const RunMetadata& meta,
                       const EnergyTable& table);

}  // namespace capsim::sim
