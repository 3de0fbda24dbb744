#include "capsim/sim/cost_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <deque>

#include "capsim/common/error.hpp"
#include "capsim/rtl/buffer/buffer.hpp"
#include "capsim/rtl/dma/dma.hpp"
#include "capsim/rtl/dram/dram_timing.hpp"
#include "capsim/rtl/protocol/timeline.hpp"
#include "capsim/sim/layer_counts.hpp"
#include "capsim/sim/layer_schedule.hpp"
#include "capsim/sim/placement.hpp"

namespace capsim::sim {
namespace {

// The DRAM as the DMA model books it. The cost model's run starts at time 0, so booking is the
// plain model's transfer (DramModule::book shifts it to the run's epoch).
struct DramPort {
  dram::DramTiming& timing;
  std::uint64_t book(bool is_write, std::uint64_t addr, std::uint64_t bytes, std::uint64_t start_ps) {
    return timing.transfer(is_write, addr, bytes, start_ps);
  }
};

// The units a transfer streams through, as the SystemC DMA engines see them (sim/sc/accelerator.cpp).
struct Units {
  protocol::Clock clock;
  dma::DmaModel dma;
  protocol::StreamingTimeline quant;
  protocol::StreamingTimeline projection;
  DramPort dram;

  Units(const ArchSpec& arch, dram::DramTiming& d)
      : clock(arch.clock_mhz),
        dma(arch.dma, clock),
        quant(arch.quant.values_per_cycle, clock),
        projection(arch.projection.macs_per_cycle, clock),
        dram{d} {}

  // The DMA model's finish time, as DmaEngine::stream books it.
  std::uint64_t stream(const protocol::Transfer& x, bool write, std::uint64_t start) {
    return dma.finish_ps(x, write, start, dram, quant, projection);
  }
};

// A DMA engine working through one tile's transfers, one after another.
struct Stream {
  const std::vector<protocol::Transfer>* transfers = nullptr;
  bool write = false;
  std::size_t next = 0;
  std::uint64_t now = 0;
  bool done() const { return transfers == nullptr || next == transfers->size(); }
};

// Runs the two DMA engines' current tiles, always advancing the one whose next transfer starts
// first, so the shared DRAM, quantization and projection units see requests in time order (the
// order the SystemC kernel serves them in; on a tie the store engine goes first).
void run_streams(Units& units, Stream& store, Stream& load) {
  while (!store.done() || !load.done()) {
    Stream& s = load.done() || (!store.done() && store.now <= load.now) ? store : load;
    s.now = units.stream((*s.transfers)[s.next++], s.write, s.now);
  }
}

}  // namespace

std::uint64_t replay_tiles(const std::vector<protocol::TileJob>& jobs, const ArchSpec& arch,
                           dram::DramTiming& dram, std::uint64_t start_ps) {
  if (jobs.empty()) return start_ps;
  Units units(arch, dram);
  const std::size_t slots = arch.controller.double_buffering ? 2 : 1;
  const std::size_t n = jobs.size();
  std::vector<std::uint64_t> load_end(n, start_ps), retire(n, start_ps);
  std::uint64_t issue = start_ps, pe_free = start_ps, store_free = start_ps;

  // A tile is issued when a buffer slot is free (the tile `slots` earlier retired), loaded after
  // the previous tile's loads, computed after its loads and the previous compute, stored after its
  // compute and the previous stores; its slot is freed when its stores complete.
  auto load_start = [&](std::size_t i) {
    if (i >= slots) issue = std::max(issue, retire[i - slots]);
    return std::max(issue, i > 0 ? load_end[i - 1] : start_ps);
  };
  Stream first{&jobs[0].loads, false, 0, load_start(0)};
  Stream none;
  run_streams(units, none, first);
  load_end[0] = first.now;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t pe_start = std::max(load_end[i], pe_free);
    pe_free = pe_start + units.clock.ps(jobs[i].compute.cycles);
    Stream store{&jobs[i].stores, true, 0, std::max(pe_free, store_free)};
    Stream load;
    const bool overlap = i + 1 < n && slots > 1;  // the next tile's loads run beside these stores
    if (overlap) load = Stream{&jobs[i + 1].loads, false, 0, load_start(i + 1)};
    run_streams(units, store, load);
    store_free = store.now;
    retire[i] = store.now;
    if (overlap) load_end[i + 1] = load.now;
    if (!overlap && i + 1 < n) {
      Stream next{&jobs[i + 1].loads, false, 0, load_start(i + 1)};
      run_streams(units, none, next);
      load_end[i + 1] = next.now;
    }
  }
  return retire[n - 1];
}

