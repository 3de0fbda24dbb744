#include "capsim/rtl/dram/dram_timing.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "capsim/common/integers.hpp"

namespace capsim::dram {
namespace {

// "Never happened": far enough in the past that adding any timing constraint stays negative.
constexpr std::int64_t kNever = -(std::int64_t{1} << 60);
constexpr std::uint32_t kClosedRow = std::numeric_limits<std::uint32_t>::max();

// The latest of several times (pairwise std::max: no initializer_list loop on the hot path).
constexpr std::int64_t latest(std::int64_t a) { return a; }
template <class... Rest>
constexpr std::int64_t latest(std::int64_t a, std::int64_t b, Rest... rest) {
  return latest(a > b ? a : b, rest...);
}

std::uint32_t log2_exact(std::uint64_t value) { return log2_ceil(value); }

std::uint32_t field_bits(const DramOrganization& org, MapField field, bool bank_includes_groups) {
  switch (field) {
    case MapField::kChannel:
      return log2_exact(org.channels);
    case MapField::kRank:
      return log2_exact(org.ranks);
    case MapField::kBankGroup:
      return log2_exact(org.bank_groups);
    case MapField::kBank:
      return log2_exact(org.banks_per_group) + (bank_includes_groups ? log2_exact(org.bank_groups) : 0);
    case MapField::kRow:
      return log2_exact(org.rows);
    case MapField::kColumn:
      return log2_exact(org.columns / org.burst_length);
  }
  return 0;
}

}  // namespace

DramTiming::DramTiming(const DramSpec& spec) : spec_(spec) {
  const auto& org = spec_.org;
  const auto ps = [&](std::uint32_t cycles) { return static_cast<std::int64_t>(spec_.cycles_to_ps(cycles)); };
  const auto& c = spec_.timing;
  t_ = {ps(c.cl),    ps(c.cwl),   ps(c.rcd),
        ps(c.rp),    ps(c.rpab),  ps(c.ras),
        ps(c.rc),    ps(c.ccd_s), ps(c.ccd_l),
        ps(c.rrd_s), ps(c.rrd_l), ps(c.faw),
        ps(c.wr),    ps(c.wtr_s), ps(c.wtr_l),
        ps(c.rtp),   ps(c.rtw),   ps(c.rtrs),
        ps(c.rfc),   ps(c.refi),  static_cast<std::int64_t>(spec_.burst_ps())};

  bytes_per_burst_ = spec_.bytes_per_burst();
  offset_bits_ = log2_exact(bytes_per_burst_);
  burst_index_mask_ = spec_.capacity_bytes() / bytes_per_burst_ - 1;

  // Bit fields from the least significant end: the mapping string is written MSB first.
  const auto& mapping = spec_.controller.mapping_msb_first;
  const bool bank_includes_groups =
      std::find(mapping.begin(), mapping.end(), MapField::kBankGroup) == mapping.end();
  std::uint32_t shift = 0;
  for (auto it = mapping.rbegin(); it != mapping.rend(); ++it) {
    const std::uint32_t bits = field_bits(org, *it, bank_includes_groups);
    fields_[static_cast<std::size_t>(*it)] = {shift, (std::uint64_t{1} << bits) - 1};
    shift += bits;
  }
  const BitField& column = fields_[static_cast<std::size_t>(MapField::kColumn)];
  column_bits_ = column.mask << column.shift;

  ranks_per_channel_ = org.ranks;
  groups_per_rank_ = org.bank_groups;
  banks_per_group_ = org.banks_per_group;
  banks_per_rank_ = org.bank_groups * org.banks_per_group;
  queue_depth_ = spec_.controller.queue_depth;
  closed_page_ = spec_.controller.page_policy == PagePolicy::kClosed;

  const std::size_t rank_count = std::size_t{org.channels} * org.ranks;
  channels_.assign(org.channels, Channel{kNever, kNever, kNever, 0, 0});
  Rank rank{};
  rank.recent_acts.fill(kNever);
  rank.last_act = rank.last_cas = rank.last_write_end = kNever;
  rank.next_refresh = spec_.controller.refresh ? t_.refi : std::numeric_limits<std::int64_t>::max();
  rank.refresh_until = rank.latest_bank_ready = kNever;
  rank.idle_since = 0;
  ranks_.assign(rank_count, rank);
  groups_.assign(rank_count * org.bank_groups, BankGroup{kNever, kNever, kNever});
  banks_.assign(rank_count * banks_per_rank_, Bank{kNever, kNever, kNever, kClosedRow});
  queue_cas_.assign(std::size_t{org.channels} * queue_depth_, kNever);
}

DramAddress DramTiming::decode(std::uint64_t addr) const {
  const std::uint64_t burst = (addr >> offset_bits_) & burst_index_mask_;
  const auto field = [&](MapField f) {
    const BitField& bf = fields_[static_cast<std::size_t>(f)];
    return static_cast<std::uint32_t>((burst >> bf.shift) & bf.mask);
  };
  DramAddress out;
  out.channel = field(MapField::kChannel);
  out.rank = field(MapField::kRank);
  std::uint32_t bank = field(MapField::kBank);
  out.bank_group = field(MapField::kBankGroup);
  if (fields_[static_cast<std::size_t>(MapField::kBankGroup)].mask == 0 && groups_per_rank_ > 1) {
    out.bank_group = bank / banks_per_group_;  // no Bg field: bank groups are Ba's upper bits
    bank %= banks_per_group_;
  }
  out.bank = bank;
  out.row = field(MapField::kRow);
  out.column = field(MapField::kColumn) * spec_.org.burst_length;
  return out;
}

DramTiming::Target DramTiming::locate(std::uint64_t burst_index) const {
  const std::uint64_t burst = burst_index & burst_index_mask_;
  const auto field = [&](MapField f) {
    const BitField& bf = fields_[static_cast<std::size_t>(f)];
    return static_cast<std::uint32_t>((burst >> bf.shift) & bf.mask);
  };
  const std::uint32_t channel = field(MapField::kChannel);
  const std::uint32_t rank = channel * ranks_per_channel_ + field(MapField::kRank);
  // Without a Bg field, Ba holds group and bank (group in the upper bits), which is exactly the
  // flat bank index within the rank; with it, the two combine the same way.
  const std::uint32_t bank_in_rank = field(MapField::kBankGroup) * banks_per_group_ + field(MapField::kBank);
  const std::uint32_t group = rank * groups_per_rank_ + bank_in_rank / banks_per_group_;
  return {channel, rank, group, rank * banks_per_rank_ + bank_in_rank, field(MapField::kRow)};
}

std::uint64_t DramTiming::transfer(bool is_write, std::uint64_t addr, std::uint64_t bytes,
                                   std::uint64_t start_ps) {
  if (bytes == 0) return start_ps;
  const std::uint64_t first = addr >> offset_bits_;
  const std::uint64_t last = (addr + bytes - 1) >> offset_bits_;
  const std::uint64_t bursts = last - first + 1;
  const auto arrival = static_cast<std::int64_t>(start_ps);
  std::int64_t done = arrival;
  for (std::uint64_t i = 0; i < bursts; ++i) {
    const Target current = locate(first + i);
    // Closed page keeps a row open only while a later burst of this request will hit it.
    const bool keep_open = !closed_page_ || row_reused_later(first + i, last);
    done = std::max(done, issue_burst(is_write, current, arrival, keep_open));
  }
  const std::uint64_t burst_bytes = bursts * bytes_per_burst_;
  if (is_write) {
    counts_.write_bursts += bursts;
    counts_.write_bytes += bytes;
    counts_.write_burst_bytes += burst_bytes;
  } else {
    counts_.read_bursts += bursts;
    counts_.read_bytes += bytes;
    counts_.read_burst_bytes += burst_bytes;
  }
  counts_.bus_busy_ps += bursts * static_cast<std::uint64_t>(t_.burst);
  elapsed_ps_ = std::max(elapsed_ps_, done);
  return static_cast<std::uint64_t>(done);
}

bool DramTiming::row_reused_later(std::uint64_t burst_index, std::uint64_t last_index) const {
  // The next burst index with the same channel, rank, bank and row differs only in the column
  // bits: increment those bits as one counter, the others held fixed.
  if ((burst_index & column_bits_) == column_bits_) return false;  // last column of the row
  const std::uint64_t next =
      (((burst_index | ~column_bits_) + 1) & column_bits_) | (burst_index & ~column_bits_);
  return next <= last_index;
}

std::int64_t DramTiming::issue_burst(bool is_write, const Target& at, std::int64_t arrival, bool keep_open) {
  Channel& channel = channels_[at.channel];
  std::int64_t& queue_slot = queue_cas_[std::size_t{at.channel} * queue_depth_ + channel.queue_pos];
  // The controller sees this burst once the one queue_depth bursts earlier has issued.
  const std::int64_t earliest = std::max(arrival, queue_slot);
  const std::int64_t now = std::max(earliest, channel.last_cas);
  if (now >= ranks_[at.rank].next_refresh) refresh_rank(at.rank, now);

  if (banks_[at.bank].open_row == at.row)
    ++counts_.row_hits;
  else
    open_row(at, earliest);

  const std::int64_t cas = column_command_time(is_write, at, earliest);
  const std::int64_t data_end = cas + (is_write ? t_.cwl : t_.cl) + t_.burst;
  channel.bus_free = data_end;
  channel.last_rank = at.rank;
  channel.last_cas = cas;
  queue_slot = cas;
  channel.queue_pos = channel.queue_pos + 1 == queue_depth_ ? 0 : channel.queue_pos + 1;

  Rank& rank = ranks_[at.rank];
  BankGroup& group = groups_[at.group];
  Bank& bank = banks_[at.bank];
  rank.last_cas = group.last_cas = cas;
  if (is_write) {
    rank.last_write_end = group.last_write_end = data_end;
    bank.pre_ready = std::max(bank.pre_ready, data_end + t_.wr);
  } else {
    channel.last_read_cas = cas;
    bank.pre_ready = std::max(bank.pre_ready, cas + t_.rtp);
  }
  if (!keep_open) close_bank(rank, bank, bank.pre_ready);
  return data_end;
}

void DramTiming::open_row(const Target& at, std::int64_t earliest) {
  Rank& rank = ranks_[at.rank];
  BankGroup& group = groups_[at.group];
  Bank& bank = banks_[at.bank];
  if (bank.open_row != kClosedRow) {
    ++counts_.row_conflicts;
    close_bank(rank, bank, std::max(earliest, bank.pre_ready));
  } else {
    ++counts_.row_misses;
  }
  const std::int64_t act = latest(earliest, bank.act_ready, rank.refresh_until, rank.last_act + t_.rrd_s,
                                  group.last_act + t_.rrd_l, rank.recent_acts[rank.faw_pos] + t_.faw);
  rank.recent_acts[rank.faw_pos] = act;
  rank.faw_pos = (rank.faw_pos + 1) & 3;
  rank.last_act = group.last_act = act;
  // ACTs of a rank are issued in time order (tRRD), so a rank with no open bank has been fully
  // precharged from idle_since until this ACT.
  if (rank.open_banks++ == 0 && act > rank.idle_since) rank.precharged_ps += act - rank.idle_since;
  bank.open_row = at.row;
  bank.col_ready = act + t_.rcd;
  bank.pre_ready = act + t_.ras;
  bank.act_ready = act + t_.rc;
  rank.latest_bank_ready = std::max(rank.latest_bank_ready, bank.act_ready);
  ++counts_.activates;
}

std::int64_t DramTiming::column_command_time(bool is_write, const Target& at, std::int64_t earliest) const {
  const Channel& channel = channels_[at.channel];
  const Rank& rank = ranks_[at.rank];
  const BankGroup& group = groups_[at.group];
  // In order: no column command before the previous one of this channel.
  std::int64_t cas = latest(earliest, banks_[at.bank].col_ready, channel.last_cas, rank.last_cas + t_.ccd_s,
                            group.last_cas + t_.ccd_l);
  const std::int64_t bus_ready = channel.bus_free + (channel.last_rank == at.rank ? 0 : t_.rtrs);
  if (is_write) {
    cas = latest(cas, channel.last_read_cas + t_.rtw, bus_ready - t_.cwl);
  } else {
    cas = latest(cas, rank.last_write_end + t_.wtr_s, group.last_write_end + t_.wtr_l, bus_ready - t_.cl);
  }
  return cas;
}

void DramTiming::close_bank(Rank& rank, Bank& bank, std::int64_t pre_at) {
  bank.open_row = kClosedRow;
  bank.act_ready = std::max(bank.act_ready, pre_at + t_.rp);
  rank.latest_bank_ready = std::max(rank.latest_bank_ready, bank.act_ready);
  rank.idle_since = std::max(rank.idle_since, pre_at);
  --rank.open_banks;
  ++counts_.precharges;
}

void DramTiming::refresh_rank(std::uint32_t rank_index, std::int64_t now) {
  Rank& rank = ranks_[rank_index];
  while (now >= rank.next_refresh) {
    const std::int64_t due = rank.next_refresh;
    std::int64_t ref_at = std::max(due, rank.refresh_until);
    if (rank.open_banks > 0) {
      // Precharge-all as soon as every open bank allows it; REF follows tRPab later.
      Bank* first = &banks_[std::size_t{rank_index} * banks_per_rank_];
      std::int64_t precharge_all = due;
      for (Bank* bank = first; bank != first + banks_per_rank_; ++bank)
        if (bank->open_row != kClosedRow) precharge_all = std::max(precharge_all, bank->pre_ready);
      for (Bank* bank = first; bank != first + banks_per_rank_; ++bank)
        if (bank->open_row != kClosedRow) close_bank(rank, *bank, precharge_all);
      ref_at = std::max(ref_at, precharge_all + t_.rpab);
    }
    ref_at = std::max(ref_at, rank.latest_bank_ready);
    // An idle rank refreshes exactly when due; all refreshes until `now` can be booked at once.
    const std::int64_t count = ref_at == due ? (now - due) / t_.refi + 1 : 1;
    const std::int64_t last = ref_at + (count - 1) * t_.refi;
    if (ref_at > rank.idle_since) rank.precharged_ps += ref_at - rank.idle_since;
    rank.precharged_ps += (count - 1) * (t_.refi - t_.rfc);
    rank.idle_since = rank.refresh_until = last + t_.rfc;
    rank.next_refresh = due + count * t_.refi;
    counts_.refreshes += static_cast<std::uint64_t>(count);
    elapsed_ps_ = std::max(elapsed_ps_, last + t_.rfc);
  }
}

void DramTiming::advance_to(std::uint64_t now_ps) {
  const auto now = static_cast<std::int64_t>(now_ps);
  for (std::uint32_t r = 0; r < ranks_.size(); ++r) refresh_rank(r, now);
  elapsed_ps_ = std::max(elapsed_ps_, now);
}

const DramCounts& DramTiming::counts() const {
  snapshot_ = counts_;
  snapshot_.elapsed_ps = static_cast<std::uint64_t>(elapsed_ps_);
  std::int64_t precharged = 0;
  for (const Rank& rank : ranks_) {
    std::int64_t rank_precharged = rank.precharged_ps;
    if (rank.open_banks == 0 && elapsed_ps_ > rank.idle_since)
      rank_precharged += elapsed_ps_ - rank.idle_since;
    precharged += std::min(rank_precharged, elapsed_ps_);
  }
  const auto total = static_cast<std::uint64_t>(elapsed_ps_) * ranks_.size();
  snapshot_.precharge_standby_ps = static_cast<std::uint64_t>(precharged);
  snapshot_.active_standby_ps = total - snapshot_.precharge_standby_ps;
  return snapshot_;
}

StatList DramTiming::stats() const { return dram_stats(counts()); }

const std::vector<DramCountField>& dram_count_fields() {
  using C = DramCounts;
  static const std::vector<DramCountField> fields = {
      {&C::activates, "activates", "count", "row activations (ACT; each is closed by one precharge)"},
      {&C::precharges, "precharges", "count", "row precharges (explicit, auto-precharge and before refresh)"},
      {&C::read_bursts, "read_bursts", "count", "read bursts"},
      {&C::write_bursts, "write_bursts", "count", "write bursts"},
      {&C::read_bytes, "read_bytes", "bytes", "payload bytes read"},
      {&C::write_bytes, "write_bytes", "bytes", "payload bytes written"},
      {&C::read_burst_bytes, "read_burst_bytes", "bytes",
       "bytes moved by read bursts (partial bursts count whole)"},
      {&C::write_burst_bytes, "write_burst_bytes", "bytes",
       "bytes moved by write bursts (partial bursts count whole)"},
      {&C::row_hits, "row_hits", "count", "bursts that found their row open"},
      {&C::row_misses, "row_misses", "count", "bursts to a closed bank (ACT only)"},
      {&C::row_conflicts, "row_conflicts", "count", "bursts to a bank with another row open (PRE and ACT)"},
      {&C::refreshes, "refreshes", "count", "all-bank refreshes, summed over ranks"},
      {&C::elapsed_ps, "elapsed_ps", "ps", "time from 0 to the last data beat or the end of the run"},
      {&C::bus_busy_ps, "bus_busy_ps", "ps", "data-bus time carrying bursts, summed over channels"},
      {&C::active_standby_ps, "active_standby_ps", "ps",
       "time with a bank open or refreshing, summed over ranks"},
      {&C::precharge_standby_ps, "precharge_standby_ps", "ps",
       "time with all banks closed, summed over ranks"},
  };
  return fields;
}

const DramCountField& dram_count_field(const std::string& name) {
  for (const auto& f : dram_count_fields())
    if (name == f.name) return f;
  throw std::logic_error("undeclared DRAM count '" + name + "'");
}

DramCounts operator-(const DramCounts& now, const DramCounts& before) {
  DramCounts d;
  for (const auto& f : dram_count_fields()) d.*f.member = now.*f.member - before.*f.member;
  return d;
}

StatList dram_stats(const DramCounts& c) {
  StatList stats;
  for (const auto& f : dram_count_fields())
    stats.push_back({std::string("dram_") + f.name, f.unit, f.description, static_cast<double>(c.*f.member)});
  return stats;
}

}  // namespace capsim::dram
