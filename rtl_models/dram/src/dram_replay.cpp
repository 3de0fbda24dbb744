#include "capsim/rtl/dram/dram_replay.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>

#include "capsim/common/atomic_file.hpp"
#include "capsim/common/error.hpp"

namespace capsim::dram {
namespace {

const char* const kLineFormat =
    "'0xADDRESS READ|WRITE CYCLE' (a hex address, READ or WRITE, a non-negative decimal cycle)";

bool parse_hex(std::string_view word, std::uint64_t& value) {
  if (word.size() > 2 && word[0] == '0' && (word[1] == 'x' || word[1] == 'X')) word.remove_prefix(2);
  const auto [end, error] = std::from_chars(word.data(), word.data() + word.size(), value, 16);
  return error == std::errc() && end == word.data() + word.size() && !word.empty();
}

bool parse_decimal(std::string_view word, std::uint64_t& value) {
  const auto [end, error] = std::from_chars(word.data(), word.data() + word.size(), value, 10);
  return error == std::errc() && end == word.data() + word.size() && !word.empty();
}

std::string shown(const std::string& line) { return line.size() > 80 ? line.substr(0, 77) + "..." : line; }

}  // namespace

std::vector<MemRequest> parse_memory_trace(const std::string& text, const std::string& origin,
                                           std::uint64_t tck_ps) {
  // Cycles beyond this would overflow picoseconds.
  const std::uint64_t max_cycle = (std::uint64_t{1} << 62) / tck_ps;
  std::vector<MemRequest> requests;
  std::istringstream in(text);
  std::string line;
  std::uint64_t previous_cycle = 0;
  for (int number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::istringstream words(line);
    std::string address, op, cycle_text, extra;
    if (!(words >> address) || address.front() == '#') continue;
    const SourceLocation where{origin, number};
    std::uint64_t addr = 0, cycle = 0;
    words >> op >> cycle_text;
    if (!parse_hex(address, addr) || (op != "READ" && op != "WRITE") || !parse_decimal(cycle_text, cycle) ||
        (words >> extra))
      throw InputError(where, std::string("expected ") + kLineFormat + ", got '" + shown(line) + "'");
    if (cycle > max_cycle)
      throw InputError(where, "cycle", "a cycle of at most " + std::to_string(max_cycle), cycle_text);
    if (cycle < previous_cycle)
      throw InputError(where, "cycle",
                       "a cycle of at least the previous request's (" + std::to_string(previous_cycle) +
                           "): requests are listed in arrival order",
                       cycle_text);
    previous_cycle = cycle;
    requests.push_back({addr, op == "WRITE", cycle * tck_ps, kTraceRequestBytes});
  }
  return requests;
}

std::vector<MemRequest> read_memory_trace(const std::string& path, std::uint64_t tck_ps) {
  return parse_memory_trace(read_file(path), path, tck_ps);
}

namespace {

ReplayResult replay_in_order(const DramSpec& spec, const std::vector<MemRequest>& requests) {
  DramTiming timing(spec);
  ReplayResult result;
  result.timings.resize(requests.size());
  const std::size_t depth = spec.controller.queue_depth;
  std::uint64_t accepted = 0, freed = 0;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const MemRequest& r = requests[i];
    // A slot frees when the request queue_depth places earlier completes (at the latest
    // completion so far, since slots free in no particular order).
    if (i >= depth) freed = std::max(freed, result.timings[i - depth].done_ps);
    accepted = std::max({accepted, r.arrival_ps, freed});
    result.timings[i] = {accepted, timing.transfer(r.is_write, r.addr, r.bytes, accepted)};
  }
  std::uint64_t end = 0;
  for (const auto& t : result.timings) end = std::max(end, t.done_ps);
  timing.advance_to(end);
  result.counts = timing.counts();
  return result;
}

}  // namespace

ReplayResult replay(const DramSpec& spec, const std::vector<MemRequest>& requests) {
  if (spec.controller.scheduler == Scheduler::kInOrder) return replay_in_order(spec, requests);
  FrFcfsController controller(spec);
  ReplayResult result;
  result.timings = controller.run(requests);
  result.counts = controller.counts();
  return result;
}

ReplaySummary summarize(const std::vector<MemRequest>& requests, const ReplayResult& result) {
  ReplaySummary s;
  s.requests = requests.size();
  if (requests.empty()) return s;
  std::vector<double> latencies_ns;
  double from_accept_ns = 0;
  std::uint64_t last_done = 0;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const MemRequest& r = requests[i];
    const RequestTiming& t = result.timings[i];
    s.bytes += r.bytes;
    last_done = std::max(last_done, t.done_ps);
    if (r.is_write) {
      ++s.write_requests;
      continue;
    }
    ++s.read_requests;
    latencies_ns.push_back(double(t.done_ps - r.arrival_ps) / 1e3);
    from_accept_ns += double(t.done_ps - t.accepted_ps) / 1e3;
  }
  s.elapsed_ns = double(last_done - requests.front().arrival_ps) / 1e3;
  s.bandwidth_bytes_per_s = s.elapsed_ns > 0 ? double(s.bytes) / (s.elapsed_ns * 1e-9) : 0;
  if (!latencies_ns.empty()) {
    const double n = double(latencies_ns.size());
    double sum = 0;
    for (double l : latencies_ns) sum += l;
    s.avg_read_latency_ns = sum / n;
    s.avg_read_latency_from_accept_ns = from_accept_ns / n;
    // Nearest rank: the smallest latency with at least p of the reads at or below it.
    std::sort(latencies_ns.begin(), latencies_ns.end());
    const auto rank = [&](double p) {
      return latencies_ns[std::size_t(std::max(1.0, std::ceil(p * n))) - 1];
    };
    s.read_latency_p50_ns = rank(0.50);
    s.read_latency_p99_ns = rank(0.99);
  }
  const auto& c = result.counts;
  const std::uint64_t bursts = c.read_bursts + c.write_bursts;
  s.row_hit_ratio = bursts > 0 ? double(c.row_hits) / double(bursts) : 0;
  return s;
}

}  // namespace capsim::dram
