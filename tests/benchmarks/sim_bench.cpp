// Wall time of full-network simulations on the edge preset (issue target: ResNet18 at 3x224x224
// in under 50 ms while modelling DRAM rows and bursts). Run: build/tests/benchmarks/sim_bench
// One SystemC design is elaborated per process; every iteration is a complete run() of a trace.
#include <benchmark/benchmark.h>

#include <memory>
#include <systemc>

#include "capsim/sim/accelerator.hpp"
#include "capsim/sim/arch_spec.hpp"
#include "capsim/trace/plan.hpp"
#include "capsim/trace/trace.hpp"

namespace {

capsim::sim::Accelerator& edge_accelerator() {
  static auto accelerator = std::make_unique<capsim::sim::Accelerator>(
      capsim::sim::load_arch_spec(std::string(CAPSIM_SOURCE_DIR) + "/configs/arch/edge.yaml"));
  return *accelerator;
}

capsim::trace::Trace shipped_trace(const std::string& model, const std::string& plan) {
  auto t = capsim::trace::read_trace(std::string(CAPSIM_SOURCE_DIR) + "/results/traces/" + model +
                                     "_imagenet_3x224x224.trace");
  capsim::trace::apply_plan(t, capsim::trace::parse_plan_spec(plan));
  return t;
}

void simulate(benchmark::State& state, const std::string& model, const std::string& plan) {
  const auto trace = shipped_trace(model, plan);
  auto& accelerator = edge_accelerator();
  std::int64_t bursts = 0;
  for (auto _ : state) {
    const auto result = accelerator.run(trace);
    bursts = 0;
    for (const auto& s : result.dram_stats)
      if (s.name == "read_bursts" || s.name == "write_bursts") bursts += static_cast<std::int64_t>(s.value);
    benchmark::DoNotOptimize(result.total_cycles);
  }
  state.counters["layers"] = static_cast<double>(trace.layers.size());
  state.counters["bursts"] = static_cast<double>(bursts);
}

}  // namespace

BENCHMARK_CAPTURE(simulate, resnet18_none, std::string("resnet18"), std::string("none"))
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(simulate, resnet18_uniform_0_25, std::string("resnet18"), std::string("uniform:0.25"))
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(simulate, mobilenetv2_none, std::string("mobilenetv2"), std::string("none"))
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(simulate, vgg16_none, std::string("vgg16"), std::string("none"))
    ->Unit(benchmark::kMillisecond);

int sc_main(int argc, char* argv[]) {
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
