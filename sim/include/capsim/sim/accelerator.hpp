#pragma once
// The accelerator top level: builds the SystemC modules from a validated ArchSpec, wires them
// (controller -> load DMA -> PE array -> store DMA, a buffer-slot semaphore for double
// buffering) and replays a trace layer by layer. Modules are elaborated once per process; run()
// may be called repeatedly (each run spawns its processes and ends when they return).
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include <memory>
#include <systemc>

#include "capsim/sim/arch_spec.hpp"
#include "capsim/sim/run_result.hpp"
#include "capsim/trace/trace.hpp"

namespace capsim::sim {

class Accelerator {
 public:
  explicit Accelerator(const ArchSpec& arch);
  ~Accelerator();
  Accelerator(const Accelerator&) = delete;
  Accelerator& operator=(const Accelerator&) = delete;

  // Plans every layer first (placement, tilings: errors surface before anything runs), then
  // simulates. The trace must outlive the call only.
  RunResult run(const trace::Trace& trace);

 private:
  struct Modules;
  ArchSpec arch_;
  std::unique_ptr<Modules> modules_;
  int runs_ = 0;
};

}  // namespace capsim::sim
