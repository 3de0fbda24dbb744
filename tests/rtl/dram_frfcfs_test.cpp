// The FR-FCFS controller, command by command: one test per timing constraint (the minimal command
// sequence; the second command must issue exactly when the constraint allows, not a cycle earlier
// or later), then scheduling order, page policies and write draining on hand-counted streams.
#include "capsim/rtl/dram/dram_frfcfs.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "capsim/common/yaml_view.hpp"
#include "capsim/rtl/dram/dram_spec.hpp"

namespace capsim::dram {
namespace {

// Distinct values, so that a command landing on the wrong constraint shows. tCK 625 ps,
// BL8 on 64 bits at 3200 MT/s: a burst is 4 cycles.
const char* kSpec = R"(name: t
organization: {channels: 1, ranks: 1, bank_groups: 2, banks_per_group: 4, rows: 1024, columns: 1024,
               bus_width_bits: 64, burst_length: 8, data_rate_mtps: 3200, tck_ps: 625}
timing: {cl: 10, cwl: 8, rcd: 12, rp: 11, ras: 30, rc: 45, ccd_s: 5, ccd_l: 6, rrd_s: 5, rrd_l: 7, faw: 40,
         wr: 9, wtr_s: 3, wtr_l: 7, rtp: 6, rtw: 13, rfc: 50, refi: 2000}
controller: {address_mapping: RoBaBgCo, scheduler: frfcfs, refresh: false}
power: {model: flat, pj_per_bit: 1}
)";
constexpr std::int64_t kBurst = 4;
constexpr std::uint64_t kTckPs = 625;

DramSpec spec() { return parse_dram_spec(YamlDocument::parse(kSpec, "t.yaml").root()); }

// RoBaBgCo: 6 offset bits, 7 column bits, 1 bank-group bit, 2 bank bits, then the row.
std::uint64_t addr(std::uint32_t group, std::uint32_t bank, std::uint32_t row, std::uint32_t column = 0) {
  return ((((std::uint64_t{row} << 2 | bank) << 1 | group) << 7 | column) << 6);
}

MemRequest read(std::uint64_t address, std::int64_t cycle) { return {address, false, cycle * kTckPs, 64}; }
MemRequest write(std::uint64_t address, std::int64_t cycle) { return {address, true, cycle * kTckPs, 64}; }

struct Replay {
  std::vector<CommandRecord> commands;
  std::vector<RequestTiming> timings;
  DramCounts counts;
  // The n-th (0-based) command of a kind, and its cycle.
  CommandRecord nth(DramCommand kind, int n = 0) const {
    for (const auto& c : commands)
      if (c.command == kind && n-- == 0) return c;
    ADD_FAILURE() << "no such command";
    return {kind, 0, 0, -1};
  }
  std::int64_t at(DramCommand kind, int n = 0) const { return nth(kind, n).cycle; }
};

Replay run(const DramSpec& s, const std::vector<MemRequest>& requests) {
  FrFcfsController controller(s);
  controller.record_commands(true);
  Replay r;
  r.timings = controller.run(requests);
  r.commands = controller.commands();
  r.counts = controller.counts();
  return r;
}

using C = DramCommand;

TEST(DramConstraint, Trcd) {
  const Replay r = run(spec(), {read(addr(0, 0, 0), 0)});
  EXPECT_EQ(r.at(C::kAct), 0);
  EXPECT_EQ(r.at(C::kRead), 12);  // ACT + tRCD
  EXPECT_EQ(r.timings[0].done_ps, (12 + 10 + kBurst) * kTckPs);
}

// Row conflict in one bank: PRE at max(ACT + tRAS, RD + tRTP), ACT at max(PRE + tRP, ACT + tRC).
TEST(DramConstraint, Tras) {
  const Replay r = run(spec(), {read(addr(0, 0, 0), 0), read(addr(0, 0, 1), 0)});
  EXPECT_EQ(r.at(C::kPre), 0 + 30);  // RD 12 + tRTP 6 = 18 is earlier
}

TEST(DramConstraint, Trtp) {
  DramSpec s = spec();
  s.timing.ras = 12;  // ACT + tRAS = 12 is earlier than RD + tRTP
  const Replay r = run(s, {read(addr(0, 0, 0), 0), read(addr(0, 0, 1), 0)});
  EXPECT_EQ(r.at(C::kPre), r.at(C::kRead) + 6);
}

TEST(DramConstraint, Trp) {
  DramSpec s = spec();
  s.timing.rc = 30;  // ACT + tRC = 30 is earlier than PRE 30 + tRP
  const Replay r = run(s, {read(addr(0, 0, 0), 0), read(addr(0, 0, 1), 0)});
  EXPECT_EQ(r.at(C::kAct, 1), r.at(C::kPre) + 11);
}

TEST(DramConstraint, Trc) {
  DramSpec s = spec();
  s.timing.rp = 1;  // PRE 30 + tRP = 31 is earlier than ACT + tRC
  const Replay r = run(s, {read(addr(0, 0, 0), 0), read(addr(0, 0, 1), 0)});
  EXPECT_EQ(r.at(C::kAct, 1), r.at(C::kAct) + 45);
}

TEST(DramConstraint, Twr) {
  // WR at tRCD, data ends WR + CWL + burst; PRE tWR after that (ACT + tRAS = 30 is earlier).
  const Replay r = run(spec(), {write(addr(0, 0, 0), 0), write(addr(0, 0, 1), 0)});
  EXPECT_EQ(r.at(C::kWrite), 12);
  EXPECT_EQ(r.at(C::kPre), 12 + 8 + kBurst + 9);
}

TEST(DramConstraint, TrrdS) {
  const Replay r = run(spec(), {read(addr(0, 0, 0), 0), read(addr(1, 0, 0), 0)});
  EXPECT_EQ(r.at(C::kAct, 1), r.at(C::kAct) + 5);
}

TEST(DramConstraint, TrrdL) {
  const Replay r = run(spec(), {read(addr(0, 0, 0), 0), read(addr(0, 1, 0), 0)});
  EXPECT_EQ(r.at(C::kAct, 1), r.at(C::kAct) + 7);
}

// ACTs alternate bank groups: 0, 5, 10, 15 by tRRD_S/L; the fifth waits for the tFAW window.
TEST(DramConstraint, Tfaw) {
  const Replay r = run(spec(), {read(addr(0, 0, 0), 0), read(addr(1, 0, 0), 0), read(addr(0, 1, 0), 0),
                                read(addr(1, 1, 0), 0), read(addr(0, 2, 0), 0)});
  EXPECT_EQ(r.at(C::kAct, 3), 15);
  EXPECT_EQ(r.at(C::kAct, 4), r.at(C::kAct, 0) + 40);
}

// Rows opened by the first two reads; the later pair are hits arriving together.
std::vector<MemRequest> open_then(std::uint32_t group_b, bool first_write, bool second_write) {
  const auto make = [](bool w, std::uint64_t a, std::int64_t cycle) {
    return w ? write(a, cycle) : read(a, cycle);
  };
  return {read(addr(0, 0, 0), 0), read(addr(1, 0, 0), 0), make(first_write, addr(0, 0, 0, 1), 200),
          make(second_write, addr(group_b, 0, 0, 2), 200)};
}

TEST(DramConstraint, TccdS) {
  const Replay r = run(spec(), open_then(1, false, false));
  EXPECT_EQ(r.at(C::kRead, 2), 200);
  EXPECT_EQ(r.at(C::kRead, 3), 200 + 5);  // tCCD_S = 5 > burst 4
}

TEST(DramConstraint, TccdL) {
  const Replay r = run(spec(), open_then(0, false, false));
  EXPECT_EQ(r.at(C::kRead, 3), 200 + 6);
}

TEST(DramConstraint, TwtrS) {
  const Replay r = run(spec(), open_then(1, true, false));
  EXPECT_EQ(r.at(C::kWrite), 200);
  EXPECT_EQ(r.at(C::kRead, 2), 200 + 8 + kBurst + 3);  // end of write data + tWTR_S
}

TEST(DramConstraint, TwtrL) {
  const Replay r = run(spec(), open_then(0, true, false));
  EXPECT_EQ(r.at(C::kRead, 2), 200 + 8 + kBurst + 7);
}

TEST(DramConstraint, Trtw) {
  const Replay r = run(spec(), open_then(1, false, true));
  EXPECT_EQ(r.at(C::kRead, 2), 200);
  EXPECT_EQ(r.at(C::kWrite), 200 + 13);  // the bus alone would allow 200 + 10 + 4 - 8 = 206
}

// Two ranks (RoRaBaBgCo): data of the other rank's read waits tRTRS idle cycles after the first
// burst's data, so RD2 = RD1 + burst + tRTRS (tCCD_S applies within a rank only).
TEST(DramConstraint, Trtrs) {
  DramSpec s = spec();
  s.org.ranks = 2;
  s.timing.rtrs = 2;
  s.controller.address_mapping = "RoRaBaBgCo";
  s.controller.mapping_msb_first = parse_address_mapping("RoRaBaBgCo");
  const auto at = [](std::uint32_t rank, std::uint32_t column) {
    return ((std::uint64_t{rank} << 3) << 7 | column) << 6;  // rank bit above bank and group bits
  };
  const Replay r = run(s, {read(at(0, 0), 0), read(at(1, 0), 0), read(at(0, 1), 200), read(at(1, 1), 200)});
  EXPECT_EQ(r.at(C::kRead, 2), 200);
  EXPECT_EQ(r.at(C::kRead, 3), 200 + kBurst + 2);
}

TEST(DramConstraint, TrefiAndTrfc) {
  DramSpec s = spec();
  s.controller.refresh = true;
  const Replay r = run(s, {read(addr(0, 0, 0), 1970)});
  EXPECT_EQ(r.at(C::kRead), 1970 + 12);  // before the refresh is due
  // A read whose RD would fall after the due time waits for the refresh: PRE at ACT + tRAS,
  // REF at ACT + tRC (later than PRE + tRP), ACT again tRFC after REF.
  const Replay late = run(s, {read(addr(0, 0, 0), 1990)});
  EXPECT_EQ(late.at(C::kPre), 1990 + 30);
  EXPECT_EQ(late.at(C::kRefresh), 1990 + 45);
  EXPECT_EQ(late.at(C::kAct, 1), 1990 + 45 + 50);
  EXPECT_EQ(late.at(C::kRead), 1990 + 45 + 50 + 12);
  const Replay later = run(s, {read(addr(0, 0, 0), 0), read(addr(0, 0, 0, 1), 2000)});
  // Due at tREFI: precharge-all (the row is open), REF tRP later, the next ACT tRFC after REF.
  EXPECT_EQ(later.at(C::kPre), 2000);
  EXPECT_EQ(later.at(C::kRefresh), 2000 + 11);
  EXPECT_EQ(later.at(C::kAct, 1), 2000 + 11 + 50);
  EXPECT_EQ(later.counts.refreshes, 1u);
}

// ---- scheduling ------------------------------------------------------------------------------

std::vector<std::uint32_t> read_order(const Replay& r, const std::vector<MemRequest>& requests) {
  // Requests complete in the order of their RD commands (same latency each).
  std::vector<std::uint32_t> order(requests.size());
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](auto a, auto b) { return r.timings[a].done_ps < r.timings[b].done_ps; });
  return order;
}

