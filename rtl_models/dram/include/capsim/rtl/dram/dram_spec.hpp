#pragma once
// DRAM interface description: organisation, command timing (in command-clock cycles), address
// mapping, controller policy and power (IDD currents per supply rail, or a flat pJ/bit). Parsed
// and validated from YAML (configs/dram/<preset>.yaml, optionally layered under an architecture
// file's `dram:` section); see docs/dram.md for every key.
#include <cstdint>
#include <string>
#include <vector>

#include "capsim/common/params.hpp"

namespace capsim::dram {

struct DramOrganization {
  std::uint32_t channels = 1;     // independent channels, each with its own command and data bus
  std::uint32_t ranks = 1;        // ranks per channel (share the channel's data bus)
  std::uint32_t bank_groups = 1;  // per rank; 1 for standards without bank groups (LPDDR4)
  std::uint32_t banks_per_group = 8;
  std::uint32_t rows = 65536;           // rows per bank
  std::uint32_t columns = 1024;         // column addresses per row, each bus_width_bits wide
  std::uint32_t bus_width_bits = 16;    // data bus width of one channel
  std::uint32_t burst_length = 16;      // data beats per column command
  std::uint32_t data_rate_mtps = 3200;  // data beats per microsecond on each pin
  std::uint32_t tck_ps = 625;           // command clock period; all timing cycles count this clock
};

// Command timing constraints in command-clock cycles (JEDEC names, lower case).
struct DramTimingCycles {
  std::uint32_t cl = 0;     // read latency: RD command to first data beat
  std::uint32_t cwl = 0;    // write latency: WR command to first data beat
  std::uint32_t rcd = 0;    // ACT to RD/WR, same bank
  std::uint32_t rp = 0;     // PRE to ACT, same bank
  std::uint32_t rpab = 0;   // precharge-all to REF (LPDDR tRPab); equals rp when not given
  std::uint32_t ras = 0;    // ACT to PRE, same bank
  std::uint32_t rc = 0;     // ACT to ACT, same bank
  std::uint32_t ccd_s = 0;  // RD/WR to RD/WR, different bank group
  std::uint32_t ccd_l = 0;  // RD/WR to RD/WR, same bank group
  std::uint32_t rrd_s = 0;  // ACT to ACT, different bank group
  std::uint32_t rrd_l = 0;  // ACT to ACT, same bank group
  std::uint32_t faw = 0;    // window holding at most four ACTs per rank
  std::uint32_t wr = 0;     // end of write data to PRE (write recovery)
  std::uint32_t wtr_s = 0;  // end of write data to RD, different bank group
  std::uint32_t wtr_l = 0;  // end of write data to RD, same bank group
  std::uint32_t rtp = 0;    // RD to PRE
  std::uint32_t rtw = 0;    // RD command to WR command (bus turnaround), any bank of the channel
  std::uint32_t rtrs = 0;   // idle data-bus cycles when consecutive bursts come from different ranks
  std::uint32_t rfc = 0;    // all-bank refresh duration
  std::uint32_t refi = 0;   // average interval between all-bank refreshes
};

// Fields of a Ramulator-style address mapping string such as "RoBaRaCoCh".
enum class MapField : std::uint8_t { kChannel, kRank, kBankGroup, kBank, kRow, kColumn };
inline constexpr std::size_t kMapFieldCount = 6;

enum class PagePolicy : std::uint8_t {
  kOpen,      // rows stay open until a conflict or a refresh closes them
  kClosed,    // a row closes (auto-precharge) unless a later burst of the same request hits it
              // (frfcfs: unless a queued burst hits it)
  kAdaptive,  // frfcfs only: a row closes after a burst when no queued burst hits it and a queued
              // burst needs another row of the same bank
};

// How the controller orders bursts. kInOrder is the fast model the accelerator uses (DramTiming);
// kFrFcfs is the queue-based scheduler of FrFcfsController (`capsim dram`).
enum class Scheduler : std::uint8_t { kInOrder, kFrFcfs };

// frfcfs with per-bank command queues: which bank's queue gets the command bus first.
enum class Arbitration : std::uint8_t {
  kOldestFirst,     // row hits first, then the oldest burst, across all banks
  kBankRoundRobin,  // banks in turn, the first ready command of each queue (DRAMsim3)
};

struct DramController {
  std::string address_mapping = "RoBaRaCoCh";  // MSB -> LSB, as written by the user
  std::vector<MapField> mapping_msb_first;     // parsed fields; Bg may be absent (then inside Ba)
  PagePolicy page_policy = PagePolicy::kOpen;
  bool refresh = true;
  std::uint32_t queue_depth = 16;  // in_order: bursts the controller sees ahead (ACT/PRE look-ahead)
  Scheduler scheduler = Scheduler::kInOrder;
  // frfcfs only (validated always): queues per channel in bursts, write drain watermarks and the
  // number of younger row hits that may pass the oldest queued burst.
  std::uint32_t read_queue_depth = 32;
  std::uint32_t write_queue_depth = 32;
  std::uint32_t write_high_watermark = 24;  // start draining writes at this many queued writes
  std::uint32_t write_low_watermark = 8;    // stop draining at this many
  std::uint32_t starvation_cap = 16;
  std::uint32_t bank_queue_depth = 0;  // > 0: bursts move from the queues into per-bank command
                                       // queues of this depth, and only those are scheduled (DRAMsim3)
  Arbitration arbitration = Arbitration::kOldestFirst;
  // Cycles a burst spends in a queue stage before it can move on: a burst accepted in cycle c may
  // issue a command (or, with bank queues, enter its command queue) from cycle c + N, and a burst
  // entering a command queue in cycle t may issue from t + N. 0: the same cycle. DRAMsim3: 1 (its
  // controller moves a transaction into a command queue at the end of a tick, after issuing).
  std::uint32_t pipeline_cycles = 0;
};

// One supply rail of a DRAM device: voltage and the IDD currents of the datasheet (per device).
struct DramRail {
  std::string name;  // "vdd", "vdd1", "vdd2", "vddq", ...
  double voltage_v = 0.0;
  double idd0_ma = 0.0;   // one bank ACT-PRE cycling at tRC
  double idd2n_ma = 0.0;  // precharge standby (all banks closed)
  double idd3n_ma = 0.0;  // active standby (at least one bank open)
  double idd4r_ma = 0.0;  // burst read
  double idd4w_ma = 0.0;  // burst write
  double idd5b_ma = 0.0;  // all-bank refresh burst current (during tRFC)
};

enum class PowerModel : std::uint8_t { kIdd, kFlat };

struct DramPower {
  PowerModel model = PowerModel::kIdd;
  std::uint32_t devices_per_rank = 1;  // devices whose currents add up in one rank (x16 devices on x64 = 4)
  std::vector<DramRail> rails;         // used by kIdd
  double pj_per_bit = 0.0;             // used by kFlat: energy per transferred burst bit, nothing else
};

struct DramSpec {
  std::string name;         // preset name or what the user called it
  std::string standard;     // informational: "LPDDR4", "DDR4", ...
  std::string description;  // informational
  DramOrganization org;
  DramTimingCycles timing;
  DramController controller;
  DramPower power;

