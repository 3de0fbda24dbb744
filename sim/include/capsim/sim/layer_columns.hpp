#pragma once
// The columns of layers.csv, declared once: name, unit, description, whether it is a number and how
// a sweep merges it over layers. layers.csv itself, the per-layer rows of a sweep's results.csv, the
// sums a sweep adds to a point's totals and the column table of docs/outputs.md (`capsim params
// --layer-columns`, checked by a test) all come from this list, so a new column is one entry here.
#include <functional>
#include <string>
#include <vector>

#include "capsim/sim/energy.hpp"
#include "capsim/sim/run_result.hpp"

namespace capsim::sim {

enum class ColumnMerge {
  None,  // a label, a flag or a ratio: not merged over layers
  Sum,   // summed over layers into the point's totals (summary.json does not carry it)
  Total  // summed over layers in summary.json's `total` already (a sweep takes it from there)
};

struct LayerColumn {
  std::string name;  // CSV header, snake_case ending in its unit where not obvious
  std::string
      unit;  // "bytes", "cycles", "pJ", "count", "ratio", "flag", "channels", "bits", "rows"; "" for text
  std::string description;
  ColumnMerge merge = ColumnMerge::None;
  // The cell of one layer, formatted as layers.csv writes it (`energy` is the layer's breakdown).
  std::function<std::string(const LayerResult&, const EnergyBreakdown& energy)> cell;

  bool is_number() const { return !unit.empty(); }
};

const std::vector<LayerColumn>& layer_columns();

// The table of docs/outputs.md (column, unit, meaning).
std::string layer_columns_markdown();

}  // namespace capsim::sim