TEST(DramFrFcfs, RowHitsGoFirstAndTheCapRestoresAge) {
  const std::vector<MemRequest> requests = {read(addr(0, 0, 0), 0), read(addr(0, 0, 1), 0),
                                            read(addr(0, 0, 0, 1), 0)};
  const Replay frfcfs = run(spec(), requests);
  EXPECT_EQ(read_order(frfcfs, requests), (std::vector<std::uint32_t>{0, 2, 1}));
  EXPECT_EQ(frfcfs.counts.activates, 2u);
  DramSpec fcfs = spec();
  fcfs.controller.starvation_cap = 0;  // no younger hit may pass the oldest
  const Replay strict = run(fcfs, requests);
  EXPECT_EQ(read_order(strict, requests), (std::vector<std::uint32_t>{0, 1, 2}));
  EXPECT_EQ(strict.counts.activates, 3u);
}

TEST(DramFrFcfs, PagePolicies) {
  // The same row twice, far apart: open keeps it (one ACT), closed re-opens it, adaptive keeps it
  // because nothing else wanted the bank.
  const std::vector<MemRequest> requests = {read(addr(0, 0, 0), 0), read(addr(0, 0, 0, 1), 500)};
  struct Case {
    PagePolicy policy;
    std::uint64_t activates, precharges;  // closed also closes the row after the last read
  };
  for (const Case& c :
       {Case{PagePolicy::kOpen, 1, 0}, Case{PagePolicy::kClosed, 2, 2}, Case{PagePolicy::kAdaptive, 1, 0}}) {
    DramSpec s = spec();
    s.controller.page_policy = c.policy;
    const Replay r = run(s, requests);
    EXPECT_EQ(r.counts.activates, c.activates) << to_string(c.policy);
    EXPECT_EQ(r.counts.precharges, c.precharges) << to_string(c.policy);
  }
  // Adaptive with a conflict queued: the row closes by auto-precharge at max(ACT + tRAS, RD + tRTP).
  DramSpec s = spec();
  s.controller.page_policy = PagePolicy::kAdaptive;
  const Replay r = run(s, {read(addr(0, 0, 0), 0), read(addr(0, 0, 1), 0)});
  EXPECT_EQ(r.counts.row_conflicts, 0u) << "closed by auto-precharge, not on demand";
  EXPECT_EQ(r.at(C::kAct, 1), 0 + 45);
}

