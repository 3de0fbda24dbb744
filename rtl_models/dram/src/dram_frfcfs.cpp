#include "capsim/rtl/dram/dram_frfcfs.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "capsim/common/integers.hpp"

namespace capsim::dram {
namespace {

// "Never happened": far enough in the past that adding any timing constraint stays negative.
constexpr std::int64_t kNever = -(std::int64_t{1} << 40);
constexpr std::int64_t kFar = std::int64_t{1} << 62;
constexpr std::uint32_t kClosedRow = std::numeric_limits<std::uint32_t>::max();

constexpr std::int64_t latest(std::int64_t a) { return a; }
template <class... Rest>
constexpr std::int64_t latest(std::int64_t a, std::int64_t b, Rest... rest) {
  return latest(a > b ? a : b, rest...);
}

}  // namespace

FrFcfsController::FrFcfsController(const DramSpec& spec) : spec_(spec), mapper_(spec) {
  const auto& c = spec_.timing;
  const auto n = [](std::uint32_t cycles) { return static_cast<std::int64_t>(cycles); };
  // A burst occupies whole command-clock cycles on the bus.
  const std::int64_t burst = std::max<std::int64_t>(
      1, ceil_div(static_cast<std::int64_t>(spec_.burst_ps()), static_cast<std::int64_t>(spec_.org.tck_ps)));
  t_ = {n(c.cl),    n(c.cwl),   n(c.rcd),   n(c.rp),    n(c.rpab), n(c.ras),  n(c.rc),
        n(c.ccd_s), n(c.ccd_l), n(c.rrd_s), n(c.rrd_l), n(c.faw),  n(c.wr),   n(c.wtr_s),
        n(c.wtr_l), n(c.rtp),   n(c.rtw),   n(c.rtrs),  n(c.rfc),  n(c.refi), burst};
  const auto& org = spec_.org;
  ranks_per_channel_ = org.ranks;
  groups_per_rank_ = org.bank_groups;
  banks_per_group_ = org.banks_per_group;
  banks_per_rank_ = org.bank_groups * org.banks_per_group;

  channels_.assign(org.channels, Channel{kNever, kNever, 0, 0, false, {}, {}, {}, 0});
  for (Channel& channel : channels_) {
    channel.reads.reserve(spec_.controller.read_queue_depth);
    channel.writes.reserve(spec_.controller.write_queue_depth);
  }
  ranks_.resize(std::size_t{org.channels} * org.ranks);
  for (std::size_t r = 0; r < ranks_.size(); ++r) {
    Rank& rank = ranks_[r];
    rank.recent_acts.fill(kNever);
    rank.faw_pos = rank.open_banks = 0;
    rank.last_act = rank.last_cas = rank.last_write_end = kNever;
    // Ranks of a channel refresh staggered: rank i first at tREFI x (i + 1) / ranks (DRAMsim3's
    // default rank-staggered policy), so one rank at a time is unavailable.
    const std::int64_t position = static_cast<std::int64_t>(r % org.ranks) + 1;
    rank.next_refresh = spec_.controller.refresh ? t_.refi * position / org.ranks : kFar;
    rank.ref_ready = kNever;
    rank.refresh_due = false;
    rank.idle_since = rank.precharged = 0;
  }
  groups_.assign(ranks_.size() * org.bank_groups, Group{kNever, kNever, kNever});
  banks_.assign(ranks_.size() * banks_per_rank_, Bank{kNever, kNever, kNever, kClosedRow, 0, 0, 0});
  if (spec_.controller.arbitration == Arbitration::kBankRoundRobin) bank_queues_.resize(banks_.size());
  pipeline_ = static_cast<std::int64_t>(spec_.controller.pipeline_cycles);
}

std::vector<RequestTiming> FrFcfsController::run(const std::vector<MemRequest>& requests) {
  timings_.assign(requests.size(), RequestTiming{});
  unfinished_.assign(requests.size(), 0);
  const auto tck = static_cast<std::int64_t>(spec_.org.tck_ps);
  const auto arrival = [&](std::size_t i) {
    return ceil_div(static_cast<std::int64_t>(requests[i].arrival_ps), tck);
  };
  std::size_t next = 0;
  std::int64_t now = requests.empty() ? 0 : arrival(0);
  while (next < requests.size() || queued_ > 0) {
    bool busy = false;
    std::int64_t wake = kFar;
    if (next < requests.size()) {
      const std::int64_t at = arrival(next);
      if (at > now)
        wake = at;
      else if (accept_burst(requests[next], static_cast<std::uint32_t>(next), now)) {
        busy = true;
        if (front_burst_ == 0) ++next;  // all bursts of this request are queued
      }
    }
    for (std::uint32_t c = 0; c < channels_.size(); ++c) {
      const std::int64_t ready = step_channel(c, now);
      if (ready <= now)
        busy = true;
      else
        wake = std::min(wake, ready);
    }
    // Jump over cycles in which nothing can happen (no arrival, no command allowed).
    if (!busy && wake == kFar)
      throw std::logic_error("FrFcfsController: queued bursts but no command can ever issue");
    now = busy ? now + 1 : std::max(now + 1, wake);
  }
  for (RequestTiming& timing : timings_) {
    timing.accepted_ps *= static_cast<std::uint64_t>(tck);
    timing.done_ps *= static_cast<std::uint64_t>(tck);
  }
  return timings_;
}

bool FrFcfsController::accept_burst(const MemRequest& request, std::uint32_t index, std::int64_t now) {
  const std::uint32_t offset_bits = log2_ceil(mapper_.bytes_per_burst());
  const std::uint64_t first = request.addr >> offset_bits;
  const std::uint64_t last = (request.addr + std::max<std::uint32_t>(request.bytes, 1) - 1) >> offset_bits;
  const DramAddress at = mapper_.decode((first + front_burst_) << offset_bits);
  Channel& channel = channels_[at.channel];
  std::vector<Entry>& queue = request.is_write ? channel.writes : channel.reads;
  const std::uint32_t depth =
      request.is_write ? spec_.controller.write_queue_depth : spec_.controller.read_queue_depth;
  if (queue.size() >= depth) return false;
  const std::uint32_t rank = at.channel * ranks_per_channel_ + at.rank;
  const std::uint32_t group = rank * groups_per_rank_ + at.bank_group;
  const std::uint32_t bank = rank * banks_per_rank_ + at.bank_group * banks_per_group_ + at.bank;
  queue.push_back({index, rank, group, bank, at.row, request.is_write, now + pipeline_});
  ++queued_;
  ++unfinished_[index];
  if (front_burst_ == 0) timings_[index].accepted_ps = static_cast<std::uint64_t>(now);
  front_burst_ = first + front_burst_ == last ? 0 : front_burst_ + 1;
  const std::uint64_t burst_bytes = mapper_.bytes_per_burst();
  if (request.is_write) {
    ++counts_.write_bursts;
    counts_.write_burst_bytes += burst_bytes;
    if (front_burst_ == 0) counts_.write_bytes += request.bytes;
  } else {
    ++counts_.read_bursts;
    counts_.read_burst_bytes += burst_bytes;
    if (front_burst_ == 0) counts_.read_bytes += request.bytes;
  }
  return true;
}

// One command for channel `c` at `now` if any may issue (returns now), else the earliest cycle
// at which one might (kFar when the channel has nothing to do).
std::int64_t FrFcfsController::step_channel(std::uint32_t c, std::int64_t now) {
  std::int64_t wake = kFar;
  for (std::uint32_t r = c * ranks_per_channel_; r < (c + 1) * ranks_per_channel_; ++r) {
    Rank& rank = ranks_[r];
    if (!rank.refresh_due && now >= rank.next_refresh) rank.refresh_due = true;
    if (!rank.refresh_due) {
      wake = std::min(wake, rank.next_refresh);
      continue;
    }
    const std::int64_t ready = refresh_step(r, now);
    if (ready <= now) return now;
    wake = std::min(wake, ready);
  }
  Channel& channel = channels_[c];
  // Write draining with hysteresis; writes also go when there is no read to serve.
  if (channel.writes.size() >= spec_.controller.write_high_watermark)
    channel.draining = true;
  else if (channel.writes.size() <= spec_.controller.write_low_watermark)
    channel.draining = false;
  const bool writes = channel.draining || channel.reads.empty();
  if (spec_.controller.bank_queue_depth > 0) {
    // The drain mode picks the queue that feeds the command queues; those hold reads and writes.
    const bool promoted = promote(channel, writes, now, wake);
    std::int64_t ready = wake;
    if (!bank_queues_.empty())
      ready = std::min(wake, schedule_round_robin(c, channel, now));
    else if (!channel.commands.empty())
      ready = std::min(wake, schedule(channel, channel.commands, now));
    return promoted ? now : ready;
  }
  std::vector<Entry>& queue = writes ? channel.writes : channel.reads;
  if (queue.empty()) return wake;
  return std::min(wake, schedule(channel, queue, now));
}

// Moves the oldest waiting burst whose bank command queue has room into it (one per cycle, as
// DRAMsim3 moves transactions into its per-bank command queues). A burst still in its pipeline
// stage waits (`wake` learns when it is ready).
bool FrFcfsController::promote(Channel& channel, bool writes, std::int64_t now, std::int64_t& wake) {
  std::vector<Entry>& queue = writes ? channel.writes : channel.reads;
  for (std::size_t i = 0; i < queue.size(); ++i) {
    Bank& bank = banks_[queue[i].bank];
    if (bank.ready_bursts >= spec_.controller.bank_queue_depth) continue;
    if (queue[i].ready > now) {
      wake = std::min(wake, queue[i].ready);
      continue;
    }
    ++bank.ready_bursts;
    queue[i].ready = now + pipeline_;
    (bank_queues_.empty() ? channel.commands : bank_queues_[queue[i].bank]).push_back(queue[i]);
    queue.erase(queue.begin() + static_cast<std::ptrdiff_t>(i));
    return true;
  }
  return false;
}

// A due refresh: precharge-all once every open bank allows it, REF tRPab later.
std::int64_t FrFcfsController::refresh_step(std::uint32_t r, std::int64_t now) {
  Rank& rank = ranks_[r];
  Bank* first = &banks_[std::size_t{r} * banks_per_rank_];
  Bank* end = first + banks_per_rank_;
  if (rank.open_banks > 0) {
    std::int64_t precharge_all = now;
    for (Bank* bank = first; bank != end; ++bank)
      if (bank->open_row != kClosedRow) precharge_all = std::max(precharge_all, bank->pre_ready);
    if (precharge_all > now) return precharge_all;
    for (Bank* bank = first; bank != end; ++bank)
      if (bank->open_row != kClosedRow) close_bank(r, *bank, now);
    rank.ref_ready = now + t_.rpab;
    log(DramCommand::kPre, r, banks_per_rank_, now);
    return now;
  }
  std::int64_t ref_at = rank.ref_ready;
  for (Bank* bank = first; bank != end; ++bank) ref_at = std::max(ref_at, bank->act_ready);
  if (ref_at > now) return ref_at;
  for (Bank* bank = first; bank != end; ++bank) bank->act_ready = now + t_.rfc;
  if (now > rank.idle_since) rank.precharged += now - rank.idle_since;  // active standby while refreshing
  rank.idle_since = now + t_.rfc;
  rank.next_refresh += t_.refi;
  rank.refresh_due = false;
  ++counts_.refreshes;
  last_done_ = std::max(last_done_, now + t_.rfc);
  log(DramCommand::kRefresh, r, 0, now);
  return now;
}

// FR-FCFS over one queue: the oldest row hit that may issue its column command; else PRE or ACT
// for the oldest burst of a bank whose row is not open (no PRE while a queued burst still hits
// the open row). Once `starvation_cap` younger hits have passed the oldest burst, only the
// oldest is served.
std::int64_t FrFcfsController::schedule(Channel& channel, std::vector<Entry>& queue, std::int64_t now) {
  ++stamp_;
  const bool starving = channel.bypasses >= spec_.controller.starvation_cap;
  const std::size_t considered = starving ? std::min<std::size_t>(1, queue.size()) : queue.size();
  std::int64_t wake = kFar;
  for (std::size_t i = 0; i < considered; ++i) {
    const Entry& e = queue[i];
    Bank& bank = banks_[e.bank];
    if (ranks_[e.rank].refresh_due || bank.open_row != e.row) continue;
    bank.hit_stamp = stamp_;
    if (e.ready > now) {
      wake = std::min(wake, e.ready);
      continue;
    }
    const std::int64_t at = cas_time(e, e.is_write);
    if (at <= now) {
      issue_cas(channel, queue, i, now);
      return now;
    }
    wake = std::min(wake, at);
  }
  for (std::size_t i = 0; i < considered; ++i) {
    const Entry& e = queue[i];
    Bank& bank = banks_[e.bank];
    if (ranks_[e.rank].refresh_due || bank.open_row == e.row || bank.seen_stamp == stamp_) continue;
    bank.seen_stamp = stamp_;
    if (e.ready > now) {
      wake = std::min(wake, e.ready);
      continue;
    }
    if (bank.open_row == kClosedRow) {
      const std::int64_t at = act_time(e);
      if (at <= now) {
        issue_act(e, now);
        return now;
      }
      wake = std::min(wake, at);
    } else if (bank.hit_stamp != stamp_) {
      if (bank.pre_ready <= now) {
        ++demand_precharges_;
        close_bank(e.rank, bank, now);
        log(DramCommand::kPre, e.rank, e.bank - e.rank * banks_per_rank_, now);
        return now;
      }
      wake = std::min(wake, bank.pre_ready);
    }
  }
  return wake;
}

// DRAMsim3's arbitration: banks of the channel in turn, starting after the one served last; the
// first bank with a ready command issues it.
std::int64_t FrFcfsController::schedule_round_robin(std::uint32_t c, Channel& channel, std::int64_t now) {
  const std::uint32_t per_channel = ranks_per_channel_ * banks_per_rank_;
  std::int64_t wake = kFar;
  for (std::uint32_t k = 1; k <= per_channel; ++k) {
    const std::uint32_t local = (channel.rr_bank + k) % per_channel;
    std::vector<Entry>& queue = bank_queues_[std::size_t{c} * per_channel + local];
    if (queue.empty() || ranks_[queue.front().rank].refresh_due) continue;
    const std::int64_t at = bank_step(channel, queue, now);
    if (at <= now) {
      channel.rr_bank = local;
      return now;
    }
    wake = std::min(wake, at);
  }
  return wake;
}

// One bank's command queue, oldest first: a ready row hit; else ACT for the oldest burst of a
// closed bank; else PRE when no queued burst hits the open row.
std::int64_t FrFcfsController::bank_step(Channel& channel, std::vector<Entry>& queue, std::int64_t now) {
  const Entry& head = queue.front();
  Bank& bank = banks_[head.bank];
  std::int64_t wake = kFar;
  bool hit_queued = false;
  for (std::size_t i = 0; i < queue.size(); ++i) {
    if (bank.open_row != queue[i].row) continue;
    hit_queued = true;
    const std::int64_t at = std::max(queue[i].ready, cas_time(queue[i], queue[i].is_write));
    if (at <= now) {
      issue_cas(channel, queue, i, now);
      return now;
    }
    wake = std::min(wake, at);
  }
  if (head.ready > now) return std::min(wake, head.ready);
  if (bank.open_row == kClosedRow) {
    const std::int64_t at = act_time(head);
    if (at <= now) issue_act(head, now);
    return std::min(wake, at);
  }
  if (hit_queued) return wake;
  if (bank.pre_ready <= now) {
    ++demand_precharges_;
    close_bank(head.rank, bank, now);
    log(DramCommand::kPre, head.rank, head.bank - head.rank * banks_per_rank_, now);
    return now;
  }
  return std::min(wake, bank.pre_ready);
}

std::int64_t FrFcfsController::cas_time(const Entry& e, bool is_write) const {
  const Channel& channel = channels_[e.rank / ranks_per_channel_];
  const Rank& rank = ranks_[e.rank];
  const Group& group = groups_[e.group];
  std::int64_t at = latest(banks_[e.bank].col_ready, rank.last_cas + t_.ccd_s, group.last_cas + t_.ccd_l);
  // Data bursts never overlap on the bus; another rank's data needs tRTRS idle cycles first.
  const std::int64_t bus_ready = channel.bus_free + (channel.last_rank == e.rank ? 0 : t_.rtrs);
  if (is_write) return latest(at, channel.last_read_cas + t_.rtw, bus_ready - t_.cwl);
  return latest(at, rank.last_write_end + t_.wtr_s, group.last_write_end + t_.wtr_l, bus_ready - t_.cl);
}

std::int64_t FrFcfsController::act_time(const Entry& e) const {
  const Rank& rank = ranks_[e.rank];
  return latest(banks_[e.bank].act_ready, rank.last_act + t_.rrd_s, groups_[e.group].last_act + t_.rrd_l,
                rank.recent_acts[rank.faw_pos] + t_.faw);
}

void FrFcfsController::issue_cas(Channel& channel, std::vector<Entry>& queue, std::size_t i,
                                 std::int64_t now) {
  const Entry e = queue[i];
  const bool is_write = e.is_write;
  const std::int64_t data_end = now + (is_write ? t_.cwl : t_.cl) + t_.burst;
  Rank& rank = ranks_[e.rank];
  Group& group = groups_[e.group];
  Bank& bank = banks_[e.bank];
  channel.bus_free = data_end;
  channel.last_rank = e.rank;
  rank.last_cas = group.last_cas = now;
  if (is_write) {
    rank.last_write_end = group.last_write_end = data_end;
    bank.pre_ready = std::max(bank.pre_ready, data_end + t_.wr);
  } else {
    channel.last_read_cas = now;
    bank.pre_ready = std::max(bank.pre_ready, now + t_.rtp);
  }
  channel.bypasses = i == 0 ? 0 : channel.bypasses + 1;
  if (spec_.controller.bank_queue_depth > 0) --bank.ready_bursts;
  queue.erase(queue.begin() + static_cast<std::ptrdiff_t>(i));
  --queued_;
  log(is_write ? DramCommand::kWrite : DramCommand::kRead, e.rank, e.bank - e.rank * banks_per_rank_, now);
  RequestTiming& timing = timings_[e.request];
  timing.done_ps = std::max<std::uint64_t>(timing.done_ps, static_cast<std::uint64_t>(data_end));
  --unfinished_[e.request];
  last_done_ = std::max(last_done_, data_end);
  // Auto-precharge (closed, adaptive): the bank closes as soon as tRTP / tWR allow.
  if (close_after(channel, e)) close_bank(e.rank, bank, bank.pre_ready);
}

// Closed page: close unless a queued burst hits the row. Adaptive: close only when, in addition,
// a queued burst needs another row of the bank (so a lone stream keeps its row open).
bool FrFcfsController::close_after(const Channel& channel, const Entry& served) const {
  const PagePolicy policy = spec_.controller.page_policy;
  if (policy == PagePolicy::kOpen) return false;
  bool other_row = false;
  const std::vector<Entry>* bank_queue =
      bank_queues_.empty() ? &channel.commands : &bank_queues_[served.bank];
  for (const auto* queue : {&channel.reads, &channel.writes, bank_queue})
    for (const Entry& e : *queue) {
      if (e.bank != served.bank) continue;
      if (e.row == served.row) return false;
      other_row = true;
    }
  return policy == PagePolicy::kClosed || other_row;
}

void FrFcfsController::issue_act(const Entry& e, std::int64_t now) {
  Rank& rank = ranks_[e.rank];
  Group& group = groups_[e.group];
  Bank& bank = banks_[e.bank];
  rank.recent_acts[rank.faw_pos] = now;
  rank.faw_pos = (rank.faw_pos + 1) & 3;
  rank.last_act = group.last_act = now;
  if (rank.open_banks++ == 0 && now > rank.idle_since) rank.precharged += now - rank.idle_since;
  bank.open_row = e.row;
  bank.col_ready = now + t_.rcd;
  bank.pre_ready = now + t_.ras;
  bank.act_ready = now + t_.rc;
  ++counts_.activates;
  log(DramCommand::kAct, e.rank, e.bank - e.rank * banks_per_rank_, now);
}

void FrFcfsController::close_bank(std::uint32_t rank_index, Bank& bank, std::int64_t pre_at) {
  Rank& rank = ranks_[rank_index];
  bank.open_row = kClosedRow;
  bank.act_ready = std::max(bank.act_ready, pre_at + t_.rp);
  rank.idle_since = std::max(rank.idle_since, pre_at);
  --rank.open_banks;
  ++counts_.precharges;
}

void FrFcfsController::log(DramCommand command, std::uint32_t rank, std::uint32_t bank, std::int64_t cycle) {
  if (record_) log_.push_back({command, rank, bank, cycle});
}

const DramCounts& FrFcfsController::counts() const {
  const auto tck = static_cast<std::int64_t>(spec_.org.tck_ps);
  snapshot_ = counts_;
  const std::uint64_t bursts = counts_.read_bursts + counts_.write_bursts;
  // Every ACT serves one burst that found its bank closed (miss) or had to close another row
  // (conflict); the other bursts were hits.
  snapshot_.row_conflicts = demand_precharges_;
  snapshot_.row_misses = counts_.activates - std::min(counts_.activates, demand_precharges_);
  snapshot_.row_hits = bursts - std::min(bursts, counts_.activates);
  snapshot_.elapsed_ps = static_cast<std::uint64_t>(last_done_ * tck);
  snapshot_.bus_busy_ps = bursts * spec_.burst_ps();
  std::int64_t precharged = 0;
  for (const Rank& rank : ranks_) {
    std::int64_t rank_precharged = rank.precharged;
    if (rank.open_banks == 0 && last_done_ > rank.idle_since) rank_precharged += last_done_ - rank.idle_since;
    precharged += std::min(rank_precharged, last_done_);
  }
  snapshot_.precharge_standby_ps = static_cast<std::uint64_t>(precharged * tck);
  snapshot_.active_standby_ps = snapshot_.elapsed_ps * ranks_.size() - snapshot_.precharge_standby_ps;
  return snapshot_;
}

}  // namespace capsim::dram
