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

const std::string kBitField = "the address mapping splits addresses into bit fields";

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

void check_organization(const YamlView& view, const DramOrganization& org) {
  if (org.columns < org.burst_length)
    view.fail("columns", fmt::format("at least burst_length ({}): a burst reads burst_length columns",
                                     org.burst_length));
  check_beats_per_clock(view, org);
}

ParamSet<DramOrganization> make_organization_params() {
  using O = DramOrganization;
  constexpr bool kRequired = true;
  ParamSet<O> params;
  params
      .power_of_two("channels", &O::channels, 1, 1024,
                    {"", "independent channels (own command and data bus)", ""}, kBitField, kRequired)
      .power_of_two("ranks", &O::ranks, 1, 16, {"", "ranks per channel, sharing the data bus", ""}, kBitField,
                    kRequired)
      .power_of_two("bank_groups", &O::bank_groups, 1, 64,
                    {"", "bank groups per rank (1 when the standard has none)", ""}, kBitField, kRequired)
      .power_of_two("banks_per_group", &O::banks_per_group, 1, 64, {"", "banks in each bank group", ""},
                    kBitField, kRequired)
      .power_of_two("rows", &O::rows, 1, 1 << 24, {"", "rows per bank", ""}, kBitField, kRequired)
      .power_of_two("columns", &O::columns, 1, 1 << 16,
                    {"",
                     "column addresses per row, each `bus_width_bits` wide, at least `burst_length`; "
                     "row size = `columns x bus_width_bits / 8` bytes",
                     ""},
                    kBitField, kRequired)
      .power_of_two("bus_width_bits", &O::bus_width_bits, 8, 1024,
                    {"bits", "data bus width of one channel (whole bytes per beat)", ""}, kBitField,
                    kRequired)
      .power_of_two(
          "burst_length", &O::burst_length, 1, 64,
          {"beats", "beats per column command; a burst moves `bus_width_bits / 8 x burst_length` bytes", ""},
          kBitField, kRequired)
      .integer("data_rate_mtps", &O::data_rate_mtps, 1, 100'000,
               {"MT/s", "data beats per microsecond per pin", ""}, kRequired)
      .integer("tck_ps", &O::tck_ps, 1, 100'000,
               {"ps",
                "command clock period; `data_rate_mtps x tck_ps / 10^6` must be a whole number of beats "
                "per clock (within 1 %)",
                ""},
               kRequired)
      .check(check_organization);
  return params;
}

// ---- timing ---------------------------------------------------------------------------------

void require_at_most(const YamlView& view, std::string_view key, std::uint32_t value,
                     std::string_view bound_key, std::uint32_t bound, std::string_view why) {
  if (value > bound)
    view.fail(key, fmt::format("at most {} ({} cycles): {}", view.key_path(bound_key), bound, why));
}

