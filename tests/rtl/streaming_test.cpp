// Shared streaming units (projection, quantization): arrival-order service at a fixed rate.
#include <gtest/gtest.h>

#include "capsim/rtl/protocol/timeline.hpp"

namespace capsim::protocol {
namespace {

TEST(Clock, RoundsPartialCyclesUp) {
  const Clock clock(800.0);  // 1250 ps
  EXPECT_EQ(clock.ps(4), 5000u);
  EXPECT_DOUBLE_EQ(clock.cycles(5000), 4.0);
  const Clock odd(700.0);  // 1428.57 ps
  EXPECT_EQ(odd.ps(1), 1429u);
  EXPECT_EQ(odd.ps(7), 10000u);
}

TEST(StreamingTimeline, ServesRequestsInArrivalOrderAtItsRate) {
  StreamingTimeline unit(64, Clock(1000.0));  // 64 items per 1 ns cycle
  EXPECT_EQ(unit.cycles_for(64), 1);
  EXPECT_EQ(unit.cycles_for(65), 2);
  EXPECT_EQ(unit.reserve(0, 640), 10'000u);       // 10 cycles
  EXPECT_EQ(unit.reserve(5'000, 64), 11'000u);    // queues behind the first request
  EXPECT_EQ(unit.reserve(50'000, 128), 52'000u);  // idle unit starts at arrival
  EXPECT_EQ(unit.busy_ps(), 13'000u);
}

}  // namespace
}  // namespace capsim::protocol
