// Bursts per second of the DRAM timing model on the LPDDR4-3200 edge preset. A full ResNet18 run
// moves about a million bursts, so the per-burst path must stay in the tens of nanoseconds.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "capsim/common/yaml_view.hpp"
#include "capsim/rtl/dram/dram_spec.hpp"
#include "capsim/rtl/dram/dram_timing.hpp"

namespace {

using capsim::dram::DramSpec;
using capsim::dram::DramTiming;

DramSpec edge_spec() {
  const std::string path = std::string(CAPSIM_SOURCE_DIR) + "/configs/dram/lpddr4-3200.yaml";
  return capsim::dram::parse_dram_spec(capsim::YamlDocument::load_file(path).root());
}

// Tile-sized sequential requests (range(0) bytes each), alternating loads and stores as the two
// DMA engines would, arriving back to back.
void BM_SequentialTransfers(benchmark::State& state) {
  const DramSpec spec = edge_spec();
  DramTiming dram(spec);
  const std::uint64_t bytes = static_cast<std::uint64_t>(state.range(0));
  std::uint64_t addr = 0, now = 0, bursts = 0;
  for (auto _ : state) {
    now = dram.transfer((bursts & 1) != 0, addr, bytes, now);
    benchmark::DoNotOptimize(now);
    addr += bytes;
    bursts += bytes / spec.bytes_per_burst();
  }
  state.counters["bursts/s"] = benchmark::Counter(double(bursts), benchmark::Counter::kIsRate);
  state.counters["s/burst"] =
      benchmark::Counter(double(bursts), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_SequentialTransfers)->Arg(32)->Arg(4096)->Arg(65536);

// One-burst requests to random addresses: every burst decodes a new bank and mostly conflicts.
void BM_RandomBursts(benchmark::State& state) {
  const DramSpec spec = edge_spec();
  DramTiming dram(spec);
  const std::uint64_t capacity = spec.capacity_bytes();
  std::uint64_t rng = 88172645463325252ull, now = 0, bursts = 0;
  for (auto _ : state) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    now = dram.transfer(false, rng & (capacity - 1), spec.bytes_per_burst(), now);
    benchmark::DoNotOptimize(now);
    ++bursts;
  }
  state.counters["bursts/s"] = benchmark::Counter(double(bursts), benchmark::Counter::kIsRate);
  state.counters["s/burst"] =
      benchmark::Counter(double(bursts), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_RandomBursts);

}  // namespace

BENCHMARK_MAIN();