  std::uint64_t bytes_per_burst() const { return std::uint64_t{org.bus_width_bits} / 8 * org.burst_length; }
  // Time the data of one burst occupies the bus.
  std::uint64_t burst_ps() const {
    return (std::uint64_t{org.burst_length} * 1'000'000 + org.data_rate_mtps / 2) / org.data_rate_mtps;
  }
  std::uint64_t row_bytes() const { return std::uint64_t{org.columns} * org.bus_width_bits / 8; }
  std::uint64_t capacity_bytes() const {
    return row_bytes() * org.rows * org.banks_per_group * org.bank_groups * org.ranks * org.channels;
  }
  double peak_bandwidth_bytes_per_s() const {
    return double(org.channels) * org.bus_width_bits / 8.0 * org.data_rate_mtps * 1e6;
  }
  std::uint64_t cycles_to_ps(std::uint64_t cycles) const { return cycles * org.tck_ps; }
};

// Every key of a DRAM spec, declared once (key, unit, range, meaning, source): parsing, run records
// (dram_spec_to_yaml) and the key table of docs/dram.md (`capsim params --dram --markdown`).
const ParamSet<DramSpec>& dram_params();

// Reads and validates a DRAM spec. `view` is the spec's root: a preset file, or an architecture
// file's `dram:` section layered over its preset (view.with_base(preset_root)). A top-level
// `preset` key is accepted and ignored (the caller resolves it). Throws InputError naming file,
// line and key for every bad value, unknown key or inconsistent combination.
DramSpec parse_dram_spec(const YamlView& view);

// Resolves `preset: <name>` against `<preset_dir>/<name>.yaml` (local keys override the preset)
// and parses the result. Without a `preset` key the view is parsed as it is.
DramSpec load_dram_spec(const YamlView& view, const std::string& preset_dir);

// Parses "RoBaRaCoCh"-style strings; returns an empty vector when the string is malformed.
std::vector<MapField> parse_address_mapping(const std::string& text);
const char* map_field_letters(MapField field);
const char* to_string(PagePolicy policy);
const char* to_string(Scheduler scheduler);
const char* to_string(Arbitration arbitration);

// The spec as YAML that parse_dram_spec reads back to an equal spec (for run records).
std::string dram_spec_to_yaml(const DramSpec& spec);

}  // namespace capsim::dram
