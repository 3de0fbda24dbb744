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

const ParamSet<ControllerSpec>& controller_params() {
  static const ParamSet<ControllerSpec> params =
      ParamSet<ControllerSpec>()
          .choice(
              "spill_policy", &ControllerSpec::spill_policy,
              {{"always_spill", SpillPolicy::AlwaysSpill},
               {"spill_when_needed", SpillPolicy::SpillWhenNeeded}},
              {"",
               "`always_spill`: every activation goes to DRAM; `spill_when_needed`: an activation stays on "
               "chip when it fits",
               "the paper's assumption: every activation is written to DRAM and read back"})
          .choice(
              "compression_policy", &ControllerSpec::compression_policy,
              {{"as_planned", CompressionPolicy::AsPlanned},
               {"when_profitable", CompressionPolicy::WhenProfitable}},
              {"",
               "`as_planned`: every compression record of the trace is applied; `when_profitable`: a tensor "
               "is stored compressed only if that saves more DRAM bytes (write plus reads) than its side "
               "data "
               "costs (encoder plus a decoder per consumer that does not fold it) and the side data fits "
               "`projection.matrix_buffer_kib`; otherwise it is stored uncompressed (which only raises "
               "accuracy)",
               "the paper's setting: the plan decides"})
          .boolean("double_buffering", &ControllerSpec::double_buffering,
                   {"", "two buffer slots (overlap) or one (serial load, compute, store)",
                    "common practice in accelerators with a DMA (loads overlap compute)"})
          .number("resident_fraction", &ControllerSpec::resident_fraction, 0.0, 1.0,
                  {"", "`spill_when_needed`: share of the buffer activations kept on chip may use",
                   "modelling choice: half for residents, half for tiles"});
  return params;
}

const ParamSet<Datatypes>& datatype_params() {
  static const ParamSet<Datatypes> params =
      ParamSet<Datatypes>()
          .integer("activation_bits", &Datatypes::activation_bits, 1, 32,
                   {"bits", "b0: uncompressed activations, on chip and in DRAM",
                    "the paper's 8-bit activation baseline (Tai et al., arXiv 2110.08828)"})
          .integer("accumulator_bits", &Datatypes::accumulator_bits, 8, 64,
                   {"bits", "partial sums (PE row folds, encoder partial coefficients)",
                    "32-bit accumulators of 8-bit MAC arrays (TPU v1, Jouppi et al., ISCA 2017)"})
          .integer(
              "matrix_bits", &Datatypes::matrix_bits, 1, 32,
              {"bits", "projection matrices, channel means, quantization parameters in DRAM (edge preset: 8)",
               "modelling choice: 16-bit fixed point, the conservative side of the study"});
  return params;
}

// workload.batch lives on the spec itself (sweeps vary it like a hardware key).
ParamRow batch_row() {
  return {"workload.batch",
          ParamKind::Integer,
          "",
          "0..4096",
          {"images",
           "images per inference, overriding the trace's `network.batch` (0: the trace's); activations scale "
           "with it, weights and matrices that stay on chip are read once per batch",
           "0: the trace decides (traces are written at batch 1)"}};
}

void read_workload(const YamlView& root, ArchSpec& spec) {
  if (auto v = root.find("workload")) {
    v->allow_keys({"batch"});
    spec.batch = v->integer_or("batch", 0, 0, 1 << 12);
  }
}

ParamRow dram_row() {
  return {"dram.preset",
          ParamKind::Text,
          "required",
          "",
          {"",
           "a preset name, found as `dram/<name>.yaml` (below), or a path ending in `.yaml`, relative to the "
           "arch file; other keys in `dram:` override the preset's (docs/dram.md)",
           ""}};
}

// The preset and every resolved DRAM key: the printed config reads back to the same DRAM whatever
// the architecture overrode.
std::vector<ParamValue> show_dram(const ArchSpec& spec) {
  std::vector<ParamValue> values{{"dram.preset", ParamKind::Text, spec.dram_preset}};
  for (auto value : dram::dram_params().values(spec.dram)) {
    value.key = "dram." + value.key;
    values.push_back(std::move(value));
  }
  return values;
}

ParamRow energy_row() {
  return {"energy.table",
          ParamKind::Text,
          "required",
          "",
          {"",
           "a table name (`45nm`, `16nm`, `7nm`), found as `energy/<name>.yaml` (below), or a path ending in "
           "`.yaml` (docs/energy.md)",
           ""}};
}

void read_energy(const YamlView& root, ArchSpec& spec) {
  YamlView energy = root.child("energy");
  energy.allow_keys({"table"});
  spec.energy_table = resolve_reference(energy, "table", "energy");
}

ParamSet<ArchSpec> make_arch_params() {
  ParamSet<ArchSpec> params;
  params.text("name", &ArchSpec::name, {"", "name shown in outputs", ""}, true)
      .number("clock_mhz", &ArchSpec::clock_mhz, 1.0, 100000.0,
              {"MHz", "accelerator clock; cycles in outputs count this clock", ""}, true)
      .section("datatypes", &ArchSpec::datatypes, datatype_params())
      .section("pe_array", &ArchSpec::pe_array, pe::pe_array_params(), true)
      .section("buffer", &ArchSpec::buffer, buffer::buffer_params(), true)
      .section("dma", &ArchSpec::dma, dma::dma_params())
      .section("projection", &ArchSpec::projection, projection::projection_params())
      .section("quantization", &ArchSpec::quant, quant::quant_params())
      .section("controller", &ArchSpec::controller, controller_params())
      .custom("workload", {batch_row()}, read_workload,
              [](const ArchSpec& spec) {
                return std::vector<ParamValue>{
                    {"workload.batch", ParamKind::Integer, std::to_string(spec.batch)}};
              })
      .custom(
          "dram", {dram_row()},
          [](const YamlView& root, ArchSpec& spec) {
            spec.dram = parse_dram(root.child("dram"), spec.dram_preset);
          },
          show_dram, true)
      .custom(
          "energy", {energy_row()}, read_energy,
          [](const ArchSpec& spec) {
            return std::vector<ParamValue>{{"energy.table", ParamKind::Text, spec.energy_table}};
          },
          true);
  return params;
}

ArchSpec parse_root(const YamlView& root) {
  root.require_map("an architecture spec (a mapping of sections)");
  ArchSpec spec = arch_params().parse(root);
  spec.file = root.file();
  return spec;
}

ArchSpec parse_document(YamlDocument& doc, const std::vector<std::string>& overrides) {
  for (const auto& assignment : overrides) doc.apply_override(assignment);
  ArchSpec spec = parse_root(doc.root());
  spec.overrides = overrides;
  return spec;
}

}  // namespace

const ParamSet<ArchSpec>& arch_params() {
  static const ParamSet<ArchSpec> params = make_arch_params();
  return params;
}

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
