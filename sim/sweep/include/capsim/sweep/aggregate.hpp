#pragma once
// The tables of a sweep directory, rebuilt from the manifest and the point directories:
//   results.csv  tidy long format: point,network,plan,layer,metric,value,unit; one row per metric of
//                every layer and of the `total` pseudo-layer, finished points only
//   points.csv   one row per point: status, network, plan, axis values, totals, the plan's effect
//                and ratios to the same point's `none` plan (same network and axis values)
// Rows follow the manifest's point order, so equal inputs give byte-identical tables (a sharded
// and merged sweep equals an unsharded one).
#include <cstddef>
#include <string>

#include "capsim/sweep/manifest.hpp"

namespace capsim::sweep {

struct AggregateSummary {
  std::size_t finished = 0;
  std::size_t failed = 0;
  std::size_t missing = 0;
};

AggregateSummary write_aggregates(const std::string& sweep_dir, const Manifest& manifest);

}  // namespace capsim::sweep
