#pragma once
// The architecture spec: one YAML file (configs/arch/*.yaml, every key documented in
// docs/architecture.md) that names the accelerator's blocks and their parameters. It is parsed
// and validated completely, --set overrides included, before any module is built; every error
// names file, line, key and what was expected.
#include <string>
#include <vector>

#include "capsim/rtl/buffer/buffer.hpp"
#include "capsim/rtl/dma/dma.hpp"
#include "capsim/rtl/dram/dram_spec.hpp"
#include "capsim/rtl/pe_array/pe_array.hpp"
#include "capsim/rtl/projection/projection.hpp"
#include "capsim/rtl/quant/quant.hpp"

namespace capsim::sim {

enum class SpillPolicy {
  AlwaysSpill,      // every activation goes to DRAM between layers (the paper's assumption)
  SpillWhenNeeded,  // an activation stays on chip when it fits beside the working set
};
std::string to_string(SpillPolicy policy);

struct Datatypes {
  int activation_bits = 8;    // b0: uncompressed activations, on chip and in DRAM
  int accumulator_bits = 32;  // partial sums
  int matrix_bits = 16;       // projection matrices, channel means, quantization parameters
};

enum class CompressionPolicy {
  AsPlanned,       // every compression record of the trace is applied (the paper's setting)
  WhenProfitable,  // a tensor is compressed only if that saves more DRAM bytes than its matrices cost
};
std::string to_string(CompressionPolicy policy);

struct ControllerSpec {
  SpillPolicy spill_policy = SpillPolicy::AlwaysSpill;
  CompressionPolicy compression_policy = CompressionPolicy::AsPlanned;
  bool double_buffering = true;  // overlap the next tile's loads and the last tile's stores with compute
  double resident_fraction =
      0.5;  // spill_when_needed: share of the buffer that may hold resident activations
};

struct ArchSpec {
  std::string name;
  std::string file;                    // the YAML it came from
  std::vector<std::string> overrides;  // --set assignments applied
  double clock_mhz = 800.0;
  Datatypes datatypes;
  pe::PeArraySpec pe_array;
  buffer::BufferSpec buffer;
  dma::DmaSpec dma;
  projection::ProjectionSpec projection;
  quant::QuantSpec quant;
  ControllerSpec controller;
  // workload.batch: images per inference, overriding the trace's network.batch (0: the trace's).
  // A deployment parameter that sweeps vary like any hardware key: activations scale with it,
  // weights and matrices that stay on chip are read once per batch.
  std::int64_t batch = 0;
  std::string dram_preset;  // preset name or file
  dram::DramSpec dram;
  std::string energy_table;  // resolved path of the energy table YAML
};

// Every key of an architecture spec, declared once (docs/architecture.md's key table, parsing,
// run records and --print-config come from it; `capsim params` prints it).
const ParamSet<ArchSpec>& arch_params();

// Loads `path`, applies `overrides` ("key.path=value"), resolves the DRAM preset and energy table
// (a name is looked up as dram/<name>.yaml or energy/<name>.yaml in, in order: the directory above
// the arch file's, the installed share/capsim/configs, the source tree's configs/, and the
// directories of CAPSIM_CONFIG_PATH; values ending in .yaml are paths relative to the arch file)
// and validates everything.
ArchSpec load_arch_spec(const std::string& path, const std::vector<std::string>& overrides = {});
ArchSpec parse_arch_spec(const std::string& text, const std::string& name,
                         const std::vector<std::string>& overrides = {});

}  // namespace capsim::sim
