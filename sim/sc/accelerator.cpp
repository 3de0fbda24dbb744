#include "capsim/sim/accelerator.hpp"

#include <functional>
#include <memory>

#include "capsim/rtl/buffer/buffer.hpp"
#include "capsim/rtl/dma/dma_engine.hpp"
#include "capsim/rtl/dram/dram_module.hpp"
#include "capsim/rtl/pe_array/pe_array_module.hpp"
#include "capsim/rtl/projection/projection_unit.hpp"
#include "capsim/rtl/protocol/sim_time.hpp"
#include "capsim/rtl/quant/quant_unit.hpp"
#include "capsim/sim/dram_actions.hpp"
#include "capsim/sim/layer_counts.hpp"
#include "capsim/sim/layer_schedule.hpp"
#include "capsim/sim/placement.hpp"
#include "controller.hpp"

namespace capsim::sim {

// Every SystemC object of the accelerator; built once (elaboration), reused by every run.
struct Accelerator::Modules {
  protocol::Clock clock;
  dram::DramModule dram;
  quant::QuantUnit quant;
  projection::ProjectionUnit projection;
  dma::DmaEngine load;
  pe::PeArrayModule pe_array;
  dma::DmaEngine store;
  Controller controller;
  sc_core::sc_fifo<protocol::TileToken> to_load{"to_load", 4};
  sc_core::sc_fifo<protocol::TileToken> to_pe{"to_pe", 4};
  sc_core::sc_fifo<protocol::TileToken> to_store{"to_store", 4};
  sc_core::sc_fifo<protocol::TileToken> to_retire{"to_retire", 4};

  explicit Modules(const ArchSpec& arch)
      : clock(arch.clock_mhz),
        dram("dram", arch.dram),
        quant("quant", arch.quant, clock),
        projection("projection", arch.projection, clock),
        load("load_dma", dma::DmaEngine::Direction::Load, arch.dma, clock, dram, quant, projection),
        pe_array("pe_array", clock),
        store("store_dma", dma::DmaEngine::Direction::Store, arch.dma, clock, dram, quant, projection),
        controller("controller", arch.controller.double_buffering ? 2 : 1) {
    controller.issue(to_load);
    load.in(to_load);
    load.out(to_pe);
    pe_array.in(to_pe);
    pe_array.out(to_store);
    store.in(to_store);
    store.out(to_retire);
    controller.retire(to_retire);
  }
};

Accelerator::Accelerator(const ArchSpec& arch) : arch_(arch), modules_(std::make_unique<Modules>(arch_)) {}

Accelerator::~Accelerator() = default;

RunResult Accelerator::run(const trace::Trace& trace) {
  // Plan everything before simulating: a layer that cannot be tiled is an error of the inputs.
  const Placement placement = place_tensors(trace, arch_);
  const LayerScheduler scheduler(trace, placement, arch_);
  std::vector<Tiling> tilings;
  for (std::size_t i = 0; i < trace.layers.size(); ++i)
    tilings.push_back(scheduler.choose_tiling(static_cast<int>(i)));

  Modules& m = *modules_;
  RunResult result;
  result.clock_mhz = arch_.clock_mhz;
  result.layers.resize(trace.layers.size());
  const buffer::BufferModel buffer(arch_.buffer);
  std::vector<protocol::TileJob> jobs;
  dram::DramCounts layer_start_counts;

  auto tiles = [&](int layer) -> const std::vector<protocol::TileJob>& {
    jobs = scheduler.build_tiles(layer, tilings[static_cast<std::size_t>(layer)]);
    LayerResult& r = result.layers[static_cast<std::size_t>(layer)];
    r.tiling = tilings[static_cast<std::size_t>(layer)];
    summarize_tiles(jobs, buffer, r);
    describe_layer(trace.layers[static_cast<std::size_t>(layer)],
                   placement.tensors[static_cast<std::size_t>(tensor_of_layer(layer))],
                   placement.layers[static_cast<std::size_t>(layer)], arch_, r);
    return jobs;
  };
  const std::uint64_t run_start = protocol::now_ps();
  auto hook = [&](int layer, bool start) {
    LayerResult& r = result.layers[static_cast<std::size_t>(layer)];
    const std::uint64_t now = protocol::now_ps();
    if (start) {
      r.start_ps = now - run_start;
      layer_start_counts = m.dram.timing().counts();
      return;
    }
    r.end_ps = now - run_start;
    m.dram.timing().advance_to(now - run_start);  // refresh and standby cover the layer's whole duration
    finish_layer(m.dram.timing(), layer_start_counts, m.clock, arch_.pe_array, r);
  };

  // Every run starts from a fresh DRAM (closed rows, refresh phase 0) whose clock starts now.
  m.dram.begin_run(run_start);
  const dram::DramCounts run_start_counts = m.dram.timing().counts();
  const int layer_count = static_cast<int>(trace.layers.size());
  // Process names must be unique in the kernel: number them by run.
  const std::string run = "_run" + std::to_string(++runs_);
  sc_core::sc_spawn([&] { m.controller.issue_layers(layer_count, tiles, hook); }, ("issue" + run).c_str());
  sc_core::sc_spawn([&] { m.controller.retire_tiles(); }, ("retire" + run).c_str());
  sc_core::sc_spawn([&] { m.load.run(); }, ("load" + run).c_str());
  sc_core::sc_spawn([&] { m.pe_array.run(); }, ("compute" + run).c_str());
  sc_core::sc_spawn([&] { m.store.run(); }, ("store" + run).c_str());
  sc_core::sc_start();
  m.dram.timing().advance_to(protocol::now_ps() - run_start);

  result.total_ps = protocol::now_ps() - run_start;
  result.total_cycles = static_cast<std::int64_t>(m.clock.cycles(result.total_ps) + 0.5);
  result.dram_stats = dram_stats_between(m.dram.timing(), run_start_counts, result.total_ps);
  result.dram_peak_bytes_per_s = m.dram.timing().peak_bandwidth_bytes_per_s();
  return result;
}

}  // namespace capsim::sim
