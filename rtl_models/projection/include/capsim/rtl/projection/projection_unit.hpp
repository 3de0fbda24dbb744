#pragma once
// The projection unit as an SC_MODULE: encoder and decoder multiply-accumulates streamed at
// `macs_per_cycle`, shared by the load and the store DMA.
#include "capsim/rtl/projection/projection.hpp"
#include "capsim/rtl/protocol/streaming_unit.hpp"

namespace capsim::projection {

class ProjectionUnit : public protocol::StreamingUnit {
 public:
  ProjectionUnit(sc_core::sc_module_name name, const ProjectionSpec& spec, protocol::Clock clock);
};

}  // namespace capsim::projection