TEST(DramFrFcfs, WritesWaitForTheHighWatermarkWhileReadsArePending) {
  DramSpec s = spec();
  s.controller.write_high_watermark = 2;
  s.controller.write_low_watermark = 0;
  // Reads to one open row keep the read queue busy; one write must wait until the reads are done,
  // two writes reach the watermark and are drained before the remaining reads.
  std::vector<MemRequest> one = {read(addr(0, 0, 0), 0), write(addr(1, 0, 0), 0)};
  for (std::uint32_t c = 1; c < 8; ++c) one.push_back(read(addr(0, 0, 0, c), 0));
  const Replay r1 = run(s, one);
  EXPECT_GT(r1.at(C::kWrite), r1.at(C::kRead, 7)) << "a single write goes after all reads";
  std::vector<MemRequest> two = one;
  two.insert(two.begin() + 2, write(addr(1, 0, 0, 1), 0));
  const Replay r2 = run(s, two);
  EXPECT_LT(r2.at(C::kWrite, 1), r2.at(C::kRead, 7)) << "two writes reach the watermark and drain";
}

TEST(DramFrFcfs, BankQueuesLimitWhatTheSchedulerSees) {
  // One bank command queue of 1: the hit to row 0 behind a row-1 burst is invisible, so rows
  // alternate (three ACTs) instead of serving both row-0 bursts first (two ACTs).
  const std::vector<MemRequest> requests = {read(addr(0, 0, 0), 0), read(addr(0, 0, 1), 0),
                                            read(addr(0, 0, 0, 1), 0)};
  DramSpec s = spec();
  s.controller.bank_queue_depth = 1;
  EXPECT_EQ(run(s, requests).counts.activates, 3u);
  s.controller.bank_queue_depth = 2;
  EXPECT_EQ(run(s, requests).counts.activates, 2u);
}

