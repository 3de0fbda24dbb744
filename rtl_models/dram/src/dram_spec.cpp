#include "capsim/rtl/dram/dram_spec.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>

#include "capsim/common/integers.hpp"
#include "capsim/common/yaml_view.hpp"

namespace capsim::dram {
namespace {

constexpr std::int64_t kMaxCycles = 1 << 24;
constexpr int kMaxAddressBits = 62;

int log2_exact(std::uint64_t value) { return static_cast<int>(log2_ceil(value)); }

// A count that becomes a bit field of the address, so it must be a power of two.
std::uint32_t power_of_two(const YamlView& view, std::string_view key, std::int64_t max) {
  const std::int64_t value = view.integer(key, 1);
  if (value > max) view.fail(key, fmt::format("at most {}", max));
  if (!is_power_of_two(value))
    view.fail(key, "a power of two (the address mapping splits addresses into bit fields)");
  return static_cast<std::uint32_t>(value);
}

std::uint32_t bounded(const YamlView& view, std::string_view key, std::int64_t max) {
  const std::int64_t value = view.integer(key, 1);
  if (value > max) view.fail(key, fmt::format("at most {}", max));
  return static_cast<std::uint32_t>(value);
}

// ---- organization ---------------------------------------------------------------------------

void check_beats_per_clock(const YamlView& view, const DramOrganization& org) {
  // Both data rate and clock are given (datasheets quote both); they must agree on a whole
  // number of data beats per command clock, or cycle counts and burst times disagree.
  const double beats = double(org.data_rate_mtps) * org.tck_ps / 1e6;
  const double whole = std::round(beats);
  if (whole < 1 || std::abs(beats - whole) > 0.01 * whole)
    view.fail("tck_ps", fmt::format("a clock period giving a whole number of data beats per clock "
                                    "(data_rate_mtps x tck_ps / 10^6 = {:.3f})",
                                    beats));
}

DramOrganization parse_organization(const YamlView& view) {
  view.allow_keys({"channels", "ranks", "bank_groups", "banks_per_group", "rows", "columns", "bus_width_bits",
                   "burst_length", "data_rate_mtps", "tck_ps"});
  DramOrganization org;
  org.channels = power_of_two(view, "channels", 1024);
  org.ranks = power_of_two(view, "ranks", 16);
  org.bank_groups = power_of_two(view, "bank_groups", 64);
  org.banks_per_group = power_of_two(view, "banks_per_group", 64);
  org.rows = power_of_two(view, "rows", 1 << 24);
  org.columns = power_of_two(view, "columns", 1 << 16);
  org.bus_width_bits = power_of_two(view, "bus_width_bits", 1024);
  if (org.bus_width_bits < 8) view.fail("bus_width_bits", "at least 8 (whole bytes per beat)");
  org.burst_length = power_of_two(view, "burst_length", 64);
  org.data_rate_mtps = bounded(view, "data_rate_mtps", 100'000);
  org.tck_ps = bounded(view, "tck_ps", 100'000);
  if (org.columns < org.burst_length)
    view.fail("columns", fmt::format("at least burst_length ({}): a burst reads burst_length columns",
                                     org.burst_length));
  check_beats_per_clock(view, org);
  return org;
}

// ---- timing ---------------------------------------------------------------------------------

// min is 0 or 1, so that a bad value reads "expected a positive (non-negative) integer".
std::uint32_t cycles(const YamlView& view, std::string_view key, std::int64_t min) {
  const std::int64_t value = view.integer(key, min);
  if (value > kMaxCycles) view.fail(key, fmt::format("at most {} cycles", kMaxCycles));
  return static_cast<std::uint32_t>(value);
}

void require_at_most(const YamlView& view, std::string_view key, std::uint32_t value,
                     std::string_view bound_key, std::uint32_t bound, std::string_view why) {
  if (value > bound)
    view.fail(key, fmt::format("at most {} ({} cycles): {}", view.key_path(bound_key), bound, why));
}

void check_timing(const YamlView& view, const DramTimingCycles& t) {
  require_at_most(view, "ras", t.ras, "rc", t.rc,
                  "a row must close before the bank's next ACT (tRAS <= tRC)");
  require_at_most(view, "rcd", t.rcd, "ras", t.ras, "tRCD <= tRAS");
  if (t.rpab < t.rp)
    view.fail("rpab", fmt::format("at least {} ({} cycles): tRPab >= tRP", view.key_path("rp"), t.rp));
  const auto same_group_not_shorter = [&](std::string_view long_key, std::uint32_t long_value,
                                          std::string_view short_key, std::uint32_t short_value) {
    if (long_value < short_value)
      view.fail(long_key, fmt::format("at least {} ({} cycles): the same-bank-group spacing is never shorter",
                                      view.key_path(short_key), short_value));
  };
  same_group_not_shorter("ccd_l", t.ccd_l, "ccd_s", t.ccd_s);
  same_group_not_shorter("rrd_l", t.rrd_l, "rrd_s", t.rrd_s);
  same_group_not_shorter("wtr_l", t.wtr_l, "wtr_s", t.wtr_s);
  if (t.rfc >= t.refi)
    view.fail("rfc", fmt::format("less than {} ({} cycles): a refresh must end before the next is due",
                                 view.key_path("refi"), t.refi));
}

DramTimingCycles parse_timing(const YamlView& view) {
  view.allow_keys({"cl",    "cwl", "rcd", "rp",    "rpab",  "ras", "rc",  "ccd_s", "ccd_l", "rrd_s",
                   "rrd_l", "faw", "wr",  "wtr_s", "wtr_l", "rtp", "rtw", "rtrs",  "rfc",   "refi"});
  DramTimingCycles t;
  t.cl = cycles(view, "cl", 1);
  t.cwl = cycles(view, "cwl", 1);
  t.rcd = cycles(view, "rcd", 1);
  t.rp = cycles(view, "rp", 1);
  t.rpab = view.has("rpab") ? cycles(view, "rpab", 1) : t.rp;
  t.ras = cycles(view, "ras", 1);
  t.rc = cycles(view, "rc", 1);
  t.ccd_s = cycles(view, "ccd_s", 1);
  t.ccd_l = cycles(view, "ccd_l", 1);
  t.rrd_s = cycles(view, "rrd_s", 0);
  t.rrd_l = cycles(view, "rrd_l", 0);
  t.faw = cycles(view, "faw", 0);
  t.wr = cycles(view, "wr", 0);
  t.wtr_s = cycles(view, "wtr_s", 0);
  t.wtr_l = cycles(view, "wtr_l", 0);
  t.rtp = cycles(view, "rtp", 0);
  t.rtw = cycles(view, "rtw", 0);
  t.rtrs = view.has("rtrs") ? cycles(view, "rtrs", 0) : 0;
  t.rfc = cycles(view, "rfc", 1);
  t.refi = cycles(view, "refi", 1);
  check_timing(view, t);
  return t;
}

// ---- controller -----------------------------------------------------------------------------

const std::string kMappingHelp =
    "a mapping string of two-letter fields, most significant first, each used once, from "
    "Ch (channel), Ra (rank), Bg (bank group), Ba (bank), Ro (row), Co (column), e.g. 'RoBaRaCoCh'; "
    "Ro, Ba and Co are required, Ch and Ra may be left out only when there is one channel or rank, "
    "and without Bg the bank groups are the upper bits of Ba";

std::uint32_t field_count(const DramOrganization& org, MapField field) {
  switch (field) {
    case MapField::kChannel:
      return org.channels;
    case MapField::kRank:
      return org.ranks;
    case MapField::kBankGroup:
      return org.bank_groups;
    case MapField::kBank:
      return org.banks_per_group;
    case MapField::kRow:
      return org.rows;
    case MapField::kColumn:
      return org.columns / org.burst_length;
  }
  return 1;
}

bool has_field(const std::vector<MapField>& fields, MapField field) {
  return std::find(fields.begin(), fields.end(), field) != fields.end();
}

void check_mapping(const YamlView& view, const std::vector<MapField>& fields, const DramOrganization& org) {
  if (fields.empty()) view.fail("address_mapping", kMappingHelp);
  for (MapField required : {MapField::kRow, MapField::kBank, MapField::kColumn})
    if (!has_field(fields, required))
      view.fail("address_mapping",
                fmt::format("{} (it lacks '{}')", kMappingHelp, map_field_letters(required)));
  for (MapField optional : {MapField::kChannel, MapField::kRank})
    if (!has_field(fields, optional) && field_count(org, optional) > 1)
      view.fail("address_mapping",
                fmt::format("{} (it lacks '{}' but organization has {} of them)", kMappingHelp,
                            map_field_letters(optional), field_count(org, optional)));
}

PagePolicy parse_page_policy(const YamlView& view) {
  const std::string policy = view.choice_or("page_policy", {"open", "closed", "adaptive"}, "open");
  return policy == "open"     ? PagePolicy::kOpen
         : policy == "closed" ? PagePolicy::kClosed
                              : PagePolicy::kAdaptive;
}

// The frfcfs keys are validated whatever the scheduler, so a typo never hides until a switch.
void parse_queues(const YamlView& view, DramController& c) {
  c.read_queue_depth = static_cast<std::uint32_t>(view.integer_or("read_queue_depth", 32, 1, 1024));
  c.write_queue_depth = static_cast<std::uint32_t>(view.integer_or("write_queue_depth", 32, 1, 1024));
  const std::int64_t depth = c.write_queue_depth;
  c.write_high_watermark = static_cast<std::uint32_t>(
      view.integer_or("write_high_watermark", std::max<std::int64_t>(1, depth * 3 / 4), 1, depth));
  const std::int64_t high = c.write_high_watermark;
  if (view.has("write_low_watermark") || depth / 4 < high)
    c.write_low_watermark =
        static_cast<std::uint32_t>(view.integer_or("write_low_watermark", depth / 4, 0, high - 1));
  else
    c.write_low_watermark = static_cast<std::uint32_t>(high - 1);
  c.starvation_cap = static_cast<std::uint32_t>(view.integer_or("starvation_cap", 16, 0, 1'000'000));
  c.bank_queue_depth = static_cast<std::uint32_t>(view.integer_or("bank_queue_depth", 0, 0, 1024));
  c.pipeline_cycles = static_cast<std::uint32_t>(view.integer_or("pipeline_cycles", 0, 0, 64));
  c.arbitration =
      view.choice_or("arbitration", {"oldest_first", "bank_round_robin"}, "oldest_first") == "oldest_first"
          ? Arbitration::kOldestFirst
          : Arbitration::kBankRoundRobin;
  if (c.arbitration == Arbitration::kBankRoundRobin && c.bank_queue_depth == 0)
    view.fail("arbitration",
              "'oldest_first' while bank_queue_depth is 0 (round robin runs over the per-bank "
              "command queues)");
}

DramController parse_controller(const YamlView& view, const DramOrganization& org) {
  view.allow_keys({"address_mapping", "page_policy", "refresh", "queue_depth", "scheduler",
                   "read_queue_depth", "write_queue_depth", "write_high_watermark", "write_low_watermark",
                   "starvation_cap", "bank_queue_depth", "arbitration", "pipeline_cycles"});
  DramController controller;
  controller.address_mapping = view.string("address_mapping");
  controller.mapping_msb_first = parse_address_mapping(controller.address_mapping);
  check_mapping(view, controller.mapping_msb_first, org);
  controller.scheduler = view.choice_or("scheduler", {"in_order", "frfcfs"}, "in_order") == "in_order"
                             ? Scheduler::kInOrder
                             : Scheduler::kFrFcfs;
  controller.page_policy = parse_page_policy(view);
  if (controller.page_policy == PagePolicy::kAdaptive && controller.scheduler == Scheduler::kInOrder)
    view.fail("page_policy",
              "'open' or 'closed' with scheduler 'in_order' ('adaptive' needs scheduler 'frfcfs', "
              "which sees the queued bursts it adapts to)");
  controller.refresh = view.boolean_or("refresh", true);
  controller.queue_depth = static_cast<std::uint32_t>(view.integer_or("queue_depth", 16, 1, 1024));
  parse_queues(view, controller);
  return controller;
}

// ---- power ----------------------------------------------------------------------------------

DramRail parse_rail(const YamlView& view, const std::string& name) {
  view.allow_keys({"voltage_v", "idd0_ma", "idd2n_ma", "idd3n_ma", "idd4r_ma", "idd4w_ma", "idd5b_ma"});
  DramRail rail;
  rail.name = name;
  rail.voltage_v = view.number("voltage_v", 0.0);
  if (rail.voltage_v <= 0.0 || rail.voltage_v > 5.0) view.fail("voltage_v", "a voltage in (0, 5] volts");
  const auto current = [&](std::string_view key) {
    const double ma = view.number(key, 0.0);
    if (ma > 1e5) view.fail(key, "at most 100000 mA");
    return ma;
  };
  rail.idd0_ma = current("idd0_ma");
  rail.idd2n_ma = current("idd2n_ma");
  rail.idd3n_ma = current("idd3n_ma");
  rail.idd4r_ma = current("idd4r_ma");
  rail.idd4w_ma = current("idd4w_ma");
  rail.idd5b_ma = current("idd5b_ma");
  return rail;
}

std::vector<DramRail> parse_rails(const YamlView& view) {
  view.require_map("a mapping from rail name (vdd, vdd2, vddq, ...) to its voltage and IDD currents");
  std::vector<DramRail> rails;
  for (const auto& name : view.keys()) rails.push_back(parse_rail(view.child(name), name));
  if (rails.empty()) view.fail_here("at least one rail");
  return rails;
}

DramPower parse_power(const YamlView& view) {
  view.allow_keys({"model", "devices_per_rank", "rails", "pj_per_bit"});
  DramPower power;
  power.model = view.choice("model", {"idd", "flat"}) == "idd" ? PowerModel::kIdd : PowerModel::kFlat;
  power.devices_per_rank = static_cast<std::uint32_t>(view.integer_or("devices_per_rank", 1, 1, 64));
  // Both kinds of numbers may be present (a preset's rails under an override `model: flat`);
  // whatever is present is validated, what the model needs is required.
  if (auto rails = view.find("rails"))
    power.rails = parse_rails(*rails);
  else if (power.model == PowerModel::kIdd)
    view.fail("rails", "the supply rails with their IDD currents (model 'idd')");
  if (view.has("pj_per_bit"))
    power.pj_per_bit = view.number("pj_per_bit", 0.0);
  else if (power.model == PowerModel::kFlat)
    view.fail("pj_per_bit", "a non-negative number (model 'flat')");
  return power;
}

void check_address_bits(const YamlView& view, const DramSpec& spec) {
  const int bits = log2_exact(spec.capacity_bytes());
  if (bits > kMaxAddressBits)
    view.fail_here(
        fmt::format("an organization of at most 2^{} bytes (this one has 2^{})", kMaxAddressBits, bits));
}

bool valid_preset_name(const std::string& name) {
  if (name.empty() || name.front() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

std::vector<std::string> presets_in(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error))
    if (entry.path().extension() == ".yaml") names.push_back(entry.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string join(const std::vector<std::string>& words) {
  std::string text;
  for (const auto& word : words) text += (text.empty() ? "'" : ", '") + word + "'";
  return text.empty() ? "none" : text;
}

}  // namespace

const char* to_string(PagePolicy policy) {
  switch (policy) {
    case PagePolicy::kOpen:
      return "open";
    case PagePolicy::kClosed:
      return "closed";
    case PagePolicy::kAdaptive:
      return "adaptive";
  }
  return "?";
}

const char* to_string(Arbitration arbitration) {
  return arbitration == Arbitration::kOldestFirst ? "oldest_first" : "bank_round_robin";
}

const char* to_string(Scheduler scheduler) {
  return scheduler == Scheduler::kInOrder ? "in_order" : "frfcfs";
}

const char* map_field_letters(MapField field) {
  switch (field) {
    case MapField::kChannel:
      return "Ch";
    case MapField::kRank:
      return "Ra";
    case MapField::kBankGroup:
      return "Bg";
    case MapField::kBank:
      return "Ba";
    case MapField::kRow:
      return "Ro";
    case MapField::kColumn:
      return "Co";
  }
  return "??";
}

std::vector<MapField> parse_address_mapping(const std::string& text) {
  std::vector<MapField> fields;
  if (text.size() % 2 != 0) return {};
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const std::string_view token(text.data() + i, 2);
    bool known = false;
    for (std::size_t f = 0; f < kMapFieldCount; ++f) {
      const auto field = static_cast<MapField>(f);
      if (token != map_field_letters(field)) continue;
      if (has_field(fields, field)) return {};
      fields.push_back(field);
      known = true;
    }
    if (!known) return {};
  }
  return fields;
}

DramSpec parse_dram_spec(const YamlView& view) {
  view.allow_keys(
      {"preset", "name", "standard", "description", "organization", "timing", "controller", "power"});
  DramSpec spec;
  spec.name = view.string_or("name", view.string_or("preset", ""));
  spec.standard = view.string_or("standard", "");
  spec.org = parse_organization(view.child("organization"));
  spec.timing = parse_timing(view.child("timing"));
  spec.controller = parse_controller(view.child("controller"), spec.org);
  spec.power = parse_power(view.child("power"));
  check_address_bits(view, spec);
  return spec;
}

DramSpec load_dram_spec(const YamlView& view, const std::string& preset_dir) {
  if (!view.has("preset")) return parse_dram_spec(view);
  const std::string name = view.string("preset");
  const std::string path = preset_dir + "/" + name + ".yaml";
  if (!valid_preset_name(name) || !std::filesystem::is_regular_file(path))
    view.fail("preset", fmt::format("the name of a DRAM preset in {} (one of {})", preset_dir,
                                    join(presets_in(preset_dir))));
  const YamlDocument preset = YamlDocument::load_file(path);
  return parse_dram_spec(view.with_base(preset.root()));
}

// ---- YAML output ----------------------------------------------------------------------------

std::string dram_spec_to_yaml(const DramSpec& spec) {
  const auto& o = spec.org;
  const auto& t = spec.timing;
  const auto& c = spec.controller;
  std::string out;
  out += fmt::format("name: {}\nstandard: {}\n", yaml_quote(spec.name), yaml_quote(spec.standard));
  out += fmt::format(
      "organization:\n  channels: {}\n  ranks: {}\n  bank_groups: {}\n  banks_per_group: {}\n  rows: {}\n"
      "  columns: {}\n  bus_width_bits: {}\n  burst_length: {}\n  data_rate_mtps: {}\n  tck_ps: {}\n",
      o.channels, o.ranks, o.bank_groups, o.banks_per_group, o.rows, o.columns, o.bus_width_bits,
      o.burst_length, o.data_rate_mtps, o.tck_ps);
  out += fmt::format(
      "timing:\n  cl: {}\n  cwl: {}\n  rcd: {}\n  rp: {}\n  rpab: {}\n  ras: {}\n  rc: {}\n  ccd_s: {}\n"
      "  ccd_l: {}\n  rrd_s: {}\n  rrd_l: {}\n  faw: {}\n  wr: {}\n  wtr_s: {}\n  wtr_l: {}\n  rtp: {}\n"
      "  rtw: {}\n  rtrs: {}\n  rfc: {}\n  refi: {}\n",
      t.cl, t.cwl, t.rcd, t.rp, t.rpab, t.ras, t.rc, t.ccd_s, t.ccd_l, t.rrd_s, t.rrd_l, t.faw, t.wr, t.wtr_s,
      t.wtr_l, t.rtp, t.rtw, t.rtrs, t.rfc, t.refi);
  out +=
      fmt::format("controller:\n  address_mapping: {}\n  page_policy: {}\n  refresh: {}\n  queue_depth: {}\n",
                  c.address_mapping, to_string(c.page_policy), c.refresh ? "true" : "false", c.queue_depth);
  out += fmt::format(
      "  scheduler: {}\n  read_queue_depth: {}\n  write_queue_depth: {}\n  write_high_watermark: {}\n"
      "  write_low_watermark: {}\n  starvation_cap: {}\n  bank_queue_depth: {}\n  arbitration: {}\n"
      "  pipeline_cycles: {}\n",
      to_string(c.scheduler), c.read_queue_depth, c.write_queue_depth, c.write_high_watermark,
      c.write_low_watermark, c.starvation_cap, c.bank_queue_depth, to_string(c.arbitration),
      c.pipeline_cycles);
  const auto& p = spec.power;
  out += fmt::format("power:\n  model: {}\n  devices_per_rank: {}\n",
                     p.model == PowerModel::kIdd ? "idd" : "flat", p.devices_per_rank);
  if (p.model == PowerModel::kFlat || p.pj_per_bit > 0)
    out += fmt::format("  pj_per_bit: {:.17g}\n", p.pj_per_bit);
  if (!p.rails.empty()) out += "  rails:\n";
  for (const auto& r : p.rails)
    out += fmt::format(
        "    {}: {{voltage_v: {:.17g}, idd0_ma: {:.17g}, idd2n_ma: {:.17g}, idd3n_ma: {:.17g}, "
        "idd4r_ma: {:.17g}, idd4w_ma: {:.17g}, idd5b_ma: {:.17g}}}\n",
        yaml_quote(r.name), r.voltage_v, r.idd0_ma, r.idd2n_ma, r.idd3n_ma, r.idd4r_ma, r.idd4w_ma,
        r.idd5b_ma);
  return out;
}

}  // namespace capsim::dram
