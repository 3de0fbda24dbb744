// Throughput of the cifar zoo models on this machine: training steps (forward, cross-entropy,
// backward, SGD with momentum) and eval-mode inference, in images per second.
//   zoo_speed [seconds=6] [batch=128] [threads=2] [input side=32] [model] [width] [memory format]
// Prints one CSV row per model, width, mode and memory format: the fastest and the median step.
// Not a test: `ninja -C <build> zoo_speed`.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "capsim/workloads/graph.hpp"

namespace {

using capsim::workloads::GraphNet;
using Clock = std::chrono::steady_clock;

// CPU time (in clock ticks) used by the whole machine and by this process: their difference over
// a measurement is what other processes took (the machine is shared; 2 cores = 2 x elapsed).
std::pair<long long, long long> cpu_ticks() {
  long long machine = 0, self = 0;
  if (FILE* f = std::fopen("/proc/stat", "r")) {
    long long user, nice, system, idle, iowait, irq, softirq, steal;
    if (std::fscanf(f, "cpu %lld %lld %lld %lld %lld %lld %lld %lld", &user, &nice, &system, &idle, &iowait,
                    &irq, &softirq, &steal) == 8)
      machine = user + nice + system + irq + softirq + steal;
    std::fclose(f);
  }
  if (FILE* f = std::fopen("/proc/self/stat", "r")) {
    long long utime = 0, stime = 0;
    // Fields 14 and 15; the command name (field 2) has no spaces here.
    if (std::fscanf(f, "%*d %*s %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lld %lld", &utime, &stime) == 2)
      self = utime + stime;
    std::fclose(f);
  }
  return {machine, self};
}

struct Rate {
  double best = 0, median = 0;  // images per second: fastest step, median step
  double others = 0;            // cores used by other processes meanwhile (0 = quiet machine)
  double per_cpu_second = 0;    // images per CPU-second of this process (robust to contention at 1 thread)
};

// Times `step` (one batch) until `seconds` have passed (at least 5 steps after a warm-up). The
// machine is shared: the fastest step estimates the uncontended speed, the median the typical one.
template <class Step>
Rate images_per_second(Step step, std::int64_t batch, double seconds) {
  step();
  const auto before = cpu_ticks();
  std::vector<double> times;
  double total = 0;
  while (times.size() < 5 || total < seconds) {
    const auto start = Clock::now();
    step();
    times.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    total += times.back();
  }
  const auto after = cpu_ticks();
  const double other_ticks =
      static_cast<double>((after.first - before.first) - (after.second - before.second));
  std::sort(times.begin(), times.end());
  const double b = static_cast<double>(batch);
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double own_seconds = static_cast<double>(after.second - before.second) / ticks;
  return {b / times.front(), b / times[times.size() / 2], other_ticks / ticks / total,
          own_seconds > 0 ? b * static_cast<double>(times.size()) / own_seconds : 0.0};
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 6.0;
  const std::int64_t batch = argc > 2 ? std::atoll(argv[2]) : 128;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 2;
  const std::int64_t side = argc > 4 ? std::atoll(argv[4]) : 32;
  const std::string only = argc > 5 ? argv[5] : "";             // one model, or all
  const double only_width = argc > 6 ? std::atof(argv[6]) : 0;  // one width, or all
  const std::string only_format = argc > 7 ? argv[7] : "";      // contiguous, channels_last or both
  torch::set_num_threads(threads);
  fmt::print(
      "model,width,params,mode,memory_format,best_images_per_second,median_images_per_second,other_cores,"
      "images_per_cpu_second\n");
  for (const char* model : {"resnet18", "mobilenetv2", "vgg16"}) {
    if (!only.empty() && only != model) continue;
    for (double width : {0.25, 0.5, 1.0}) {
      if (only_width > 0 && width != only_width) continue;
      for (bool channels_last : {false, true}) {
        if (!only_format.empty() && only_format != (channels_last ? "channels_last" : "contiguous")) continue;
        torch::manual_seed(0);
        capsim::workloads::ModelOptions options;
        options.variant = "cifar";
        options.in_channels = 1;
        options.width = width;
        GraphNet net = capsim::workloads::make_model(model, options);
        const auto format =
            channels_last ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
        if (channels_last) {  // weights in NHWC too, or every conv converts them per call
          torch::NoGradGuard no_grad;
          for (auto& p : net->parameters())
            if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
        }
        const torch::Tensor x = torch::randn({batch, 1, side, side}).contiguous(format);
        const torch::Tensor labels = torch::randint(0, 10, {batch});
        torch::optim::SGD sgd(net->parameters(),
                              torch::optim::SGDOptions(0.05).momentum(0.9).weight_decay(5e-4));
        net->train();
        const Rate train = images_per_second(
            [&] {
              sgd.zero_grad();
              torch::nn::functional::cross_entropy(net->forward(x), labels).backward();
              sgd.step();
            },
            batch, seconds);
        net->eval();
        const Rate infer = images_per_second(
            [&] {
              torch::InferenceMode guard;
              net->forward(x);
            },
            batch, seconds);
        const char* fmt_name = channels_last ? "channels_last" : "contiguous";
        for (const auto& [mode, rate] : {std::pair{"train", train}, std::pair{"eval", infer}})
          fmt::print("{},{},{},{},{},{:.0f},{:.0f},{:.2f},{:.0f}\n", model, width, net->parameter_count(),
                     mode, fmt_name, rate.best, rate.median, rate.others, rate.per_cpu_second);
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