TEST(DramFrFcfs, RoundRobinArbitrationServesBanksInTurn) {
  // Bank 1 opens first; banks 0 (older) and 2 (younger) wait for tRRD_L until cycle 7. Oldest
  // first opens bank 0 then; round robin continues after bank 1 and opens bank 2.
  const std::vector<MemRequest> requests = {read(addr(0, 1, 0), 0), read(addr(0, 0, 0), 0),
                                            read(addr(0, 2, 0), 0)};
  DramSpec s = spec();
  s.controller.bank_queue_depth = 8;
  const Replay oldest = run(s, requests);
  EXPECT_EQ(oldest.at(C::kAct, 1), 7);
  EXPECT_EQ(oldest.nth(C::kAct, 1).bank, 0u);
  s.controller.arbitration = Arbitration::kBankRoundRobin;
  const Replay turns = run(s, requests);
  EXPECT_EQ(turns.at(C::kAct, 1), 7);
  EXPECT_EQ(turns.nth(C::kAct, 1).bank, 2u);
  EXPECT_EQ(turns.nth(C::kAct, 2).bank, 0u) << "bank 0 next, tRRD_L later";
  EXPECT_EQ(turns.at(C::kAct, 2), 14);
}

TEST(DramFrFcfs, PipelineCyclesDelayTheFirstCommandPerQueueStage) {
  // One read at cycle 0 to a closed bank: ACT, tRCD (12) later RD, CL (10) + burst (4) later done.
  // Each queue stage the burst passes costs pipeline_cycles: with bank queues, accepted at 0, in
  // its command queue at 1, ACT at 2 (DRAMsim3's order); without, ACT at 1; with 0, ACT at 0.
  const std::vector<MemRequest> one = {read(addr(0, 3, 5), 0)};
  DramSpec s = spec();
  s.controller.bank_queue_depth = 8;
  s.controller.arbitration = Arbitration::kBankRoundRobin;
  const Replay base = run(s, one);
  EXPECT_EQ(base.at(C::kAct), 0);
  EXPECT_EQ(base.timings[0].done_ps, (0 + 12 + 10 + kBurst) * kTckPs);
  s.controller.pipeline_cycles = 1;
  const Replay staged = run(s, one);
  EXPECT_EQ(staged.at(C::kAct), 2);
  EXPECT_EQ(staged.at(C::kRead), 2 + 12);
  EXPECT_EQ(staged.timings[0].accepted_ps, 0u);
  EXPECT_EQ(staged.timings[0].done_ps, (2 + 12 + 10 + kBurst) * kTckPs);
  s.controller.pipeline_cycles = 3;
  EXPECT_EQ(run(s, one).at(C::kAct), 6);
  s.controller.bank_queue_depth = 0;
  s.controller.arbitration = Arbitration::kOldestFirst;
  EXPECT_EQ(run(s, one).at(C::kAct), 3) << "one queue stage only";
  // A row hit behind a served burst still waits out its own stage: two reads to one row, the
  // second accepted at cycle 1 (one burst per cycle), pipeline 5: RD at max(0 + 5 + 12, 1 + 5).
  s.controller.pipeline_cycles = 5;
  const Replay hits = run(s, {read(addr(0, 3, 5), 0), read(addr(0, 3, 5, 1), 0)});
  EXPECT_EQ(hits.at(C::kRead, 0), 17);
  EXPECT_EQ(hits.at(C::kRead, 1), 17 + 6) << "tCCD_L (6) after the first";
  EXPECT_EQ(hits.counts.activates, 1u);
}

TEST(DramFrFcfs, SequentialStreamReachesThePeakWithoutRefresh) {
  // Bank groups alternate below the column bits, so tCCD_S (5) paces the column commands.
  DramSpec s = spec();
  s.controller.address_mapping = "RoBaCoBg";
  s.controller.mapping_msb_first = parse_address_mapping("RoBaCoBg");
  s.timing.ccd_s = 4;
  std::vector<MemRequest> requests;
  for (std::uint64_t i = 0; i < 4096; ++i) requests.push_back(read(i * 64, 0));
  const Replay r = run(s, requests);
  const std::int64_t reads_end = static_cast<std::int64_t>(r.counts.elapsed_ps / kTckPs);
  // One burst per 4 cycles after the first ACT + tRCD + CL, plus at most one row switch stall per row.
  EXPECT_GE(reads_end, 12 + 10 + 4096 * kBurst);
  EXPECT_LE(reads_end, 12 + 10 + 4096 * kBurst + 64);
  EXPECT_EQ(r.counts.row_hits, 4096u - r.counts.activates);
}

}  // namespace
}  // namespace capsim::dram
