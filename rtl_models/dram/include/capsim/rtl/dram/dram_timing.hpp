#pragma once
// Cycle-approximate DRAM timing: bank state per channel/rank/bank, one data bus per channel, the
// tFAW window, read/write turnaround, all-bank refresh and row hits/misses/conflicts. Requests are
// served in order (no reordering), but the commands of consecutive bursts overlap as far as the
// timing constraints and the controller's look-ahead (queue_depth bursts) allow, so streams across
// banks and channels pipeline. Plain C++; the per-burst path allocates nothing.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "capsim/common/stats.hpp"
#include "capsim/rtl/dram/dram_spec.hpp"

namespace capsim::dram {

// Everything the timing model counts; energies are derived from these (dram_energy.hpp).
struct DramCounts {
  std::uint64_t activates = 0;
  std::uint64_t precharges = 0;  // explicit, automatic (closed page) and before refresh
  std::uint64_t read_bursts = 0;
  std::uint64_t write_bursts = 0;
  std::uint64_t read_bytes = 0;  // payload asked for by callers
  std::uint64_t write_bytes = 0;
  std::uint64_t read_burst_bytes = 0;  // moved on the bus: partial bursts count whole
  std::uint64_t write_burst_bytes = 0;
  std::uint64_t row_hits = 0;              // burst found its row open
  std::uint64_t row_misses = 0;            // bank was closed: ACT only
  std::uint64_t row_conflicts = 0;         // another row was open: PRE then ACT
  std::uint64_t refreshes = 0;             // all-bank refreshes, summed over ranks
  std::uint64_t elapsed_ps = 0;            // from time 0 to the last data beat (or advance_to)
  std::uint64_t bus_busy_ps = 0;           // data-bus time carrying bursts, summed over channels
  std::uint64_t active_standby_ps = 0;     // summed over ranks: some bank open or refreshing
  std::uint64_t precharge_standby_ps = 0;  // summed over ranks: all banks closed
};

// A field of DramCounts, declared once: name, unit and description. The stat lists, the difference
// of two snapshots (a layer's counts) and their sum all come from this table, so a new count is one
// field plus one row here.
struct DramCountField {
  std::uint64_t DramCounts::*member;
  const char* name;  // stat name: "activates", "row_hits" (capsim dram prefixes "dram_")
  const char* unit;  // "count", "bytes", "ps"
  const char* description;
};
const std::vector<DramCountField>& dram_count_fields();
const DramCountField& dram_count_field(const std::string& name);  // throws std::logic_error if undeclared

DramCounts operator-(const DramCounts& now, const DramCounts& before);  // field by field

// Every count with name ("dram_" + field name), unit and description (`capsim dram` summaries).
StatList dram_stats(const DramCounts& counts);

// Where a byte address lands. `column` is the first column address of its burst.
struct DramAddress {
  std::uint32_t channel = 0;
  std::uint32_t rank = 0;
  std::uint32_t bank_group = 0;
  std::uint32_t bank = 0;
  std::uint32_t row = 0;
  std::uint32_t column = 0;
};

class DramTiming {
 public:
  explicit DramTiming(const DramSpec& spec);

  // Moves `bytes` starting at byte address `addr` (split into bursts, issued in address order);
  // the request arrives at `start_ps`. Returns the time the last data beat completes (ps).
  // Calls must come in non-decreasing start_ps; one arriving while the bus is busy queues behind
  // the earlier ones. Addresses wrap at the capacity of the organisation.
  std::uint64_t transfer(bool is_write, std::uint64_t addr, std::uint64_t bytes, std::uint64_t start_ps);

  // Lets time pass without requests up to `now_ps` (refreshes that fall due, background time).
  // Call it with the end of the simulation so that refresh and standby cover the whole run.
  void advance_to(std::uint64_t now_ps);

  const DramCounts& counts() const;
  StatList stats() const;  // every count with name, unit and description
  double peak_bandwidth_bytes_per_s() const { return spec_.peak_bandwidth_bytes_per_s(); }
  std::uint64_t bytes_per_burst() const { return bytes_per_burst_; }
  const DramSpec& spec() const { return spec_; }
  DramAddress decode(std::uint64_t addr) const;

 private:
  // Timing parameters in picoseconds (signed: "never happened" is a large negative time).
  struct TimingPs {
    std::int64_t cl, cwl, rcd, rp, rpab, ras, rc, ccd_s, ccd_l, rrd_s, rrd_l, faw, wr, wtr_s, wtr_l, rtp, rtw,
        rtrs, rfc, refi, burst;
  };
  struct BitField {
    std::uint32_t shift = 0;
    std::uint64_t mask = 0;
  };
  // One burst's target as indices into the state arrays.
  struct Target {
    std::uint32_t channel, rank, group, bank, row;
  };
  struct Bank {
    std::int64_t act_ready, col_ready, pre_ready;
    std::uint32_t open_row;
  };
  struct BankGroup {
    std::int64_t last_act, last_cas, last_write_end;
  };
  struct Rank {
    std::array<std::int64_t, 4> recent_acts;  // tFAW window, oldest at faw_pos
    std::uint32_t faw_pos;
    std::uint32_t open_banks;
    std::int64_t last_act, last_cas, last_write_end;
    std::int64_t next_refresh, refresh_until, latest_bank_ready;
    std::int64_t idle_since, precharged_ps;  // for background energy: when all banks last closed
  };
  struct Channel {
    std::int64_t bus_free, last_cas, last_read_cas;
    std::uint32_t last_rank, queue_pos;
  };

  Target locate(std::uint64_t burst_index) const;
  bool row_reused_later(std::uint64_t burst_index, std::uint64_t last_index) const;
  std::int64_t issue_burst(bool is_write, const Target& at, std::int64_t arrival, bool keep_open);
  void open_row(const Target& at, std::int64_t earliest);
  std::int64_t column_command_time(bool is_write, const Target& at, std::int64_t earliest) const;
  void close_bank(Rank& rank, Bank& bank, std::int64_t pre_at);
  void refresh_rank(std::uint32_t rank_index, std::int64_t now);

  DramSpec spec_;
  TimingPs t_{};
  std::uint64_t bytes_per_burst_ = 0;
  std::uint32_t offset_bits_ = 0;
  std::uint64_t burst_index_mask_ = 0;  // wraps addresses at the capacity
  std::uint64_t column_bits_ = 0;       // the Co field's bits within a burst index
  std::array<BitField, kMapFieldCount> fields_{};
  std::uint32_t ranks_per_channel_ = 1, groups_per_rank_ = 1, banks_per_group_ = 1, banks_per_rank_ = 1;
  std::uint32_t queue_depth_ = 1;
  bool closed_page_ = false;

  std::vector<Channel> channels_;
  std::vector<Rank> ranks_;
  std::vector<BankGroup> groups_;
  std::vector<Bank> banks_;
  std::vector<std::int64_t> queue_cas_;  // per channel: column-command times of the last queue_depth bursts

  DramCounts counts_;
  std::int64_t elapsed_ps_ = 0;
  mutable DramCounts snapshot_;
};

}  // namespace capsim::dram
