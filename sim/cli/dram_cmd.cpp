// capsim dram: replay a memory-request trace (DRAMsim3 format) on a DRAM preset and report
// bandwidth, read latency, row hits and energy (docs/dram.md).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "capsim/common/atomic_file.hpp"
#include "capsim/common/cli_registry.hpp"
#include "capsim/common/error.hpp"
#include "capsim/common/yaml_view.hpp"
#include "capsim/rtl/dram/dram_energy.hpp"
#include "capsim/rtl/dram/dram_replay.hpp"

namespace capsim::sim {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

struct DramOptions {
  std::string preset;
  std::string trace;
  std::string out;
  std::vector<std::string> overrides;
  bool quiet = false;
};

// A preset name is a file of configs/dram; anything ending in .yaml is a spec file (which may
// itself name a `preset:` of configs/dram and override some of its keys).
std::string spec_path(const std::string& preset) {
  if (preset.size() > 5 && preset.compare(preset.size() - 5, 5, ".yaml") == 0) return preset;
  const std::string dir = CAPSIM_DRAM_PRESET_DIR;
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error))
    if (entry.path().extension() == ".yaml") names.push_back(entry.path().stem().string());
  std::sort(names.begin(), names.end());
  if (std::find(names.begin(), names.end(), preset) != names.end()) return dir + "/" + preset + ".yaml";
  std::string known;
  for (const auto& name : names) known += (known.empty() ? "" : ", ") + name;
  throw InputError({"--preset", 0}, "preset", "a DRAM preset of " + dir + " (" + known + ") or a .yaml file",
                   preset);
}

// capsim dram replays with the FR-FCFS controller unless the user asks otherwise.
dram::DramSpec load_spec(const DramOptions& o) {
  const std::string path = spec_path(o.preset);
  YamlDocument doc = YamlDocument::load_file(path);
  doc.apply_override("controller.scheduler=frfcfs");
  for (const auto& assignment : o.overrides) doc.apply_override(assignment);
  return dram::load_dram_spec(doc.root(), CAPSIM_DRAM_PRESET_DIR);
}

ordered_json stats_json(const StatList& stats) {
  ordered_json list = ordered_json::array();
  for (const auto& s : stats)
    list.push_back({{"name", s.name}, {"unit", s.unit}, {"description", s.description}, {"value", s.value}});
  return list;
}

ordered_json summary_json(const DramOptions& o, const dram::DramSpec& spec, const dram::ReplaySummary& s,
                          const dram::ReplayResult& result) {
  const auto energy = dram::energy_pj(result.counts, dram::dram_energy_table(spec));
  const double bits = 8.0 * double(s.bytes);
  ordered_json j;
  j["dram"] = {{"spec", o.preset},
               {"name", spec.name},
               {"scheduler", dram::to_string(spec.controller.scheduler)},
               {"page_policy", dram::to_string(spec.controller.page_policy)},
               {"peak_bandwidth_bytes_per_s", spec.peak_bandwidth_bytes_per_s()}};
  j["trace"] = o.trace;
  j["overrides"] = o.overrides;
  j["requests"] = s.requests;
  j["read_requests"] = s.read_requests;
  j["write_requests"] = s.write_requests;
  j["request_bytes"] = s.bytes;
  j["elapsed_ns"] = s.elapsed_ns;
  j["bandwidth_bytes_per_s"] = s.bandwidth_bytes_per_s;
  j["avg_read_latency_ns"] = s.avg_read_latency_ns;
  j["avg_read_latency_from_accept_ns"] = s.avg_read_latency_from_accept_ns;
  j["read_latency_p50_ns"] = s.read_latency_p50_ns;
  j["read_latency_p99_ns"] = s.read_latency_p99_ns;
  j["row_hit_ratio"] = s.row_hit_ratio;
  j["energy_pj"] = energy.total_pj();
  j["energy_pj_per_bit"] = bits > 0 ? energy.total_pj() / bits : 0.0;
  j["energy_stats"] = stats_json(dram::energy_stats(energy));
  j["dram_stats"] = stats_json(dram::dram_stats(result.counts));
  return j;
}

void run_dram(const DramOptions& o) {
  check_output_dir(o.out, "--out");
  const dram::DramSpec spec = load_spec(o);
  const auto requests = dram::read_memory_trace(o.trace, spec.org.tck_ps);
  const dram::ReplayResult result = dram::replay(spec, requests);
  const dram::ReplaySummary s = dram::summarize(requests, result);
  const std::string summary = summary_json(o, spec, s, result).dump(2) + "\n";
  // All or nothing; summary.json last: its presence marks a complete run.
  write_files_atomic(o.out, {{"dram_spec.yaml", dram::dram_spec_to_yaml(spec)}, {"summary.json", summary}},
                     "--out");
  if (!o.quiet)
    std::printf(
        "%s: %llu requests, %.3f GB/s, read latency %.1f ns (p99 %.1f ns), row hits %.3f, %.2f pJ/bit\n",
        o.trace.c_str(), static_cast<unsigned long long>(s.requests), s.bandwidth_bytes_per_s / 1e9,
        s.avg_read_latency_ns, s.read_latency_p99_ns, s.row_hit_ratio,
        result.counts.read_bursts + result.counts.write_bursts > 0 && s.bytes > 0
            ? dram::energy_pj(result.counts, dram::dram_energy_table(spec)).total_pj() / (8.0 * s.bytes)
            : 0.0);
}

void add_dram(CLI::App& app) {
  auto o = std::make_shared<DramOptions>();
  CLI::App* cmd = app.add_subcommand(
      "dram",
      "Replay a memory-request trace (DRAMsim3 format: 0xADDRESS READ|WRITE CYCLE) on a DRAM preset; "
      "write DIR/summary.json");
  cmd->add_option("--preset", o->preset, "DRAM preset name (configs/dram) or a spec .yaml")->required();
  cmd->add_option("--trace", o->trace,
                  "trace: one '0xADDRESS READ|WRITE CYCLE' per line, 64-byte requests, "
                  "CYCLE in the preset's clock")
      ->required();
  cmd->add_option("--out", o->out, "output directory")->required();
  cmd->add_option("--set", o->overrides,
                  "override a key of the DRAM spec, e.g. --set controller.page_policy=closed "
                  "(the scheduler is frfcfs unless --set controller.scheduler=in_order)")
      ->allow_extra_args(false);
  cmd->add_flag("--quiet,-q", o->quiet, "do not print the one-line summary");
  cmd->callback([o] { run_dram(*o); });
}

}  // namespace

CAPSIM_REGISTER_COMMAND("dram", add_dram);

}  // namespace capsim::sim
