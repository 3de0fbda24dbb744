#include "capsim/rtl/protocol/tile_job.hpp"

namespace capsim::protocol {

std::string to_string(TrafficClass traffic) {
  switch (traffic) {
    case TrafficClass::Activation:
      return "activation";
    case TrafficClass::Weight:
      return "weight";
    case TrafficClass::ProjectionMatrix:
      return "projection_matrix";
  }
  return "?";
}

}  // namespace capsim::protocol
