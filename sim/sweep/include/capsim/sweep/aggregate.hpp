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
#include <vector>

#include "capsim/sweep/manifest.hpp"

namespace capsim::sweep {

struct AggregateSummary {
  std::size_t finished = 0;
  std::size_t failed = 0;
  std::size_t missing = 0;
};

// A column of points.csv after the point's coordinates (point, status, network, plan, axis keys).
struct PointColumn {
  std::string name;
  std::string unit;  // "" for text
  std::string description;
};

// The columns, in order: totals (declared in sim/run_totals, the sweep's own metrics or the energy
// components), plan_effect, the ratios to `none`, error. The header of points.csv and the table of
// docs/sweeps.md (`capsim params --point-columns`, checked by a test) come from it.
const std::vector<PointColumn>& point_columns();
std::string point_columns_markdown();

AggregateSummary write_aggregates(const std::string& sweep_dir, const Manifest& manifest);

}  // namespace capsim::sweep