void check_timing(const YamlView& view, DramTimingCycles& t) {
  if (!view.has("rpab")) t.rpab = t.rp;
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

ParamSet<DramTimingCycles> make_timing_params() {
  using T = DramTimingCycles;
  // Every constraint in command-clock cycles; min 1 where a zero would let two commands share a
  // cycle that the standard forbids, 0 where a standard may have no such constraint.
  const auto cycles = [&](ParamSet<T>& p, const char* key, std::uint32_t T::*field, std::int64_t min,
                          const char* meaning, bool required = true) -> ParamSet<T>& {
    return p.integer(key, field, min, kMaxCycles, {"cycles", meaning, required ? "" : "modelling choice"},
                     required);
  };
  ParamSet<T> p;
  cycles(p, "cl", &T::cl, 1, "RD command to first read data beat (RL)");
  cycles(p, "cwl", &T::cwl, 1, "WR command to first write data beat (WL)");
  cycles(p, "rcd", &T::rcd, 1, "ACT to RD/WR, same bank; at most `ras`");
  cycles(p, "rp", &T::rp, 1, "PRE to ACT, same bank (per-bank precharge)");
  cycles(p, "rpab", &T::rpab, 1, "precharge-all to REF (LPDDR tRPab); at least `rp`", false)
      .default_text("`rp`");
  cycles(p, "ras", &T::ras, 1, "ACT to PRE, same bank; at most `rc`");
  cycles(p, "rc", &T::rc, 1, "ACT to ACT, same bank");
  cycles(p, "ccd_s", &T::ccd_s, 1, "column command to column command, other bank group");
  cycles(p, "ccd_l", &T::ccd_l, 1, "column command to column command, same bank group; at least `ccd_s`");
  cycles(p, "rrd_s", &T::rrd_s, 0, "ACT to ACT in a rank, other bank group");
  cycles(p, "rrd_l", &T::rrd_l, 0, "ACT to ACT in a rank, same bank group; at least `rrd_s`");
  cycles(p, "faw", &T::faw, 0, "at most four ACTs per rank in any `faw` window");
  cycles(p, "wr", &T::wr, 0, "end of write data to PRE, same bank (write recovery)");
  cycles(p, "wtr_s", &T::wtr_s, 0, "end of write data to RD in a rank, other bank group");
  cycles(p, "wtr_l", &T::wtr_l, 0, "end of write data to RD in a rank, same bank group; at least `wtr_s`");
  cycles(p, "rtp", &T::rtp, 0, "RD to PRE, same bank");
  cycles(p, "rtw", &T::rtw, 0,
         "RD command to WR command anywhere in the channel (bus turnaround; datasheet formula RL + BL/2 - WL "
         "+ preambles)");
  cycles(p, "rtrs", &T::rtrs, 0, "idle data-bus cycles between bursts of different ranks", false);
  cycles(p, "rfc", &T::rfc, 1, "all-bank refresh duration; less than `refi`");
  cycles(p, "refi", &T::refi, 1, "average interval between all-bank refreshes");
  p.check(check_timing);
  return p;
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

// The write watermarks default to fractions of the write queue, so they are filled in (and their
// ranges checked) once the queue depth is known.
void check_watermarks(const YamlView& view, DramController& c) {
  const std::uint32_t depth = c.write_queue_depth;
  if (!view.has("write_high_watermark")) c.write_high_watermark = std::max<std::uint32_t>(1, depth * 3 / 4);
  if (c.write_high_watermark > depth)
    view.fail("write_high_watermark",
              fmt::format("an integer in [1, {}] (at most write_queue_depth)", depth));
  const std::uint32_t high = c.write_high_watermark;
  if (!view.has("write_low_watermark")) c.write_low_watermark = std::min(depth / 4, high - 1);
  if (c.write_low_watermark >= high)
    view.fail("write_low_watermark",
              fmt::format("an integer in [0, {}] (below write_high_watermark)", high - 1));
}

void check_controller(const YamlView& view, DramController& c) {
  c.mapping_msb_first = parse_address_mapping(c.address_mapping);
  if (c.mapping_msb_first.empty()) view.fail("address_mapping", kMappingHelp);
  if (c.page_policy == PagePolicy::kAdaptive && c.scheduler == Scheduler::kInOrder)
    view.fail("page_policy",
              "'open' or 'closed' with scheduler 'in_order' ('adaptive' needs scheduler 'frfcfs', "
              "which sees the queued bursts it adapts to)");
  check_watermarks(view, c);
  if (c.arbitration == Arbitration::kBankRoundRobin && c.bank_queue_depth == 0)
    view.fail("arbitration",
              "'oldest_first' while bank_queue_depth is 0 (round robin runs over the per-bank "
              "command queues)");
}

// The frfcfs keys are validated whatever the scheduler, so a typo never hides until a switch.
ParamSet<DramController> make_controller_params() {
  using C = DramController;
  ParamSet<C> p;
  p.text(
       "address_mapping", &C::address_mapping,
       {"",
        "Ramulator-style string of two-letter fields, most significant first: `Ch` channel, `Ra` rank, `Bg` "
        "bank group, `Ba` bank, `Ro` row, `Co` column. Each field at most once; `Ro`, `Ba`, `Co` required; "
        "`Ch`/`Ra` may be left out only when there is one channel/rank. Without `Bg`, `Ba` covers bank group "
        "and bank (bank group in its upper bits). Below all fields sit the `log2(bytes per burst)` offset "
        "bits; `Co` has `log2(columns / burst_length)` bits (as in DRAMsim3). Examples: `RoBaRaCoCh`, "
        "`RoCoBaRaCh`, `ChRaBaRoCo`, `RoBaRaCoBgCh`",
        ""},
       true)
      .choice(
          "page_policy", &C::page_policy,
          {{"open", PagePolicy::kOpen}, {"closed", PagePolicy::kClosed}, {"adaptive", PagePolicy::kAdaptive}},
          {"", "when a row closes (`adaptive`: `frfcfs` only), see Page policies above",
           "open page: the common default of DRAMsim3 and Ramulator"})
      .boolean("refresh", &C::refresh, {"", "all-bank refresh on/off", "on: a real device refreshes"})
      .integer(
          "queue_depth", &C::queue_depth, 1, 1024,
          {"bursts",
           "`in_order` only: bursts of look-ahead for PRE/ACT (and the request queue of `capsim dram` in "
           "order)",
           "modelling choice: a small controller's command look-ahead"})
      .choice("scheduler", &C::scheduler, {{"in_order", Scheduler::kInOrder}, {"frfcfs", Scheduler::kFrFcfs}},
              {"",
               "`in_order` (`DramTiming`) or `frfcfs` (`FrFcfsController`); an architecture accepts only "
               "`in_order`",
               "the fast model the accelerator uses"})
      .integer("read_queue_depth", &C::read_queue_depth, 1, 1024,
               {"bursts", "`frfcfs` read queue per channel", "DRAMsim3's default trans_queue_size is 32"})
      .integer("write_queue_depth", &C::write_queue_depth, 1, 1024,
               {"bursts", "`frfcfs` write queue per channel", "as read_queue_depth"})
      .integer("write_high_watermark", &C::write_high_watermark, 1, 1024,
               {"bursts", "queued writes that start a write drain; at most `write_queue_depth`",
                "modelling choice, as Ramulator's write-mode watermarks"})
      .default_text("3/4 of `write_queue_depth`")
      .integer("write_low_watermark", &C::write_low_watermark, 0, 1023,
               {"bursts", "queued writes at which the drain stops; below `write_high_watermark`",
                "modelling choice, as Ramulator's write-mode watermarks"})
      .default_text("1/4 of `write_queue_depth`")
      .integer("starvation_cap", &C::starvation_cap, 0, 1'000'000,
               {"bursts",
                "younger row hits that may pass the oldest queued burst before only the oldest is served (0: "
                "first come, first served)",
                "modelling choice (FR-FCFS with a cap, Mutlu and Moscibroda's fairness argument)"})
      .integer(
          "bank_queue_depth", &C::bank_queue_depth, 0, 1024,
          {"bursts",
           "0 = every queued burst is schedulable; N > 0 = bursts move (oldest first, one per cycle) from "
           "the read/write queues into per-bank command queues of N bursts (reads and writes share them), "
           "and only those are scheduled (DRAMsim3's structure); the read/write queue depths then count "
           "the bursts still waiting",
           "0: one shared queue"})
      .choice(
          "arbitration", &C::arbitration,
          {{"oldest_first", Arbitration::kOldestFirst}, {"bank_round_robin", Arbitration::kBankRoundRobin}},
          {"",
           "`oldest_first` (row hits first, then the oldest burst, across banks) or `bank_round_robin` "
           "(needs `bank_queue_depth` > 0: banks in turn after the one served last, each offering a ready "
           "row hit of its queue, else ACT/PRE for its oldest burst; DRAMsim3's `GetCommandToIssue`, "
           "without its limit of 4 row hits before a precharge)",
           "FR-FCFS (Rixner et al., ISCA 2000)"})
      .integer(
          "pipeline_cycles", &C::pipeline_cycles, 0, 64,
          {"cycles",
           "cycles a burst spends in each queue stage before it can move on: accepted in cycle c, it may "
           "issue a command (with bank queues: enter its command queue) from c + N, and a burst entering a "
           "command queue in cycle t may issue from t + N. DRAMsim3's tick order amounts to 1",
           "0: the same cycle"})
      .check(check_controller);
  return p;
}

// ---- power ----------------------------------------------------------------------------------

ParamSet<DramRail> make_rail_params() {
  using R = DramRail;
  constexpr bool kRequired = true;
  ParamSet<R> p;
  const auto current = [&](const char* key, double R::*field, const char* meaning) {
    p.number(key, field, 0.0, 1e5, {"mA", meaning, ""}, kRequired);
  };
  p.number("voltage_v", &R::voltage_v, 0.0, 5.0, {"V", "supply voltage of the rail", ""}, kRequired);
  current("idd0_ma", &R::idd0_ma, "one bank cycling ACT-PRE at tRC, per device");
  current("idd2n_ma", &R::idd2n_ma, "precharge standby (all banks closed), per device");
  current("idd3n_ma", &R::idd3n_ma, "active standby (a bank open), per device");
  current("idd4r_ma", &R::idd4r_ma, "burst read, per device");
  current("idd4w_ma", &R::idd4w_ma, "burst write, per device");
  current("idd5b_ma", &R::idd5b_ma,
          "all-bank refresh current during tRFC (LPDDR4's IDD5, DDR4's IDD5B; not the averaged IDD5AB)");
  p.check([](const YamlView& view, const DramRail& rail) {
    if (rail.voltage_v <= 0.0) view.fail("voltage_v", "a voltage in (0, 5] volts");
  });
  return p;
}

const ParamSet<DramRail>& rail_params() {
  static const ParamSet<DramRail> params = make_rail_params();
  return params;
}

const std::string kRailPlaceholder = "<rail>";

std::vector<ParamRow> rail_rows() {
  std::vector<ParamRow> rows = rail_params().rows();
  for (auto& row : rows) row.key = "rails." + kRailPlaceholder + "." + row.key;
  return rows;
}

void read_rails(const YamlView& power, DramPower& spec) {
  const auto rails = power.find("rails");
  if (!rails) return;
  rails->require_map("a mapping from rail name (vdd, vdd2, vddq, ...) to its voltage and IDD currents");
  spec.rails.clear();
  for (const auto& name : rails->keys()) {
    DramRail rail = rail_params().parse(rails->child(name));
    rail.name = name;
    spec.rails.push_back(std::move(rail));
  }
  if (spec.rails.empty()) rails->fail_here("at least one rail");
}

std::vector<ParamValue> show_rails(const DramPower& spec) {
  std::vector<ParamValue> values;
  for (const auto& rail : spec.rails)
    for (auto value : rail_params().values(rail)) {
      value.key = "rails." + rail.name + "." + value.key;
      values.push_back(std::move(value));
    }
  return values;
}

// Both kinds of numbers may be present (a preset's rails under an override `model: flat`);
// whatever is present is validated, what the model needs is required.
void check_power(const YamlView& view, const DramPower& power) {
  if (power.model == PowerModel::kIdd && power.rails.empty())
    view.fail("rails", "the supply rails with their IDD currents (model 'idd')");
  if (power.model == PowerModel::kFlat && !view.has("pj_per_bit"))
    view.fail("pj_per_bit", "a non-negative number (model 'flat')");
}

ParamSet<DramPower> make_power_params() {
  using P = DramPower;
  ParamSet<P> p;
  p.choice("model", &P::model, {{"idd", PowerModel::kIdd}, {"flat", PowerModel::kFlat}},
           {"", "`idd`: currents per rail (DRAMPower-style); `flat`: pJ per transferred bit", ""}, true)
      .integer(
          "devices_per_rank", &P::devices_per_rank, 1, 64,
          {"devices", "devices whose currents add up in a rank (four x16 devices on a 64-bit channel: 4)",
           "1: one device per rank (x16 LPDDR channels)"})
      .custom("rails", rail_rows(), read_rails, show_rails)
      .number("pj_per_bit", &P::pj_per_bit, 0.0, 1e6,
              {"pJ/bit",
               "`flat` only (required there): energy per transferred burst bit, reads and writes alike", ""})
      .check(check_power);
  return p;
}

void check_address_bits(const YamlView& view, const DramSpec& spec) {
  const int bits = log2_exact(spec.capacity_bytes());
  if (bits > kMaxAddressBits)
    view.fail_here(
        fmt::format("an organization of at most 2^{} bytes (this one has 2^{})", kMaxAddressBits, bits));
}

void check_spec(const YamlView& view, const DramSpec& spec) {
  check_mapping(view.child("controller"), spec.controller.mapping_msb_first, spec.org);
  check_address_bits(view, spec);
}

// `preset` is resolved by load_dram_spec (or the architecture); here it only names the spec.
void read_preset(const YamlView& view, DramSpec& spec) {
  if (view.has("preset")) spec.name = view.string("preset");
}

ParamSet<DramSpec> make_dram_params() {
  ParamSet<DramSpec> p;
  p.custom("preset",
           {{"preset",
             ParamKind::Text,
             "none",
             "",
             {"",
              "the preset these keys override (`configs/dram/<name>.yaml`); resolved by the architecture "
              "or `capsim dram`, and the default of `name`",
              ""}}},
           read_preset, [](const DramSpec&) { return std::vector<ParamValue>{}; })
      .text("name", &DramSpec::name, {"", "name shown in outputs; defaults to the preset's name", ""})
      .text("standard", &DramSpec::standard, {"", "informational: `LPDDR4`, `DDR4`, ...", ""})
      .text("description", &DramSpec::description, {"", "informational", ""})
      .section("organization", &DramSpec::org, make_organization_params(), true)
      .section("timing", &DramSpec::timing, make_timing_params(), true)
      .section("controller", &DramSpec::controller, make_controller_params(), true)
      .section("power", &DramSpec::power, make_power_params(), true)
      .check(check_spec);
  return p;
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

const ParamSet<DramSpec>& dram_params() {
  static const ParamSet<DramSpec> params = make_dram_params();
  return params;
}

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

DramSpec parse_dram_spec(const YamlView& view) { return dram_params().parse(view); }

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
  return params_yaml(dram_params().values(spec), dram_params().rows());
}

}  // namespace capsim::dram