CostObjective parse_cost_objective(const std::string& name) {
  if (name == "bits") return CostObjective::Bits;
  if (name == "dram_bytes") return CostObjective::DramBytes;
  if (name == "energy") return CostObjective::Energy;
  throw InputError({"command line", 0}, "--objective", "bits, dram_bytes or energy", name);
}

std::string to_string(CostObjective objective) {
  switch (objective) {
    case CostObjective::Bits:
      return "bits";
    case CostObjective::DramBytes:
      return "dram_bytes";
    case CostObjective::Energy:
      return "energy";
  }
  return "?";
}

double objective_value(const CostEstimate& estimate, CostObjective objective) {
  switch (objective) {
    case CostObjective::Bits:
      return static_cast<double>(estimate.activation_bytes) * 8.0;
    case CostObjective::DramBytes:
      return static_cast<double>(estimate.dram_bytes);
    case CostObjective::Energy:
      return estimate.energy_pj;
  }
  return 0.0;
}

CostModel::CostModel(ArchSpec arch) : arch_(std::move(arch)), energy_(resolve_energy_table(arch_)) {}

namespace {

// Everything a layer's cost depends on: the layer, its tiling inputs and where its tensors live.
std::string layer_key(const trace::Trace& trace, const Placement& p, int layer) {
  const auto l = static_cast<std::size_t>(layer);
  std::string key = fmt::format("{}|b{}|r{}|w{}:{}:{}", layer, p.batch, p.resident_bytes[l],
                                p.layers[l].weight_bytes, p.layers[l].input_channels, p.weight_addresses[l]);
  auto describe = [&](const TensorPlacement& t) {
    key += fmt::format("|{}:{}:{}:{}:{}:{}:{}:{}", t.in_dram, t.dram_row_bytes, t.address, t.side_bytes,
                       t.encoder_address, t.decoder_address, t.projected() ? t.compression->k : 0,
                       t.compression ? t.compression->bits : 0);
    key += t.folded_into(layer) ? "f" : "u";
  };
  for (const auto& name : trace.layers[l].inputs) {
    const int producer = trace.index_of(name);
    describe(p.tensors[static_cast<std::size_t>(producer < 0 ? 0 : tensor_of_layer(producer))]);
  }
  describe(p.tensors[static_cast<std::size_t>(tensor_of_layer(layer))]);
  return key;
}

}  // namespace

CostEstimate CostModel::estimate(const trace::Trace& trace) const {
  const Placement placement = place_tensors(trace, arch_);
  const LayerScheduler scheduler(trace, placement, arch_);
  const buffer::BufferModel buffer(arch_.buffer);
  const protocol::Clock clock(arch_.clock_mhz);
  CostEstimate total;
  std::uint64_t total_ps = 0;
  for (std::size_t l = 0; l < trace.layers.size(); ++l) {
    const int layer = static_cast<int>(l);
    const std::string key = layer_key(trace, placement, layer);
    auto cached = cache_.find(key);
    if (cached == cache_.end()) {
      const std::vector<protocol::TileJob> jobs =
          scheduler.build_tiles(layer, scheduler.choose_tiling(layer));
      LayerResult r;
      summarize_tiles(jobs, buffer, r);
      dram::DramTiming dram(arch_.dram);
      const dram::DramCounts at_start = dram.counts();
      r.end_ps = replay_tiles(jobs, arch_, dram, 0);
      dram.advance_to(r.end_ps);
      finish_layer(dram, at_start, clock, arch_.pe_array, r);
      LayerCost c;
      c.dram_bytes = r.dram_read_total() + r.dram_write_total();
      c.activation_bytes = r.dram_read_bytes[static_cast<int>(TrafficClass::Activation)] +
                           r.dram_write_bytes[static_cast<int>(TrafficClass::Activation)];
      c.matrix_bytes = r.dram_read_bytes[static_cast<int>(TrafficClass::ProjectionMatrix)];
      c.elapsed_ps = r.end_ps;
      c.actions = r.actions;
      c.energy_pj = cost(r.actions, energy_).total_pj;
      cached = cache_.emplace(key, std::move(c)).first;
    }
    const LayerCost& c = cached->second;
    total.dram_bytes += c.dram_bytes;
    total.activation_bytes += c.activation_bytes;
    total.matrix_bytes += c.matrix_bytes;
    total.energy_pj += c.energy_pj;
    total_ps += c.elapsed_ps;
    for (const auto& [component, pj] : cost(c.actions, energy_).pj_by_component)
      total.energy_pj_by_component[component] += pj;
    total.layers.push_back(c);
  }
  total.cycles = static_cast<std::int64_t>(clock.cycles(total_ps) + 0.5);
  return total;
}

}  // namespace capsim::sim
