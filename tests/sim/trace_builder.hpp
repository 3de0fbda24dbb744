#pragma once
// Builds small traces in code for simulator tests: shapes follow from the layer parameters and
// counts from trace::derive_counts, so a test states only the network it needs.
#include <string>
#include <vector>

#include "capsim/trace/trace.hpp"

namespace capsim::testing {

class TraceBuilder {
 public:
  TraceBuilder(trace::Shape input, std::string model = "test");

  // Each returns the new layer's name.
  std::string conv(const std::string& name, const std::string& input, std::int64_t out_channels, int kernel,
                   int stride = 1, int pad = 0, std::int64_t groups = 1);
  std::string dwconv(const std::string& name, const std::string& input, int kernel, int stride = 1,
                     int pad = 0);
  std::string pool(const std::string& name, const std::string& input, int kernel, int stride,
                   trace::PoolKind kind = trace::PoolKind::Max);
  std::string add(const std::string& name, const std::vector<std::string>& inputs);
  std::string linear(const std::string& name, const std::string& input, std::int64_t out_features);

  trace::Trace build() const;  // validated by a format/parse round trip

 private:
  trace::Shape shape_of(const std::string& name) const;
  std::string push(trace::Layer layer);
  trace::Trace trace_;
};

// conv 3x3 -> (conv 3x3 stride 2 | conv 1x1 stride 2) -> add -> dwconv -> pool -> linear.
trace::Trace small_residual_network(std::int64_t channels = 16, std::int64_t size = 16);

}  // namespace capsim::testing
