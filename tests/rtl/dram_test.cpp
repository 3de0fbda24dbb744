// DRAM interface model: spec validation, presets, address mapping, timing against closed forms,
// refresh, streaming bandwidth and energy.
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "capsim/common/error.hpp"
#include "capsim/common/yaml_view.hpp"
#include "capsim/rtl/dram/dram_energy.hpp"
#include "capsim/rtl/dram/dram_spec.hpp"
#include "capsim/rtl/dram/dram_timing.hpp"
#include "input_error.hpp"

namespace capsim::dram {
namespace {

const std::string kPresetDir = std::string(CAPSIM_SOURCE_DIR) + "/configs/dram";
const std::vector<std::string> kPresets = {"lpddr4-3200", "lpddr5-6400", "ddr4-3200", "hbm2"};

using testing::error_of;

DramSpec load_preset(const std::string& name) {
  return parse_dram_spec(YamlDocument::load_file(kPresetDir + "/" + name + ".yaml").root());
}

DramSpec parse_text(const std::string& text) {
  return parse_dram_spec(YamlDocument::parse(text, "spec.yaml").root());
}

// A small valid spec; line numbers matter for the error-message tests below.
const char* kBaseSpec = R"(name: test
organization:
  channels: 1
  ranks: 1
  bank_groups: 1
  banks_per_group: 8
  rows: 1024
  columns: 1024
  bus_width_bits: 16
  burst_length: 16
  data_rate_mtps: 3200
  tck_ps: 625
timing:
  cl: 28
  cwl: 14
  rcd: 29
  rp: 29
  ras: 68
  rc: 97
  ccd_s: 8
  ccd_l: 8
  rrd_s: 16
  rrd_l: 16
  faw: 64
  wr: 29
  wtr_s: 16
  wtr_l: 16
  rtp: 12
  rtw: 30
  rfc: 448
  refi: 6246
controller:
  address_mapping: RoBaRaCoCh
  page_policy: open
  refresh: false
power:
  model: idd
  rails:
    vdd: {voltage_v: 1.2, idd0_ma: 60, idd2n_ma: 30, idd3n_ma: 40, idd4r_ma: 200, idd4w_ma: 180,
          idd5b_ma: 250}
)";

std::string with_line(std::string text, const std::string& from, const std::string& to) {
  const auto pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << "base spec lacks: " << from;
  if (pos != std::string::npos) text.replace(pos, from.size(), to);
  return text;
}

std::uint64_t cycles_ps(const DramSpec& spec, std::uint32_t cycles) { return spec.cycles_to_ps(cycles); }

// ---- (g) presets and spec parsing --------------------------------------------------------------

TEST(DramSpec, EveryPresetParses) {
  for (const auto& name : kPresets) {
    SCOPED_TRACE(name);
    const DramSpec spec = load_preset(name);
    EXPECT_EQ(spec.name, name);
    EXPECT_GT(spec.capacity_bytes(), 0u);
    EXPECT_TRUE(spec.controller.refresh);
    const DramEnergyTable table = dram_energy_table(spec);
    EXPECT_GT(table.read_burst_pj, 0.0);
    EXPECT_GT(table.write_burst_pj, 0.0);
  }
}

TEST(DramSpec, EdgePresetIsTwoX16ChannelsAt12_8GBps) {
  const DramSpec spec = load_preset("lpddr4-3200");
  EXPECT_EQ(spec.org.channels, 2u);
  EXPECT_EQ(spec.org.bus_width_bits, 16u);
  EXPECT_DOUBLE_EQ(spec.peak_bandwidth_bytes_per_s(), 12.8e9);
  EXPECT_EQ(spec.bytes_per_burst(), 32u);
  EXPECT_EQ(spec.burst_ps(), 5000u);
  EXPECT_EQ(spec.power.rails.size(), 3u);  // VDD1, VDD2, VDDQ
}

TEST(DramSpec, YamlOutputParsesBackToTheSameSpec) {
  for (const auto& name : kPresets) {
    SCOPED_TRACE(name);
    const DramSpec spec = load_preset(name);
    const std::string yaml = dram_spec_to_yaml(spec);
    const DramSpec again = parse_dram_spec(YamlDocument::parse(yaml, "echo.yaml").root());
    EXPECT_EQ(dram_spec_to_yaml(again), yaml);
    EXPECT_EQ(dram_energy_table(again), dram_energy_table(spec));
  }
}

TEST(DramSpec, ArchitectureSectionOverridesItsPreset) {
  auto arch = YamlDocument::parse(
      "dram:\n  preset: lpddr4-3200\n  organization: {channels: 4}\n  controller: {page_policy: closed}\n",
      "arch.yaml");
  const DramSpec spec = load_dram_spec(arch.root().child("dram"), kPresetDir);
  EXPECT_EQ(spec.name, "lpddr4-3200");
  EXPECT_EQ(spec.org.channels, 4u);
  EXPECT_EQ(spec.org.banks_per_group, 8u);  // from the preset
  EXPECT_EQ(spec.controller.page_policy, PagePolicy::kClosed);
  EXPECT_EQ(spec.controller.address_mapping, "RoBaRaCoCh");
  EXPECT_DOUBLE_EQ(spec.peak_bandwidth_bytes_per_s(), 25.6e9);
}

TEST(DramSpec, OverrideErrorsPointAtTheArchitectureFile) {
  auto arch = YamlDocument::parse("dram:\n  preset: lpddr4-3200\n  timing:\n    cl: 0\n", "arch.yaml");
  EXPECT_EQ(error_of([&] { load_dram_spec(arch.root().child("dram"), kPresetDir); }),
            "arch.yaml:4: key 'dram.timing.cl': expected an integer in [1, 16777216], got '0'");
}

TEST(DramSpec, UnknownPresetListsTheKnownOnes) {
  auto arch = YamlDocument::parse("dram: {preset: lpddr9}\n", "arch.yaml");
  const auto msg = error_of([&] { load_dram_spec(arch.root().child("dram"), kPresetDir); });
  EXPECT_NE(msg.find("arch.yaml:1: key 'dram.preset'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'lpddr4-3200'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("got 'lpddr9'"), std::string::npos) << msg;
}

// ---- (f) bad specs ------------------------------------------------------------------------------

TEST(DramSpecErrors, ZeroChannels) {
  EXPECT_EQ(error_of([] { parse_text(with_line(kBaseSpec, "channels: 1", "channels: 0")); }),
            "spec.yaml:3: key 'organization.channels': expected an integer in [1, 1024], got '0'");
}

TEST(DramSpecErrors, CountThatIsNoPowerOfTwo) {
  EXPECT_EQ(error_of([] { parse_text(with_line(kBaseSpec, "banks_per_group: 8", "banks_per_group: 6")); }),
            "spec.yaml:6: key 'organization.banks_per_group': expected a power of two (the address mapping "
            "splits addresses into bit fields), got '6'");
}

TEST(DramSpecErrors, UnknownKeySuggestsTheClosestOne) {
  // The wording around the hint belongs to YamlView; here: location, key and the hint.
  const auto msg = error_of([] { parse_text(with_line(kBaseSpec, "  rcd: 29", "  rcdd: 29")); });
  EXPECT_EQ(msg.rfind("spec.yaml:16: key 'timing.rcdd'", 0), 0u) << msg;
  EXPECT_NE(msg.find("did you mean 'rcd'?"), std::string::npos) << msg;
}

TEST(DramSpecErrors, UnknownMappingLetter) {
  const auto msg = error_of(
      [] { parse_text(with_line(kBaseSpec, "address_mapping: RoBaRaCoCh", "address_mapping: RoBaXxCoCh")); });
  EXPECT_EQ(
      msg.rfind("spec.yaml:33: key 'controller.address_mapping': expected a mapping string of two-letter "
                "fields",
                0),
      0u)
      << msg;
  EXPECT_NE(msg.find("got 'RoBaXxCoCh'"), std::string::npos) << msg;
}

TEST(DramSpecErrors, MappingFieldUsedTwiceOrMissing) {
  EXPECT_NE(error_of([] {
              parse_text(with_line(kBaseSpec, "address_mapping: RoBaRaCoCh", "address_mapping: RoBaCoCo"));
            }).find("key 'controller.address_mapping'"),
            std::string::npos);
  const auto msg = error_of([] {
    parse_text(with_line(with_line(kBaseSpec, "channels: 1", "channels: 2"), "address_mapping: RoBaRaCoCh",
                         "address_mapping: RoBaCo"));
  });
  EXPECT_NE(msg.find("(it lacks 'Ch' but organization has 2 of them)"), std::string::npos) << msg;
}

TEST(DramSpecErrors, RasLongerThanRc) {
  EXPECT_EQ(error_of([] { parse_text(with_line(kBaseSpec, "ras: 68", "ras: 100")); }),
            "spec.yaml:18: key 'timing.ras': expected at most timing.rc (97 cycles): a row must close before "
            "the bank's next ACT (tRAS <= tRC), got '100'");
}

TEST(DramSpecErrors, NegativeValue) {
  EXPECT_EQ(error_of([] { parse_text(with_line(kBaseSpec, "wr: 29", "wr: -5")); }),
            "spec.yaml:25: key 'timing.wr': expected an integer in [0, 16777216], got '-5'");
  EXPECT_EQ(
      error_of([] {
        parse_text(with_line(kBaseSpec, "idd3n_ma: 40", "idd3n_ma: -1"));
      }).rfind("spec.yaml:39: key 'power.rails.vdd.idd3n_ma': expected a number in [0, 100000], got '-1'", 0),
      0u);
}

TEST(DramSpecErrors, InconsistentClockAndDataRate) {
  const auto msg = error_of([] { parse_text(with_line(kBaseSpec, "tck_ps: 625", "tck_ps: 700")); });
  EXPECT_EQ(
      msg.rfind("spec.yaml:12: key 'organization.tck_ps': expected a clock period giving a whole number", 0),
      0u)
      << msg;
}

TEST(DramSpecErrors, PowerModelNeedsItsNumbers) {
  const auto msg = error_of([] { parse_text(with_line(kBaseSpec, "model: idd", "model: flat")); });
  EXPECT_NE(msg.find("key 'power.pj_per_bit': expected a non-negative number (model 'flat')"),
            std::string::npos)
      << msg;
}

TEST(DramSpecErrors, CrossFieldChecks) {
  EXPECT_NE(error_of([] {
              parse_text(with_line(kBaseSpec, "ccd_l: 8", "ccd_l: 4"));
            }).find("key 'timing.ccd_l': expected at least timing.ccd_s (8 cycles)"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              parse_text(with_line(kBaseSpec, "rfc: 448", "rfc: 7000"));
            }).find("key 'timing.rfc': expected less than timing.refi"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              parse_text(with_line(kBaseSpec, "columns: 1024", "columns: 8"));
            }).find("key 'organization.columns': expected at least burst_length (16)"),
            std::string::npos);
}

// ---- (c) address mapping ------------------------------------------------------------------------

void expect_address(const DramAddress& a, std::uint32_t channel, std::uint32_t rank, std::uint32_t group,
                    std::uint32_t bank, std::uint32_t row, std::uint32_t column) {
  EXPECT_EQ(a.channel, channel);
  EXPECT_EQ(a.rank, rank);
  EXPECT_EQ(a.bank_group, group);
  EXPECT_EQ(a.bank, bank);
  EXPECT_EQ(a.row, row);
  EXPECT_EQ(a.column, column);
}

TEST(DramMapping, Lpddr4RoBaRaCoCh) {
  // 32-byte bursts: bits 0-4 offset, 5 channel, 6-11 column (64 bursts of 16 columns), 12-14 bank,
  // 15-30 row.
  const DramTiming dram(load_preset("lpddr4-3200"));
  expect_address(dram.decode(0), 0, 0, 0, 0, 0, 0);
  expect_address(dram.decode(31), 0, 0, 0, 0, 0, 0);
  expect_address(dram.decode(32), 1, 0, 0, 0, 0, 0);
  expect_address(dram.decode(64), 0, 0, 0, 0, 0, 16);
  expect_address(dram.decode(0x1000), 0, 0, 0, 1, 0, 0);
  expect_address(dram.decode(0x8000), 0, 0, 0, 0, 1, 0);
  const std::uint64_t addr = (5u << 15) | (3u << 12) | (7u << 6) | (1u << 5) | 3u;
  expect_address(dram.decode(addr), 1, 0, 0, 3, 5, 7 * 16);
  expect_address(dram.decode(addr + dram.spec().capacity_bytes()), 1, 0, 0, 3, 5, 7 * 16);  // wraps
}

TEST(DramMapping, Ddr4BankGroupBelowColumns) {
  // 64-byte bursts: bits 0-5 offset, 6 bank group, 7-13 column (128 bursts of 8), 14-15 bank, 16-31 row.
  const DramTiming dram(load_preset("ddr4-3200"));
  expect_address(dram.decode(64), 0, 0, 1, 0, 0, 0);
  expect_address(dram.decode(128), 0, 0, 0, 0, 0, 8);
  expect_address(dram.decode(1u << 14), 0, 0, 0, 1, 0, 0);
  expect_address(dram.decode(3u << 14 | 1u << 16 | 64), 0, 0, 1, 3, 1, 0);
}

TEST(DramMapping, WithoutBgTheBankGroupIsTheUpperBankBit) {
  auto arch =
      YamlDocument::parse("dram: {preset: ddr4-3200, controller: {address_mapping: RoBaCo}}\n", "a.yaml");
  const DramTiming dram(load_dram_spec(arch.root().child("dram"), kPresetDir));
  // bits 0-5 offset, 6-12 column, 13-15 bank (group = bit 15), 16-31 row
  expect_address(dram.decode(1u << 13), 0, 0, 0, 1, 0, 0);
  expect_address(dram.decode(1u << 15), 0, 0, 1, 0, 0, 0);
  expect_address(dram.decode(7u << 13), 0, 0, 1, 3, 0, 0);
}

TEST(DramMapping, ChannelAndRankFieldsHighUp) {
  auto arch = YamlDocument::parse(
      "dram: {preset: lpddr4-3200, organization: {ranks: 2}, controller: {address_mapping: ChRaBaRoCo}}\n",
      "a.yaml");
  const DramTiming dram(load_dram_spec(arch.root().child("dram"), kPresetDir));
  // bits 0-4 offset, 5-10 column, 11-26 row, 27-29 bank, 30 rank, 31 channel
  expect_address(dram.decode(1u << 5), 0, 0, 0, 0, 0, 16);
  expect_address(dram.decode(1u << 11), 0, 0, 0, 0, 1, 0);
  expect_address(dram.decode(1u << 27), 0, 0, 0, 1, 0, 0);
  expect_address(dram.decode(1u << 30), 0, 1, 0, 0, 0, 0);
  expect_address(dram.decode(1ull << 31), 1, 0, 0, 0, 0, 0);
}

// ---- (b) closed forms ---------------------------------------------------------------------------

DramSpec lpddr4_without_refresh(const std::string& timing_override = "") {
  auto arch =
      YamlDocument::parse("dram: {preset: lpddr4-3200, controller: {refresh: false}" +
                              (timing_override.empty() ? "" : ", timing: {" + timing_override + "}") + "}\n",
                          "a.yaml");
  return load_dram_spec(arch.root().child("dram"), kPresetDir);
}

// One burst per access, always the same bank, a new row each time.
std::uint64_t run_row_miss_stream(DramTiming& dram, bool is_write, int accesses) {
  const std::uint64_t row_stride = dram.spec().capacity_bytes() / dram.spec().org.rows;
  std::uint64_t done = 0;
  for (int i = 0; i < accesses; ++i)
    done = dram.transfer(is_write, i * row_stride, dram.bytes_per_burst(), 0);
  return done;
}

TEST(DramTiming, RowMissReadStreamMatchesClosedForm) {
  for (const std::string& timing :
       {std::string(""), std::string("rtp: 60")}) {  // tRAS-bound, then tRTP-bound
    SCOPED_TRACE(timing);
    const DramSpec spec = lpddr4_without_refresh(timing);
    const auto& t = spec.timing;
    DramTiming dram(spec);
    const int n = 50;
    const std::uint64_t period = cycles_ps(spec, std::max(std::max(t.ras, t.rcd + t.rtp) + t.rp, t.rc));
    const std::uint64_t expected = (n - 1) * period + cycles_ps(spec, t.rcd + t.cl) + spec.burst_ps();
    EXPECT_EQ(run_row_miss_stream(dram, false, n), expected);
    EXPECT_EQ(dram.counts().activates, std::uint64_t(n));
    EXPECT_EQ(dram.counts().row_misses, 1u);
    EXPECT_EQ(dram.counts().row_conflicts, std::uint64_t(n - 1));
    EXPECT_EQ(dram.counts().row_hits, 0u);
    EXPECT_EQ(dram.counts().precharges, std::uint64_t(n - 1));
  }
}

TEST(DramTiming, RowMissWriteStreamMatchesClosedForm) {
  const DramSpec spec = lpddr4_without_refresh();
  const auto& t = spec.timing;
  DramTiming dram(spec);
  const int n = 40;
  // Write recovery counts from the end of the write data: tRCD + CWL + burst + tWR before PRE.
  const std::uint64_t open_ps =
      std::max(cycles_ps(spec, t.ras), cycles_ps(spec, t.rcd + t.cwl + t.wr) + spec.burst_ps());
  const std::uint64_t period = std::max(open_ps + cycles_ps(spec, t.rp), cycles_ps(spec, t.rc));
  const std::uint64_t expected = (n - 1) * period + cycles_ps(spec, t.rcd + t.cwl) + spec.burst_ps();
  EXPECT_EQ(run_row_miss_stream(dram, true, n), expected);
}

TEST(DramTiming, FirstAccessLatencyAndRowHit) {
  const DramSpec spec = lpddr4_without_refresh();
  DramTiming dram(spec);
  const std::uint64_t start = 1'000'000;
  const std::uint64_t miss = dram.transfer(false, 0, 32, start);
  EXPECT_EQ(miss, start + cycles_ps(spec, spec.timing.rcd + spec.timing.cl) + spec.burst_ps());
  const std::uint64_t later = 2'000'000;
  EXPECT_EQ(dram.transfer(false, 64, 32, later), later + cycles_ps(spec, spec.timing.cl) + spec.burst_ps());
  EXPECT_EQ(dram.counts().row_hits, 1u);
}

TEST(DramTiming, PartialBurstsCountWhole) {
  DramTiming dram(lpddr4_without_refresh());
  EXPECT_EQ(dram.transfer(false, 100, 0, 5), 5u);  // nothing to move
  dram.transfer(false, 31, 2, 0);                  // straddles bursts 0 and 1
  dram.transfer(true, 64, 1, 0);
  const DramCounts& c = dram.counts();
  EXPECT_EQ(c.read_bursts, 2u);
  EXPECT_EQ(c.read_bytes, 2u);
  EXPECT_EQ(c.read_burst_bytes, 64u);
  EXPECT_EQ(c.write_bursts, 1u);
  EXPECT_EQ(c.write_bytes, 1u);
  EXPECT_EQ(c.write_burst_bytes, 32u);
}

TEST(DramTiming, LaterCallQueuesBehindTheBusyBus) {
  DramTiming dram(load_preset("lpddr4-3200"));
  const std::uint64_t load_done = dram.transfer(false, 0, 64 * 1024, 0);
  const std::uint64_t store_done = dram.transfer(true, 1 << 20, 4096, 1000);
  // 4 KB at 12.8 GB/s needs 320 ns of bus time after the load's data.
  EXPECT_GE(store_done, load_done + 320'000);
}

TEST(DramTiming, ClosedPageClosesRowsAfterEachRequest) {
  auto arch = YamlDocument::parse(
      "dram: {preset: lpddr4-3200, controller: {page_policy: closed, refresh: false}}\n", "a.yaml");
  DramTiming dram(load_dram_spec(arch.root().child("dram"), kPresetDir));
  dram.transfer(false, 0, 4096, 0);  // 64 bursts per channel, all in row 0 of bank 0
  EXPECT_EQ(dram.counts().activates, 2u);
  EXPECT_EQ(dram.counts().row_hits, 126u);
  EXPECT_EQ(dram.counts().precharges, 2u);
  dram.transfer(false, 0, 4096, 0);  // same rows again: closed in between, so misses
  EXPECT_EQ(dram.counts().activates, 4u);
  EXPECT_EQ(dram.counts().row_misses, 4u);
  EXPECT_EQ(dram.counts().row_conflicts, 0u);
}

// ---- (a) streaming bandwidth --------------------------------------------------------------------

double stream_fraction_of_peak(const DramSpec& spec, bool is_write, DramCounts* counts = nullptr) {
  DramTiming dram(spec);
  const std::uint64_t chunk = 64 * 1024;
  const std::uint64_t total = 16ull << 20;
  std::uint64_t done = 0;
  for (std::uint64_t addr = 0; addr < total; addr += chunk) done = dram.transfer(is_write, addr, chunk, 0);
  if (counts) *counts = dram.counts();
  return double(total) / (done * 1e-12) / spec.peak_bandwidth_bytes_per_s();
}

TEST(DramBandwidth, SequentialStreamsReach90PercentOfPeakWithRefresh) {
  for (const auto& name : kPresets) {
    SCOPED_TRACE(name);
    const DramSpec spec = load_preset(name);
    DramCounts counts;
    const double read = stream_fraction_of_peak(spec, false, &counts);
    EXPECT_GT(counts.refreshes, 0u);
    EXPECT_GE(read, 0.90);
    EXPECT_LE(read, 1.0);
    const double write = stream_fraction_of_peak(spec, true);
    EXPECT_GE(write, 0.90);
    EXPECT_LE(write, 1.0);
  }
}

TEST(DramBandwidth, BankGroupsBelowColumnsMatterForDdr4) {
  // With consecutive bursts in one bank group, tCCD_L (8) paces a 4-cycle burst: half the peak.
  auto arch = YamlDocument::parse("dram: {preset: ddr4-3200, controller: {address_mapping: RoBaRaBgCoCh}}\n",
                                  "a.yaml");
  const double fraction =
      stream_fraction_of_peak(load_dram_spec(arch.root().child("dram"), kPresetDir), false);
  EXPECT_LT(fraction, 0.55);
  EXPECT_GT(fraction, 0.45);
}

TEST(DramBandwidth, RandomSingleBurstsAreMuchSlower) {
  const DramSpec spec = load_preset("lpddr4-3200");
  DramTiming dram(spec);
  std::uint64_t state = 12345, done = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    done = dram.transfer(false, (state >> 16) % spec.capacity_bytes(), 32, 0);
  }
  const double fraction = n * 32.0 / (done * 1e-12) / spec.peak_bandwidth_bytes_per_s();
  EXPECT_LT(fraction, 0.6);
  EXPECT_GT(dram.counts().row_conflicts, std::uint64_t(n * 0.9));
}

// ---- (d) refresh --------------------------------------------------------------------------------

TEST(DramRefresh, ARefreshDelaysAnAccessByTrfc) {
  const DramSpec with = load_preset("lpddr4-3200");
  const DramSpec without = lpddr4_without_refresh();
  const std::uint64_t due = with.cycles_to_ps(with.timing.refi);
  DramTiming a(with), b(without);
  EXPECT_EQ(a.transfer(false, 0, 32, due) - b.transfer(false, 0, 32, due),
            with.cycles_to_ps(with.timing.rfc));
  EXPECT_EQ(a.counts().refreshes, 1u);  // only the accessed channel's rank caught up
}

TEST(DramRefresh, CountOverALongRunIsElapsedOverTrefi) {
  for (const auto& name : kPresets) {
    SCOPED_TRACE(name);
    const DramSpec spec = load_preset(name);
    DramTiming dram(spec);
    // Long enough for 100 refresh intervals even on the fastest preset.
    const std::uint64_t refi_ps = spec.cycles_to_ps(spec.timing.refi);
    const std::uint64_t bytes =
        static_cast<std::uint64_t>(spec.peak_bandwidth_bytes_per_s() * refi_ps * 1e-12 * 100);
    for (std::uint64_t addr = 0; addr < bytes; addr += 65536) dram.transfer(false, addr, 65536, 0);
    const DramCounts& c = dram.counts();
    const double ranks = spec.org.channels * spec.org.ranks;
    EXPECT_NEAR(c.refreshes / ranks, double(c.elapsed_ps) / refi_ps, 1.0);
  }
}

TEST(DramRefresh, EachRefreshCostsAboutTrfcOfBusTime) {
  const DramSpec with = load_preset("lpddr4-3200");
  const DramSpec without = lpddr4_without_refresh();
  DramCounts counts;
  const double on = stream_fraction_of_peak(with, false, &counts);
  const double off = stream_fraction_of_peak(without, false);
  const double total_ps = (16 << 20) / with.peak_bandwidth_bytes_per_s() * 1e12;
  const double lost_ps = total_ps / on - total_ps / off;
  const double per_refresh_ps = lost_ps / (counts.refreshes / 2.0);  // two channels refresh in parallel
  const auto& t = with.timing;
  EXPECT_GE(per_refresh_ps, with.cycles_to_ps(t.rfc) * 0.9);
  EXPECT_LE(per_refresh_ps, with.cycles_to_ps(t.rfc + t.rpab + t.rcd) * 1.1);
}

TEST(DramRefresh, IdleTimeIsPrechargeStandbyBetweenRefreshes) {
  const DramSpec spec = load_preset("lpddr4-3200");
  DramTiming dram(spec);
  const std::uint64_t refi_ps = spec.cycles_to_ps(spec.timing.refi);
  dram.advance_to(10 * refi_ps + refi_ps / 2);
  const DramCounts& c = dram.counts();
  EXPECT_EQ(c.refreshes, 20u);  // 10 per rank, two ranks
  EXPECT_EQ(c.active_standby_ps, 20 * spec.cycles_to_ps(spec.timing.rfc));
  EXPECT_EQ(c.active_standby_ps + c.precharge_standby_ps, 2 * c.elapsed_ps);
}

// ---- (e) energy ---------------------------------------------------------------------------------

TEST(DramEnergy, IddTableMatchesHandComputedClosedForm) {
  // tCK 1 ns, BL8 at 2000 MT/s: 4 ns bursts; tRC 40, tRAS 28, tRFC 100; one 1.2 V rail, 2 devices.
  std::string text = with_line(kBaseSpec, "data_rate_mtps: 3200", "data_rate_mtps: 2000");
  text = with_line(text, "tck_ps: 625", "tck_ps: 1000");
  text = with_line(text, "burst_length: 16", "burst_length: 8");
  text = with_line(text, "ras: 68", "ras: 28");
  text = with_line(text, "rc: 97", "rc: 40");
  text = with_line(text, "rcd: 29", "rcd: 14");
  text = with_line(text, "rfc: 448", "rfc: 100");
  text = with_line(text, "model: idd", "model: idd\n  devices_per_rank: 2");
  const DramEnergyTable table = dram_energy_table(parse_text(text));
  EXPECT_DOUBLE_EQ(table.act_pre_pj, 2 * 1.2 * (60 * 40 - (40 * 28 + 30 * 12)));  // 2208
  EXPECT_DOUBLE_EQ(table.read_burst_pj, 2 * 1.2 * (200 - 40) * 4);                // 1536
  EXPECT_DOUBLE_EQ(table.write_burst_pj, 2 * 1.2 * (180 - 40) * 4);               // 1344
  EXPECT_DOUBLE_EQ(table.refresh_pj, 2 * 1.2 * (250 - 40) * 100);                 // 50400
  EXPECT_DOUBLE_EQ(table.active_standby_mw, 2 * 1.2 * 40);
  EXPECT_DOUBLE_EQ(table.precharge_standby_mw, 2 * 1.2 * 30);

  DramCounts counts;
  counts.activates = 10;
  counts.read_bursts = 100;
  counts.write_bursts = 50;
  counts.refreshes = 3;
  counts.active_standby_ps = 1'000'000;
  counts.precharge_standby_ps = 2'000'000;
  const DramEnergyBreakdown e = energy_pj(counts, table);
  EXPECT_DOUBLE_EQ(e.activation_pj, 22080);
  EXPECT_DOUBLE_EQ(e.read_pj, 153600);
  EXPECT_DOUBLE_EQ(e.write_pj, 67200);
  EXPECT_DOUBLE_EQ(e.refresh_pj, 151200);
  EXPECT_DOUBLE_EQ(e.background_pj, 96 * 1000.0 + 72 * 2000.0);  // mW x ns = pJ
  EXPECT_DOUBLE_EQ(e.total_pj(), 22080 + 153600 + 67200 + 151200 + 240000);
}

TEST(DramEnergy, RailsAddUp) {
  const DramSpec spec = load_preset("lpddr4-3200");
  DramEnergyTable sum;
  for (const DramRail& rail : spec.power.rails) {
    DramSpec one = spec;
    one.power.rails = {rail};
    const DramEnergyTable part = dram_energy_table(one);
    sum.act_pre_pj += part.act_pre_pj;
    sum.read_burst_pj += part.read_burst_pj;
    sum.active_standby_mw += part.active_standby_mw;
  }
  const DramEnergyTable all = dram_energy_table(spec);
  EXPECT_DOUBLE_EQ(all.act_pre_pj, sum.act_pre_pj);
  EXPECT_DOUBLE_EQ(all.read_burst_pj, sum.read_burst_pj);
  EXPECT_DOUBLE_EQ(all.active_standby_mw, sum.active_standby_mw);
  // VDD2 dominates reads: (275 - 30) mA x 1.1 V x 5 ns; VDDQ adds (150 - 0.75) x 1.1 x 5.
  EXPECT_NEAR(all.read_burst_pj, 245 * 1.1 * 5 + 149.25 * 1.1 * 5, 1e-9);
}

TEST(DramEnergy, FlatModelChargesOnlyTransferredBits) {
  const DramSpec spec = load_preset("lpddr5-6400");
  ASSERT_EQ(spec.power.model, PowerModel::kFlat);
  const DramEnergyTable table = dram_energy_table(spec);
  EXPECT_DOUBLE_EQ(table.read_burst_pj, spec.power.pj_per_bit * 8 * spec.bytes_per_burst());
  EXPECT_DOUBLE_EQ(table.write_burst_pj, table.read_burst_pj);
  EXPECT_EQ(table.act_pre_pj + table.refresh_pj + table.active_standby_mw + table.precharge_standby_mw, 0.0);
}

// 1 MiB read and 512 KiB written on LPDDR4-3200 (2 channels x16, BL16: 32-byte bursts, 2 KiB
// rows, RoBaRaCoCh), then idle as long again. Hand counts: 32768 read and 16384 write bursts; a
// sequential stream opens every 2 KiB row once (768 rows), plus at most one re-open per refresh;
// all-bank refreshes every tREFI = 6246 x 0.625 ns on each of the 2 channels. Prices from the
// datasheet currents: a read burst (VDD2 275 - 30 mA, VDDQ 150 - 0.75 mA, 1.1 V, 5 ns) 2168.375 pJ,
// a write burst ((210 - 30) + (55 - 0.75)) x 1.1 V x 5 ns = 1288.375 pJ; standby between
// precharge (1.8 x 2 + 1.1 x 27 + 1.1 x 0.75 = 34.125 mW) and active (37.875 mW) per channel.
TEST(DramEnergy, SimulatedRunCostsAddUp) {
  const DramSpec spec = load_preset("lpddr4-3200");
  DramTiming dram(spec);
  dram.transfer(false, 0, 1 << 20, 0);
  dram.transfer(true, 1 << 24, 1 << 19, 0);
  dram.advance_to(dram.counts().elapsed_ps * 2);  // idle as long again
  const DramCounts& c = dram.counts();
  EXPECT_EQ(c.active_standby_ps + c.precharge_standby_ps, 2 * c.elapsed_ps) << "2 channels, whole run";
  EXPECT_GT(c.precharge_standby_ps, 0u);
  EXPECT_GT(c.active_standby_ps, 0u);
  EXPECT_EQ(c.read_bursts, 32768u);
  EXPECT_EQ(c.write_bursts, 16384u);
  const double refresh_intervals = 2.0 * static_cast<double>(c.elapsed_ps) / (6246 * 625.0);
  EXPECT_NEAR(static_cast<double>(c.refreshes), refresh_intervals, 2.0);
  EXPECT_GE(c.activates, 768u);
  EXPECT_LE(c.activates, 768u + c.refreshes);

  const DramEnergyBreakdown e = energy_pj(c, dram_energy_table(spec));
  EXPECT_NEAR(e.read_pj, 32768 * 2168.375, 1e-9 * e.read_pj);
  EXPECT_NEAR(e.write_pj, 16384 * 1288.375, 1e-9 * e.write_pj);
  const double channel_ps = 2.0 * static_cast<double>(c.elapsed_ps);
  EXPECT_GT(e.background_pj, 34.125e-3 * channel_ps);
  EXPECT_LT(e.background_pj, 37.875e-3 * channel_ps);
  EXPECT_GT(e.activation_pj, 0);
  EXPECT_GT(e.refresh_pj, 0);
  EXPECT_DOUBLE_EQ(e.total_pj(), e.activation_pj + e.read_pj + e.write_pj + e.refresh_pj + e.background_pj);
  const StatList stats = energy_stats(e);
  EXPECT_EQ(stats.back().name, "dram_energy_pj");
  EXPECT_DOUBLE_EQ(stats.back().value, e.total_pj());
}

TEST(DramStats, EveryCountIsNamedWithUnitAndDescription) {
  DramTiming dram(load_preset("hbm2"));
  dram.transfer(false, 0, 4096, 0);
  const StatList stats = dram.stats();
  EXPECT_EQ(stats.size(), 16u);
  for (const Stat& s : stats) {
    EXPECT_EQ(s.name.rfind("dram_", 0), 0u) << s.name;
    EXPECT_FALSE(s.unit.empty()) << s.name;
    EXPECT_FALSE(s.description.empty()) << s.name;
  }
  EXPECT_DOUBLE_EQ(stats[2].value, 64.0);  // dram_read_bursts: 4096 / 64-byte bursts
}

TEST(DramCounts, EveryFieldIsDeclaredOnceAndSubtractsOnItsOwn) {
  // A field added to DramCounts without a row in dram_count_fields() fails here.
  const auto& fields = dram_count_fields();
  EXPECT_EQ(fields.size() * sizeof(std::uint64_t), sizeof(DramCounts));
  std::set<std::string> names;
  DramCounts now, before;
  std::uint64_t k = 1;
  for (const auto& f : fields) {
    EXPECT_TRUE(names.insert(f.name).second) << f.name;
    now.*f.member = 1000 * k;
    before.*f.member = k;
    ++k;
  }
  const DramCounts d = now - before;
  k = 1;
  for (const auto& f : fields) {
    EXPECT_EQ(d.*f.member, 999 * k) << f.name;
    ++k;
  }
  const StatList stats = dram_stats(d);
  ASSERT_EQ(stats.size(), fields.size());
  EXPECT_EQ(stats[0].name, std::string("dram_") + fields[0].name);
  EXPECT_EQ(stats.back().unit, fields.back().unit);
  EXPECT_THROW(dram_count_field("no_such_count"), std::logic_error);
}

}  // namespace
}  // namespace capsim::dram
