#pragma once
// Queue-based DRAM controller (`controller.scheduler: frfcfs`): per channel a read queue and a
// write queue of bursts, one command per channel per command-clock cycle, FR-FCFS selection (a
// queued row hit whose column command may issue first, oldest first; otherwise PRE/ACT for the
// oldest burst of each bank), a starvation cap on younger row hits passing the oldest burst,
// write draining between high and low watermarks, open/closed/adaptive page policies and
// rank-staggered all-bank refresh. The same timing constraints as DramTiming, checked per command.
// Used to replay whole memory-request traces (`capsim dram`); the accelerator keeps DramTiming.
#include <array>
#include <cstdint>
#include <vector>

#include "capsim/rtl/dram/dram_spec.hpp"
#include "capsim/rtl/dram/dram_timing.hpp"

namespace capsim::dram {

// One memory request: `bytes` at byte address `addr`, offered to the controller at `arrival_ps`.
struct MemRequest {
  std::uint64_t addr = 0;
  bool is_write = false;
  std::uint64_t arrival_ps = 0;
  std::uint32_t bytes = 64;
};

// When a request's first burst entered a controller queue, and when its last data beat ended.
struct RequestTiming {
  std::uint64_t accepted_ps = 0;
  std::uint64_t done_ps = 0;
};

// Command issue times, for tests that check one timing constraint at a time.
enum class DramCommand : std::uint8_t { kAct, kPre, kRead, kWrite, kRefresh };
struct CommandRecord {
  DramCommand command;
  std::uint32_t rank, bank;  // bank index within the rank (group x banks_per_group + bank)
  std::int64_t cycle;
};

class FrFcfsController {
 public:
  explicit FrFcfsController(const DramSpec& spec);

  // Serves `requests` (non-decreasing arrival_ps) to completion; returns one timing per request.
  // The front end offers the requests in order, at most one burst per cycle, and stalls while the
  // next burst's queue is full (as a blocking trace reader does).
  std::vector<RequestTiming> run(const std::vector<MemRequest>& requests);

  const DramCounts& counts() const;
  void record_commands(bool on) { record_ = on; }
  const std::vector<CommandRecord>& commands() const { return log_; }

 private:
  struct Cycles {
    std::int64_t cl, cwl, rcd, rp, rpab, ras, rc, ccd_s, ccd_l, rrd_s, rrd_l, faw, wr, wtr_s, wtr_l, rtp, rtw,
        rtrs, rfc, refi, burst;
  };
  struct Entry {
    std::uint32_t request, rank, group, bank, row;
    bool is_write;
    std::int64_t ready;  // first cycle it may move on (controller.pipeline_cycles after entering its queue)
  };
  struct Bank {
    std::int64_t act_ready, col_ready, pre_ready;
    std::uint32_t open_row;
    std::uint64_t hit_stamp, seen_stamp;  // scan marks: a queued hit / an older burst of this bank
    std::uint32_t ready_bursts;           // bursts in this bank's command queue (bank_queue_depth)
  };
  struct Group {
    std::int64_t last_act, last_cas, last_write_end;
  };
  struct Rank {
    std::array<std::int64_t, 4> recent_acts;  // tFAW window, oldest at faw_pos
    std::uint32_t faw_pos, open_banks;
    std::int64_t last_act, last_cas, last_write_end;
    std::int64_t next_refresh, ref_ready;
    bool refresh_due;
    std::int64_t idle_since, precharged;  // background energy, as in DramTiming
  };
  struct Channel {
    std::int64_t bus_free, last_read_cas;
    std::uint32_t last_rank, bypasses;
    bool draining;
    std::vector<Entry> reads, writes;  // oldest first
    std::vector<Entry> commands;       // with bank_queue_depth, oldest_first: the bursts in command queues
    std::uint32_t rr_bank;             // bank_round_robin: the bank served last (index in the channel)
  };

  bool accept_burst(const MemRequest& request, std::uint32_t index, std::int64_t now);
  bool promote(Channel& channel, bool writes, std::int64_t now, std::int64_t& wake);
  std::int64_t step_channel(std::uint32_t c, std::int64_t now);
  std::int64_t refresh_step(std::uint32_t r, std::int64_t now);
  std::int64_t schedule(Channel& channel, std::vector<Entry>& queue, std::int64_t now);
  std::int64_t schedule_round_robin(std::uint32_t c, Channel& channel, std::int64_t now);
  std::int64_t bank_step(Channel& channel, std::vector<Entry>& queue, std::int64_t now);
  std::int64_t cas_time(const Entry& e, bool is_write) const;
  std::int64_t act_time(const Entry& e) const;
  void issue_cas(Channel& channel, std::vector<Entry>& queue, std::size_t i, std::int64_t now);
  void issue_act(const Entry& e, std::int64_t now);
  void close_bank(std::uint32_t rank, Bank& bank, std::int64_t pre_at);
  bool close_after(const Channel& channel, const Entry& served) const;
  void log(DramCommand command, std::uint32_t rank, std::uint32_t bank, std::int64_t cycle);

  DramSpec spec_;
  DramTiming mapper_;  // address decoding only
  Cycles t_{};
  std::uint32_t ranks_per_channel_, groups_per_rank_, banks_per_group_, banks_per_rank_;
  std::vector<Channel> channels_;
  std::vector<Rank> ranks_;
  std::vector<Group> groups_;
  std::vector<Bank> banks_;
  std::vector<std::vector<Entry>> bank_queues_;  // bank_round_robin: per-bank command queues
  std::uint64_t stamp_ = 0;
  std::int64_t pipeline_ = 0;  // controller.pipeline_cycles

  std::vector<RequestTiming> timings_;
  std::vector<std::uint32_t> unfinished_;  // per request: bursts not yet served
  std::uint64_t front_burst_ = 0;          // next burst of the request being offered
  std::uint64_t queued_ = 0;
  std::uint64_t demand_precharges_ = 0;  // PREs for a conflict (not auto-precharge, not refresh)
  std::int64_t last_done_ = 0;
  DramCounts counts_;
  mutable DramCounts snapshot_;
  bool record_ = false;
  std::vector<CommandRecord> log_;
};

}  // namespace capsim::dram
