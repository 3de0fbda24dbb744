#include "capsim/rtl/projection/projection_unit.hpp"

namespace capsim::projection {

ProjectionUnit::ProjectionUnit(sc_core::sc_module_name name, const ProjectionSpec& spec,
                               protocol::Clock clock)
    : StreamingUnit(name, spec.macs_per_cycle, clock) {}

}  // namespace capsim::projection
