#pragma once
// Per-layer accounting: the static counts of a layer's tile jobs (bytes, MACs, buffer accesses,
// projection and quantization work) and, at the end of the layer, its timing and DRAM counts.
#include <vector>

#include "capsim/rtl/buffer/buffer.hpp"
#include "capsim/rtl/dram/dram_timing.hpp"
#include "capsim/rtl/protocol/tile_job.hpp"
#include "capsim/rtl/protocol/timeline.hpp"
#include "capsim/sim/arch_spec.hpp"
#include "capsim/sim/placement.hpp"
#include "capsim/sim/run_result.hpp"
#include "capsim/trace/trace.hpp"

namespace capsim::sim {

void summarize_tiles(const std::vector<protocol::TileJob>& jobs, const buffer::BufferModel& buffer,
                     LayerResult& r);
void describe_layer(const trace::Layer& layer, const TensorPlacement& output, const LayerWork& work,
                    const ArchSpec& arch, LayerResult& r);
void finish_layer(const dram::DramTiming& dram, const dram::DramCounts& at_start,
                  const protocol::Clock& clock, const pe::PeArraySpec& pe, LayerResult& r);

}  // namespace capsim::sim
