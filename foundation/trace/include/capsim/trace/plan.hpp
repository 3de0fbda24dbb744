#pragma once
// Compression plans: which layer outputs are projected to k of C channels and at how many bits.
//   none            every activation stored uncompressed (at the architecture's activation bits)
//   uniform:R[:B]   every activation but the network output keeps k = round(R*C) of C channels
//                   (1 <= k <= C), B bits per coefficient (default 8)
//   PATH.yaml       a plan file (format capsim-plan v1, docs/trace-format.md)
// Plans apply by layer name. When a trace's channel count differs from the plan's (a plan learned
// on the cifar variant applied to the imagenet one), k scales with it: k' = round(k * C' / C).
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "capsim/trace/trace.hpp"

namespace capsim::trace {

inline constexpr int kPlanVersion = 1;
inline constexpr int kDefaultCoefficientBits = 8;

struct PlanEntry {
  std::int64_t channels = 0;
  std::int64_t k = 0;
  int bits = kDefaultCoefficientBits;
  std::optional<double> entropy_bits_per_value;
  std::optional<double> nrmse;
};

struct Plan {
  enum class Kind { None, Uniform, PerLayer };
  Kind kind = Kind::None;
  std::string name = "none";
  std::string model;   // informational, per-layer plans
  std::string method;  // informational: greedy, uniform, variance, ceiling...
  double ratio = 1.0;  // uniform: kept fraction R = k / C
  int bits = kDefaultCoefficientBits;
  // How a projected layer's k * bits are spread over its coefficients: "uniform" (every one at
  // the layer's bits) or "variance" (more bits for high-variance components, docs/compression.md).
  // Either way a layer stores k * bits per pixel, so the simulator costs both alike.
  std::string component_bits = "uniform";
  std::map<std::string, PlanEntry> layers;  // per-layer plans
  std::string source;                       // the file it was read from (error messages)
  std::map<std::string, int> lines;         // layer name -> line in that file
};

// Parses "none", "uniform:R[:B]" or loads a plan file. InputError on bad specs (origin names it).
Plan parse_plan_spec(const std::string& spec, const std::string& origin = "--plan");
Plan read_plan(const std::string& path);
Plan parse_plan(const std::string& text, const std::string& name);
std::string format_plan(const Plan& plan);
void write_plan(const Plan& plan, const std::string& path);

// Sets every layer's compression record from the plan (and trace.plan to its name). A per-layer
// plan naming a layer the trace lacks is an InputError.
void apply_plan(Trace& trace, const Plan& plan);

// k scaled from the plan's channel count to the trace's, clamped to [1, channels].
std::int64_t scale_k(std::int64_t plan_k, std::int64_t plan_channels, std::int64_t channels);

}  // namespace capsim::trace
