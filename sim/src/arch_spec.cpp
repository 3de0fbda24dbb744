#include "capsim/common/integers.hpp"
#include "capsim/sim/arch_spec.hpp"

#include <filesystem>

#include "capsim/common/yaml_view.hpp"

namespace capsim::sim {
namespace {

namespace fs = std::filesystem;

// A preset name resolves to <configs>/<kind>/<name>.yaml, where <configs> is the parent of the
// arch file's directory; a value ending in .yaml is a path relative to the arch file.
std::string resolve_reference(const YamlView& view, std::string_view key, const std::string& kind) {
  const std::string value = view.string(key);
  const fs::path arch_dir = fs::path(view.file()).parent_path();
  fs::path candidate = ends_with(value, ".yaml") ? arch_dir / value : arch_dir / ".." / kind / (value + ".yaml");
  if (!fs::exists(candidate)) {
    std::string expected = "a " + kind + " preset name (a file " + candidate.lexically_normal().string() +
                           ") or a path ending in .yaml";
    std::vector<std::string> known;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(arch_dir / ".." / kind, ec))
      if (entry.path().extension() == ".yaml") known.push_back(entry.path().stem().string());
    if (auto hint = closest_match(value, known); !hint.empty()) expected += " (did you mean '" + hint + "'?)";
    view.fail(key, expected);
  }
  return candidate.lexically_normal().string();
}

ControllerSpec parse_controller(const YamlView& view) {
  view.allow_keys({"spill_policy", "compression_policy", "double_buffering", "resident_fraction"});
  ControllerSpec spec;
  spec.spill_policy = view.choice_or("spill_policy", {"always_spill", "spill_when_needed"}, "always_spill") ==
                              "always_spill"
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
  root.allow_keys({"name", "clock_mhz", "datatypes", "pe_array", "buffer", "dma", "projection", "quantization",
                   "controller", "dram", "energy"});
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
