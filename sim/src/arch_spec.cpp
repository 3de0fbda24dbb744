#include "capsim/sim/arch_spec.hpp"

#include <cstdlib>
#include <filesystem>

#include "capsim/common/integers.hpp"
#include "capsim/common/yaml_view.hpp"

namespace capsim::sim {
namespace {

namespace fs = std::filesystem;

// Where preset names are looked up, in order (docs/architecture.md): beside the arch file
// (<arch dir>/../<kind>), the project's configs (an installed share/capsim/configs beside the
// executable, then the source tree capsim was built from), then each directory of
// CAPSIM_CONFIG_PATH (colon-separated configs directories, each holding <kind>/ subdirectories).
struct SearchDir {
  fs::path dir;       // holds <name>.yaml
  std::string where;  // why it is searched, for the error message
};

std::vector<SearchDir> search_dirs(const fs::path& arch_dir, const std::string& kind) {
  std::vector<SearchDir> dirs = {{arch_dir / ".." / kind, "beside the arch file"}};
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec)
    dirs.push_back({exe.parent_path() / CAPSIM_INSTALLED_CONFIGS / kind, "installed beside the executable"});
  dirs.push_back({fs::path(CAPSIM_SOURCE_CONFIGS) / kind, "the project's configs"});
  if (const char* env = std::getenv("CAPSIM_CONFIG_PATH"); env && *env) {
    std::string_view rest = env;
    while (!rest.empty()) {
      const auto colon = rest.find(':');
      const std::string_view entry = rest.substr(0, colon);
      if (!entry.empty()) dirs.push_back({fs::path(entry) / kind, "CAPSIM_CONFIG_PATH"});
      rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    }
  }
  for (auto& d : dirs) d.dir = d.dir.lexically_normal();
  return dirs;
}

// A preset name resolves to <name>.yaml in the first search directory that has it; a value ending
// in .yaml is a path relative to the arch file.
std::string resolve_reference(const YamlView& view, std::string_view key, const std::string& kind) {
  const std::string value = view.string(key);
  const fs::path arch_dir = fs::path(view.file()).parent_path();
  const std::string what = kind == "dram" ? "a DRAM preset" : "an energy table";
  std::error_code ec;
  if (ends_with(value, ".yaml")) {
    const fs::path candidate = (arch_dir / value).lexically_normal();
    if (!fs::is_regular_file(candidate, ec))
      view.fail(key, what + " file " + candidate.string() +
                         " (a path ending in .yaml is relative to the arch file)");
    return candidate.string();
  }
  const std::vector<SearchDir> dirs = search_dirs(arch_dir, kind);
  for (const auto& d : dirs)
    if (fs::is_regular_file(d.dir / (value + ".yaml"), ec)) return (d.dir / (value + ".yaml")).string();
  std::string expected = what + " name, a file " + value + ".yaml in one of ";
  std::vector<std::string> known;
  for (std::size_t i = 0; i < dirs.size(); ++i) {
    expected += (i ? ", " : "") + fs::absolute(dirs[i].dir, ec).lexically_normal().string() + " (" +
                dirs[i].where + ")";
    for (const auto& entry : fs::directory_iterator(dirs[i].dir, ec))
      if (entry.path().extension() == ".yaml") known.push_back(entry.path().stem().string());
  }
  expected += "; or a path ending in .yaml";
  if (auto hint = closest_match(value, known); !hint.empty()) expected += " (did you mean '" + hint + "'?)";
  view.fail(key, expected);
}

ControllerSpec parse_controller(const YamlView& view) {
  view.allow_keys({"spill_policy", "compression_policy", "double_buffering", "resident_fraction"});
  ControllerSpec spec;
  spec.spill_policy =
      view.choice_or("spill_policy", {"always_spill", "spill_when_needed"}, "always_spill") == "always_spill"
          ? SpillPolicy::AlwaysSpill
          : SpillPolicy::SpillWhenNeeded;
  spec.compression_policy =
      view.choice_or("compression_policy", {"as_planned", "when_profitable"}, "as_planned") == "as_planned"
          ? CompressionPolicy::AsPlanned
          : CompressionPolicy::WhenProfitable;
  spec.double_buffering = view.boolean_or("double_buffering", spec.double_buffering);
  spec.resident_fraction = view.number_or("resident_fraction", spec.resident_fraction, 0.0, 1.0);
  return spec;
}

Datatypes parse_datatypes(const YamlView& view) {
  view.allow_keys({"activation_bits", "accumulator_bits", "matrix_bits"});
  Datatypes d;
  d.activation_bits = static_cast<int>(view.integer_or("activation_bits", d.activation_bits, 1, 32));
  d.accumulator_bits = static_cast<int>(view.integer_or("accumulator_bits", d.accumulator_bits, 8, 64));
  d.matrix_bits = static_cast<int>(view.integer_or("matrix_bits", d.matrix_bits, 1, 32));
  return d;
}

dram::DramSpec parse_dram(const YamlView& arch_dram, std::string& preset_out) {
  arch_dram.require_map("a DRAM section: {preset: NAME, ...overrides}");
  preset_out = resolve_reference(arch_dram, "preset", "dram");
  YamlDocument preset = YamlDocument::load_file(preset_out);
  const YamlView layered = arch_dram.with_base(preset.root());
  dram::DramSpec spec = dram::parse_dram_spec(layered);
  // The accelerator books each tile's request when it is issued (DramTiming); the queue-based
  // scheduler needs the whole request stream and serves `capsim dram` only.
  if (spec.controller.scheduler != dram::Scheduler::kInOrder)
    layered.child("controller")
        .fail("scheduler", "'in_order' in an architecture ('frfcfs' is for `capsim dram`)");
  return spec;
}

ArchSpec parse_root(const YamlView& root) {
  root.require_map("an architecture spec (a mapping of sections)");
  root.allow_keys({"name", "clock_mhz", "datatypes", "pe_array", "buffer", "dma", "projection",
                   "quantization", "controller", "dram", "energy", "workload"});
  ArchSpec spec;
  spec.file = root.file();
  spec.name = root.string("name");
  spec.clock_mhz = root.number("clock_mhz", 1.0, 100000.0);
  if (auto v = root.find("datatypes")) spec.datatypes = parse_datatypes(*v);
  spec.pe_array = pe::parse_pe_array_spec(root.child("pe_array"));
  spec.buffer = buffer::parse_buffer_spec(root.child("buffer"));
  if (auto v = root.find("dma")) spec.dma = dma::parse_dma_spec(*v);
  if (auto v = root.find("projection")) spec.projection = projection::parse_projection_spec(*v);
  if (auto v = root.find("quantization")) spec.quant = quant::parse_quant_spec(*v);
  if (auto v = root.find("controller")) spec.controller = parse_controller(*v);
  if (auto v = root.find("workload")) {
    v->allow_keys({"batch"});
    spec.batch = v->integer_or("batch", 0, 0, 1 << 12);
  }
  spec.dram = parse_dram(root.child("dram"), spec.dram_preset);
  YamlView energy = root.child("energy");
  energy.allow_keys({"table"});
  spec.energy_table = resolve_reference(energy, "table", "energy");
  return spec;
}

ArchSpec parse_document(YamlDocument& doc, const std::vector<std::string>& overrides) {
  for (const auto& assignment : overrides) doc.apply_override(assignment);
  ArchSpec spec = parse_root(doc.root());
  spec.overrides = overrides;
  return spec;
}

}  // namespace

std::string to_string(CompressionPolicy policy) {
  return policy == CompressionPolicy::AsPlanned ? "as_planned" : "when_profitable";
}

std::string to_string(SpillPolicy policy) {
  return policy == SpillPolicy::AlwaysSpill ? "always_spill" : "spill_when_needed";
}

ArchSpec load_arch_spec(const std::string& path, const std::vector<std::string>& overrides) {
  YamlDocument doc = YamlDocument::load_file(path);
  return parse_document(doc, overrides);
}

ArchSpec parse_arch_spec(const std::string& text, const std::string& name,
                         const std::vector<std::string>& overrides) {
  YamlDocument doc = YamlDocument::parse(text, name);
  return parse_document(doc, overrides);
}

}  // namespace capsim::sim
