// capsim-torch: the LibTorch half of the capsim command line (inspect, trace, train, evaluate,
// and the compression pipeline). Users normally run it through `capsim <command>`.
#include <spdlog/spdlog.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "capsim/common/cli_registry.hpp"
#include "capsim/common/error.hpp"

namespace {

// glibc reads its tunables at start-up only: a larger mmap threshold keeps LibTorch's big
// temporary buffers on the heap instead of mapping and unmapping them for every batch, which
// cut kernel time from a third of the CPU to a tenth and raised training throughput ~15% here.
//
// OpenMP threads that spin while waiting for each other stall 5-30x when another process holds a
// core; waiting passively costs 2-3% on an idle machine (ResNet18, width 0.5: 357 against 367
// training images/s) and keeps a shared machine usable.
//
// OpenBLAS (LibTorch's BLAS on Debian) keeps its own worker thread, which after every BLAS call
// spins on sched_yield for 2^28 cycles before sleeping; the compression hooks multiply matrices at
// every point, so it never sleeps and takes a quarter of both cores from LibTorch's threads (perf,
// MobileNetV2 fine-tuning). A timeout of 2^4 cycles (the least OpenBLAS accepts) puts it to sleep
// at once; it still works in parallel, so every result is unchanged byte for byte, and evaluation
// ran 2.4x, fine-tuning 8% and training 16% faster (docs/performance.md). All of these are read
// when the libraries load, hence the re-exec.
void reexec_with_runtime_settings(char** argv) {
  if (std::getenv("GLIBC_TUNABLES") != nullptr || std::getenv("CAPSIM_NO_REEXEC") != nullptr) return;
  ::setenv("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296",
           1);
  ::setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
  ::setenv("OPENBLAS_THREAD_TIMEOUT", "4", 0);
  ::execv("/proc/self/exe", argv);  // returns only on failure: then run as we are
}

}  // namespace

int main(int argc, char** argv) {
  reexec_with_runtime_settings(argv);
  CLI::App app{"capsim-torch: model zoo, training and compression pipeline (LibTorch)"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  capsim::cli::add_registered_commands(app);
  spdlog::set_pattern("%^%l%$: %v");
  try {
    return capsim::cli::run_cli(app, argc, argv);
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "error: LibTorch: %s\n", e.what_without_backtrace());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
  }
  return 1;
}
