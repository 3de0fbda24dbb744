// Replays a DRAMsim3-format trace (0xADDR READ|WRITE CYCLE, no sentinel needed) on DRAMsim3 the way
// dramsim3main's TraceBasedCPU offers it (memory ClockTick first, then at most one transaction per
// cycle, blocking while the target queue is full), until DRAMsim3 has called back for every request
// (a read at its data return, a write when its write buffer accepted it), then writes DRAMsim3's
// stats (OUTDIR/dramsim3.json) and prints one JSON line: `ticks` = cycles simulated = the last
// callback's cycle + 1, which is what shared/reference/dramsim3/ddr4-3200-reference.csv calls
// sim_cycles (this driver reproduces that file exactly). `drain_end` is, for information, the cycle
// at which the last write's data would end if the run went on (WR issue + WL + burst).
// Built against libdramsim3 out of tree; reaches into the controllers (private members) only to
// see when writes issue.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#define private public
#define protected public
#include "memory_system.h"
#include "dram_system.h"
#include "controller.h"
#undef private
#undef protected

using namespace dramsim3;

struct Req {
  uint64_t addr;
  bool is_write;
  uint64_t cycle;
};

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: replay CONFIG.ini TRACE OUTDIR\n";
    return 2;
  }
  std::vector<Req> reqs;
  {
    std::ifstream in(argv[2]);
    std::string a, op;
    uint64_t c;
    while (in >> a >> op >> c) reqs.push_back({std::stoull(a, nullptr, 16), op == "WRITE", c});
  }
  uint64_t reads_done = 0, writes_done = 0, clk = 0, last_read_cb = 0;
  MemorySystem ms(argv[1], argv[3], [&](uint64_t) { ++reads_done; last_read_cb = clk; },
                  [&](uint64_t) { ++writes_done; });
  auto* sys = static_cast<JedecDRAMSystem*>(ms.dram_system_);
  const Config& cfg = *ms.config_;
  size_t next = 0;
  uint64_t last_write_data_end = 0;
  std::vector<size_t> pending_wr(sys->ctrls_.size(), 0);
  auto drained = [&]() {
    for (auto* c : sys->ctrls_)
      if (!c->read_queue_.empty() || !c->write_buffer_.empty() || !c->cmd_queue_.QueueEmpty() ||
          !c->pending_rd_q_.empty() || !c->pending_wr_q_.empty() || !c->return_queue_.empty())
        return false;
    return true;
  };
  while (true) {
    ms.ClockTick();
    for (size_t i = 0; i < sys->ctrls_.size(); ++i) {
      size_t now = sys->ctrls_[i]->pending_wr_q_.size();
      if (now < pending_wr[i]) last_write_data_end = clk + cfg.write_delay;  // WR issued this tick
      pending_wr[i] = now;
    }
    if (next < reqs.size() && reqs[next].cycle <= clk &&
        ms.WillAcceptTransaction(reqs[next].addr, reqs[next].is_write)) {
      ms.AddTransaction(reqs[next].addr, reqs[next].is_write);
      for (size_t i = 0; i < sys->ctrls_.size(); ++i) pending_wr[i] = sys->ctrls_[i]->pending_wr_q_.size();
      ++next;
    }
    ++clk;
    if (reads_done + writes_done == reqs.size()) break;
  }
  const uint64_t ticks = clk;
  ms.PrintStats();
  // Drain the queues (stats already written) to report when the last write's data really ends.
  // DRAMsim3 never drains a write buffer holding 8 writes or fewer once no read is left, so give up
  // after 100,000 cycles without a write issued (drain_end is then the last write seen).
  for (uint64_t idle = 0; !drained() && idle < 100000; ++idle) {
    ms.ClockTick();
    for (size_t i = 0; i < sys->ctrls_.size(); ++i) {
      size_t now = sys->ctrls_[i]->pending_wr_q_.size();
      if (now < pending_wr[i]) last_write_data_end = clk + cfg.write_delay, idle = 0;
      pending_wr[i] = now;
    }
    ++clk;
  }
  uint64_t end = std::max(last_read_cb + 1, last_write_data_end);
  std::printf(
      "{\"requests\": %zu, \"reads_done\": %llu, \"writes_done\": %llu, \"ticks\": %llu, "
      "\"last_read_callback\": %llu, \"drain_end\": %llu, \"tck_ns\": %g, "
      "\"request_size_bytes\": %d, \"burst_cycle\": %d, \"ranks\": %d, \"devices_per_rank\": %d}\n",
      reqs.size(), (unsigned long long)reads_done, (unsigned long long)writes_done, (unsigned long long)ticks,
      (unsigned long long)last_read_cb, (unsigned long long)end,
      cfg.tCK, cfg.request_size_bytes, cfg.burst_cycle, cfg.ranks, cfg.devices_per_rank);
  return 0;
}
