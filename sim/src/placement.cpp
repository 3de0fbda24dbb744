#include "capsim/sim/placement.hpp"

#include <algorithm>

#include "capsim/rtl/projection/projection.hpp"
#include "capsim/rtl/quant/quant.hpp"

namespace capsim::sim {
namespace {

constexpr std::uint64_t kRegionAlignment = 4096;   // regions start on 4 KiB boundaries

std::uint64_t align_up(std::uint64_t v) { return (v + kRegionAlignment - 1) / kRegionAlignment * kRegionAlignment; }

void describe_tensors(const trace::Trace& trace, std::vector<TensorPlacement>& tensors) {
  tensors.resize(trace.layers.size() + 1);
  tensors[0].shape = trace.network.input;
  tensors[0].consumers = trace.input_consumers();
  const auto consumers = trace.consumers();
  for (std::size_t i = 0; i < trace.layers.size(); ++i) {
    TensorPlacement& t = tensors[tensor_of_layer(static_cast<int>(i))];
    t.producer = static_cast<int>(i);
    t.shape = trace.layers[i].out_shape;
    t.consumers = consumers[i];
    t.compression = trace.layers[i].compression;
  }
}

// spill_when_needed: walk producers in execution order and keep a tensor on chip when, over its
// whole lifetime, it fits beside the activations already kept there. The network input arrives
// in DRAM and the network output leaves through it, so both are always in DRAM.
void decide_spills(const ArchSpec& arch, std::int64_t batch, Placement& p) {
  const std::size_t layers = p.tensors.size() - 1;
  p.resident_bytes.assign(layers, 0);
  if (arch.controller.spill_policy == SpillPolicy::AlwaysSpill) return;
  const auto budget = static_cast<std::int64_t>(static_cast<double>(arch.buffer.capacity_bytes) *
                                                arch.controller.resident_fraction);
  for (std::size_t id = 1; id < p.tensors.size(); ++id) {
    TensorPlacement& t = p.tensors[id];
    if (t.consumers.empty()) continue;
    const int first = t.producer;
    const int last = *std::max_element(t.consumers.begin(), t.consumers.end());
    const std::int64_t bytes = t.onchip_image_bytes * batch;
    const auto begin = p.resident_bytes.begin() + first, end = p.resident_bytes.begin() + last + 1;
    if (*std::max_element(begin, end) + bytes > budget) continue;
    t.in_dram = false;
    for (auto it = begin; it != end; ++it) *it += bytes;
  }
}

void size_tensor(const ArchSpec& arch, TensorPlacement& t) {
  const int b0 = arch.datatypes.activation_bits;
  t.onchip_image_bytes = quant::packed_bytes(t.shape.elements(), b0);
  if (!t.in_dram) t.compression.reset();   // an activation kept on chip is never compressed
  t.dram_row_bytes = quant::packed_bytes(t.stored_values_per_pixel() * t.shape.w, t.stored_bits(b0));
  t.dram_image_bytes = t.dram_row_bytes * t.shape.h;
  t.side_bytes = t.projected()
                     ? quant::packed_bytes(projection::side_values(t.shape.c, t.compression->k), arch.datatypes.matrix_bits)
                     : 0;
}

// when_profitable: a projected tensor is stored compressed only when the DRAM bytes it saves
// (written once, read by every consumer) exceed what its side data costs (encoder once, decoder
// per consumer) and that side data fits the projection unit's matrix buffer (otherwise it would
// be fetched again for every tile).
void drop_unprofitable_compression(const ArchSpec& arch, std::int64_t batch, TensorPlacement& t) {
  if (!t.projected()) return;
  const auto accesses = static_cast<std::int64_t>(1 + t.consumers.size());
  const std::int64_t uncompressed = quant::packed_bytes(t.shape.elements(), arch.datatypes.activation_bits);
  const std::int64_t saved = (uncompressed - t.dram_image_bytes) * batch * accesses;
  const bool fits = t.side_bytes <= arch.projection.matrix_buffer_bytes;
  if (fits && t.side_bytes * accesses < saved) return;
  t.compression.reset();
  size_tensor(arch, t);
}

void assign_addresses(const trace::Trace& trace, Placement& p) {
  std::uint64_t next = 0;
  auto take = [&next](std::int64_t bytes) {
    std::uint64_t base = next;
    next = align_up(next + static_cast<std::uint64_t>(bytes));
    return base;
  };
  for (auto& t : p.tensors) {
    if (t.in_dram) t.address = take(t.dram_image_bytes * p.batch);
    if (t.projected()) {
      t.encoder_address = take(t.side_bytes);
      t.decoder_address = take(t.side_bytes);
    }
  }
  p.weight_addresses.resize(trace.layers.size());
  for (std::size_t i = 0; i < trace.layers.size(); ++i) p.weight_addresses[i] = take(trace.layers[i].weight_bytes);
}

}  // namespace

std::int64_t TensorPlacement::stored_values_per_pixel() const {
  return projected() ? compression->k : shape.c;
}

int TensorPlacement::stored_bits(int activation_bits) const {
  return in_dram && compression ? compression->bits : activation_bits;
}

Placement place_tensors(const trace::Trace& trace, const ArchSpec& arch) {
  Placement p;
  p.batch = trace.network.batch;
  describe_tensors(trace, p.tensors);
  for (auto& t : p.tensors) t.onchip_image_bytes = quant::packed_bytes(t.shape.elements(), arch.datatypes.activation_bits);
  decide_spills(arch, p.batch, p);
  for (auto& t : p.tensors) size_tensor(arch, t);
  if (arch.controller.compression_policy == CompressionPolicy::WhenProfitable)
    for (auto& t : p.tensors) drop_unprofitable_compression(arch, p.batch, t);
  assign_addresses(trace, p);
  return p;
}

}  // namespace capsim::sim
