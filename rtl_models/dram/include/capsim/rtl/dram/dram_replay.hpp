#pragma once
// Memory-request traces in DRAMsim3's format (`0xADDRESS READ|WRITE CYCLE` per line) and their
// replay on a DRAM spec with either scheduler: the in-order model (DramTiming) or the queue-based
// FR-FCFS controller (FrFcfsController). `capsim dram` is a thin front end over these.
#include <cstdint>
#include <string>
#include <vector>

#include "capsim/rtl/dram/dram_frfcfs.hpp"
#include "capsim/rtl/dram/dram_spec.hpp"
#include "capsim/rtl/dram/dram_timing.hpp"

namespace capsim::dram {

inline constexpr std::uint32_t kTraceRequestBytes = 64;

// Parses a trace. CYCLE counts `tck_ps` clocks; requests are 64 bytes. Blank lines and lines
// starting with '#' are skipped. Throws InputError naming `origin`:line and what was expected for a
// malformed line or a cycle smaller than the previous line's.
std::vector<MemRequest> parse_memory_trace(const std::string& text, const std::string& origin,
                                           std::uint64_t tck_ps);
std::vector<MemRequest> read_memory_trace(const std::string& path, std::uint64_t tck_ps);

struct ReplayResult {
  std::vector<RequestTiming> timings;  // per request, in trace order
  DramCounts counts;
};

// Replays `requests` with the spec's scheduler. In order: request i enters the controller once
// request i - queue_depth has completed (a queue of queue_depth requests), and is booked with
// DramTiming::transfer at that time.
ReplayResult replay(const DramSpec& spec, const std::vector<MemRequest>& requests);

// What `capsim dram` reports; times in ns, latencies of reads only.
struct ReplaySummary {
  std::uint64_t requests = 0, read_requests = 0, write_requests = 0, bytes = 0;
  double elapsed_ns = 0;  // first arrival to last completion
  double bandwidth_bytes_per_s = 0;
  double avg_read_latency_ns = 0;              // arrival to last data beat
  double avg_read_latency_from_accept_ns = 0;  // entry into the controller queue to last data beat
  double read_latency_p50_ns = 0, read_latency_p99_ns = 0;
  double row_hit_ratio = 0;  // row hits per burst
};

ReplaySummary summarize(const std::vector<MemRequest>& requests, const ReplayResult& result);

}  // namespace capsim::dram
