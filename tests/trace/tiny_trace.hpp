#pragma once
#include <string>

namespace capsim::trace::testing {
// A six-layer network (conv, strided conv, 1x1 shortcut, add, pool, linear) whose counts were
// worked out by hand; see tiny_trace.cpp.
extern const char* const kTinyTrace;
}  // namespace capsim::trace::testing
