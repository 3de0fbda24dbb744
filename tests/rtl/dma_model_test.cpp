// DmaModel (plain C++, no SystemC): set-up and on-chip bus cycles of a transfer, and its finish
// time when it streams through the DRAM, the bus, the quantization and the projection unit at
// once. The DRAM is a fake with a fixed latency and bandwidth serving requests in arrival order,
// so every expected finish time is a closed form worked out by hand in the comments.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "capsim/rtl/dma/dma.hpp"
#include "capsim/rtl/protocol/tile_job.hpp"
#include "capsim/rtl/protocol/timeline.hpp"

namespace capsim::dma {
namespace {

// A DRAM with one data bus: a request starts when it arrives and the bus is free, occupies the
// bus for bytes * ps_per_byte and its last byte arrives `latency_ps` later.
struct FakeDram {
  std::uint64_t latency_ps = 60'000;
  std::uint64_t ps_per_byte = 100;  // 10 GB/s
  std::uint64_t bus_free_ps = 0;
  struct Call {
    bool write;
    std::uint64_t addr, bytes, start_ps;
  };
  std::vector<Call> calls;

  std::uint64_t book(bool is_write, std::uint64_t addr, std::uint64_t bytes, std::uint64_t start_ps) {
    calls.push_back({is_write, addr, bytes, start_ps});
    const std::uint64_t begin = std::max(start_ps, bus_free_ps);
    bus_free_ps = begin + bytes * ps_per_byte;
    return bus_free_ps + latency_ps;
  }
};

DmaSpec spec(std::int64_t setup, std::int64_t bus) {
  DmaSpec s;
  s.setup_cycles = setup;
  s.bus_bytes_per_cycle = bus;
  return s;
}

protocol::Transfer transfer(std::int64_t bytes, std::int64_t onchip_bytes, std::int64_t quant_values = 0,
                            std::int64_t projection_macs = 0, std::uint64_t address = 0) {
  protocol::Transfer x;
  x.address = address;
  x.bytes = bytes;
  x.onchip_bytes = onchip_bytes;
  x.quant_values = quant_values;
  x.projection_macs = projection_macs;
  return x;
}

// The units of a 1 GHz accelerator (1000 ps per cycle): 32 values/cycle quantization, 64
// MACs/cycle projection (the architecture defaults).
struct Units {
  protocol::Clock clock{1000.0};
  FakeDram dram;
  protocol::StreamingTimeline quant{32, clock};
  protocol::StreamingTimeline projection{64, clock};
};

TEST(DmaModel, BusCyclesAreSetUpPlusWholeBeats) {
  // setup 16, 32 B per cycle: 16 + ceil(bytes / 32).
  const DmaModel dma(spec(16, 32), protocol::Clock(1000.0));
  EXPECT_EQ(dma.bus_cycles(0), 16);
  EXPECT_EQ(dma.bus_cycles(1), 17);
  EXPECT_EQ(dma.bus_cycles(32), 17);
  EXPECT_EQ(dma.bus_cycles(33), 18);
  EXPECT_EQ(dma.bus_cycles(4096), 16 + 128);
  const DmaModel bare(spec(0, 1), protocol::Clock(1000.0));
  EXPECT_EQ(bare.bus_cycles(0), 0);
  EXPECT_EQ(bare.bus_cycles(777), 777);
  const DmaModel wide(spec(3, 100), protocol::Clock(1000.0));
  EXPECT_EQ(wide.bus_cycles(1001), 3 + 11);
}

TEST(DmaModel, ZeroSizeTransferPaysOnlyTheSetUpAndTouchesNoUnit) {
  Units u;
  const DmaModel dma(spec(16, 32), u.clock);
  // 16 set-up cycles at 1000 ps from t = 5000 ps.
  EXPECT_EQ(dma.finish_ps(transfer(0, 0), false, 5'000, u.dram, u.quant, u.projection), 21'000u);
  EXPECT_TRUE(u.dram.calls.empty());
  EXPECT_EQ(u.quant.busy_ps(), 0u);
  EXPECT_EQ(u.projection.busy_ps(), 0u);
}

TEST(DmaModel, OnChipOnlyTransferNeverReachesTheDram) {
  Units u;
  const DmaModel dma(spec(16, 32), u.clock);
  // 0 DRAM bytes, 1000 buffer bytes: 16 + ceil(1000/32) = 16 + 32 = 48 cycles.
  EXPECT_EQ(dma.finish_ps(transfer(0, 1000), true, 0, u.dram, u.quant, u.projection), 48'000u);
  EXPECT_TRUE(u.dram.calls.empty());
}

TEST(DmaModel, BusBoundTransferEndsWithTheBus) {
  Units u;
  u.dram.ps_per_byte = 1;  // 1 TB/s: DRAM done after 60000 + 4096 = 64096 ps
  const DmaModel dma(spec(16, 32), u.clock);
  // bus: 16 + 4096/32 = 144 cycles = 144000 ps > 64096 ps.
  EXPECT_EQ(dma.finish_ps(transfer(4096, 4096, 0, 0, 0x1000), false, 0, u.dram, u.quant, u.projection),
            144'000u);
  ASSERT_EQ(u.dram.calls.size(), 1u);
  EXPECT_FALSE(u.dram.calls[0].write);
  EXPECT_EQ(u.dram.calls[0].addr, 0x1000u);
  EXPECT_EQ(u.dram.calls[0].bytes, 4096u);
  EXPECT_EQ(u.dram.calls[0].start_ps, 0u);
}

TEST(DmaModel, BackToBackDramBoundTransfers) {
  Units u;
  const DmaModel dma(spec(16, 32), u.clock);
  // Each 4096-byte load: DRAM 60000 + 4096 * 100 = 469600 ps > bus 144000 ps. The engine starts a
  // transfer when the previous one ends, when the DRAM bus (free 60000 ps earlier) is idle, so
  // transfer n ends at start + n * 469600: 469600, 939200, 1408800 from t = 0.
  std::uint64_t now = 0;
  const std::vector<std::uint64_t> expected = {469'600, 939'200, 1'408'800};
  for (std::size_t n = 0; n < expected.size(); ++n) {
    now = dma.finish_ps(transfer(4096, 4096, 0, 0, 4096 * n), true, now, u.dram, u.quant, u.projection);
    EXPECT_EQ(now, expected[n]);
    EXPECT_TRUE(u.dram.calls[n].write);
    EXPECT_EQ(u.dram.calls[n].addr, 4096 * n);
  }
  // Bytes in = bytes out: the DRAM saw each transfer's bytes once, 3 * 4096 in all.
  std::uint64_t bytes = 0;
  for (const auto& c : u.dram.calls) bytes += c.bytes;
  EXPECT_EQ(bytes, 3u * 4096u);
}

TEST(DmaModel, TwoEnginesQueueOnTheSharedDram) {
  Units u;
  const DmaModel load(spec(16, 32), u.clock), store(spec(16, 32), u.clock);
  // Both at t = 0 with 4096 bytes: the store takes the DRAM bus 0..409600 and ends at 469600;
  // the load gets it 409600..819200 and ends at 879200.
  EXPECT_EQ(store.finish_ps(transfer(4096, 4096), true, 0, u.dram, u.quant, u.projection), 469'600u);
  EXPECT_EQ(load.finish_ps(transfer(4096, 4096), false, 0, u.dram, u.quant, u.projection), 879'200u);
}

TEST(DmaModel, BusCountsTheLargerOfDramAndOnChipBytes) {
  Units u;
  u.dram.ps_per_byte = 10;
  const DmaModel dma(spec(16, 32), u.clock);
  // A compressed load: 1024 DRAM bytes decode into 4096 buffer bytes. Bus 16 + 128 = 144 cycles
  // = 144000 ps; DRAM 60000 + 10240 = 70240 ps. (With the DRAM bytes the bus would take 48 cycles.)
  EXPECT_EQ(dma.finish_ps(transfer(1024, 4096), false, 0, u.dram, u.quant, u.projection), 144'000u);
  // A compressed store: the buffer gives 4096 bytes, 1024 go out; the same 144 cycles from 200000.
  EXPECT_EQ(dma.finish_ps(transfer(1024, 4096), true, 200'000, u.dram, u.quant, u.projection), 344'000u);
  // An uncompressed transfer larger on the DRAM side (partial burst padding): 640 DRAM bytes,
  // 600 on chip: 16 + 20 = 36 cycles; DRAM 60000 + 6400 = 66400 ps -> the DRAM ends it.
  EXPECT_EQ(dma.finish_ps(transfer(640, 600), false, 400'000, u.dram, u.quant, u.projection), 466'400u);
}

TEST(DmaModel, QuantizationOrProjectionCanBeTheSlowestUnit) {
  Units u;
  u.dram.ps_per_byte = 10;
  const DmaModel dma(spec(16, 32), u.clock);
  // 1000 bytes: bus 16 + 32 = 48 cycles, DRAM 60000 + 10000 = 70000 ps; 10000 values at 32 per
  // cycle: ceil(312.5) = 313 cycles = 313000 ps.
  EXPECT_EQ(dma.finish_ps(transfer(1000, 1000, 10'000), false, 0, u.dram, u.quant, u.projection), 313'000u);
  EXPECT_EQ(u.quant.busy_ps(), 313'000u);
  // Then 64000 decoder MACs at 64 per cycle: 1000 cycles from t = 313000.
  EXPECT_EQ(dma.finish_ps(transfer(1000, 1000, 0, 64'000), false, 313'000, u.dram, u.quant, u.projection),
            1'313'000u);
  EXPECT_EQ(u.projection.busy_ps(), 1'000'000u);
  EXPECT_EQ(u.quant.busy_ps(), 313'000u);  // no values: the quantization unit was not booked
}

TEST(DmaModel, WaitsForASharedUnitBusyWithAnotherClient) {
  Units u;
  u.dram.ps_per_byte = 1;
  const DmaModel dma(spec(16, 32), u.clock);
  // Another engine booked the quantization unit for 500 cycles from t = 0 (16000 values).
  EXPECT_EQ(u.quant.reserve(0, 16'000), 500'000u);
  // This transfer arrives at 100000 with 3200 values (100 cycles): they run 500000..600000.
  // Bus: 16 + 100 = 116 cycles -> 216000; DRAM 100000 + 3200 + 60000 = 163200.
  EXPECT_EQ(dma.finish_ps(transfer(3200, 3200, 3200), false, 100'000, u.dram, u.quant, u.projection),
            600'000u);
  // A transfer without values or MACs does not wait for busy quantization or projection units:
  // projection booked until 1000000; 320 bytes at 150000: bus 16 + 10 = 26 cycles -> 176000,
  // DRAM (its bus idle since 103200) 150000 + 320 + 60000 = 210320.
  EXPECT_EQ(u.projection.reserve(0, 64'000), 1'000'000u);
  EXPECT_EQ(dma.finish_ps(transfer(320, 320), false, 150'000, u.dram, u.quant, u.projection), 210'320u);
}

TEST(DmaModel, PartialCyclesOfASlowClockRoundUp) {
  // 800 MHz: 1250 ps per cycle. 17 cycles = 21250 ps; at 700 MHz (1428.57 ps) 7 cycles = 10000 ps.
  protocol::Clock clock(800.0);
  FakeDram dram;
  protocol::StreamingTimeline quant(32, clock), projection(64, clock);
  const DmaModel dma(spec(16, 32), clock);
  EXPECT_EQ(dma.finish_ps(transfer(0, 20), false, 0, dram, quant, projection), 21'250u);
  protocol::Clock slow(700.0);
  protocol::StreamingTimeline q2(32, slow), p2(64, slow);
  const DmaModel dma2(spec(6, 32), slow);
  EXPECT_EQ(dma2.finish_ps(transfer(0, 32), false, 0, dram, q2, p2), 10'000u);
}

}  // namespace
}  // namespace capsim::dma
