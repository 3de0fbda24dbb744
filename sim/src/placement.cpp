#include "capsim/sim/placement.hpp"

#include <algorithm>

#include "capsim/rtl/projection/projection.hpp"
#include "capsim/rtl/quant/quant.hpp"
#include "capsim/sim/layer_schedule.hpp"

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
// whole lifetime, it fits beside the activations already kept there within the resident budget
// and every layer of that lifetime keeps room for its smallest tile (`tile_needs`). The network
// input arrives in DRAM and the network output leaves through it, so both are always in DRAM.
void decide_spills(const ArchSpec& arch, const std::vector<std::int64_t>& tile_needs, Placement& p) {
  const auto budget = static_cast<std::int64_t>(static_cast<double>(arch.buffer.capacity_bytes) *
                                                arch.controller.resident_fraction);
  for (std::size_t id = 1; id < p.tensors.size(); ++id) {
    TensorPlacement& t = p.tensors[id];
    if (t.consumers.empty()) continue;
    const auto first = static_cast<std::size_t>(t.producer);
    const auto last = static_cast<std::size_t>(*std::max_element(t.consumers.begin(), t.consumers.end()));
    const std::int64_t bytes = t.onchip_image_bytes * p.batch;
    bool fits = true;
    for (std::size_t l = first; fits && l <= last; ++l)
      fits = p.resident_bytes[l] + bytes <= budget &&
             arch.buffer.capacity_bytes - (p.resident_bytes[l] + bytes) >= tile_needs[l];
    if (!fits) continue;
    t.in_dram = false;
    for (std::size_t l = first; l <= last; ++l) p.resident_bytes[l] += bytes;
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

void store_uncompressed(const ArchSpec& arch, TensorPlacement& t) {
  t.compression.reset();
  size_tensor(arch, t);
}

// when_profitable, per tensor: a compressed tensor stays compressed only when the DRAM bytes it
// saves (written once, read by every consumer) exceed what its side data costs (encoder once,
// decoder per consumer). A record that stores at least as many bytes as b0 (quantization to b0
// bits or more) never pays.
void drop_unprofitable_compression(const ArchSpec& arch, std::int64_t batch, TensorPlacement& t) {
  if (!t.in_dram || !t.compression) return;
  const auto accesses = static_cast<std::int64_t>(1 + t.consumers.size());
  const std::int64_t uncompressed = quant::packed_bytes(t.shape.elements(), arch.datatypes.activation_bits);
  const std::int64_t saved = (uncompressed - t.dram_image_bytes) * batch * accesses;
  if (saved <= 0 || t.side_bytes * accesses >= saved) store_uncompressed(arch, t);
}

// when_profitable, per layer: the side data a layer needs at once (decoders of its projected
// inputs, encoder of its projected output) must fit the matrix buffer, or it would be fetched
// again with every tile; the tensor with the largest side data is stored uncompressed until it fits.
void fit_matrix_buffer(const trace::Trace& trace, const ArchSpec& arch, Placement& p) {
  for (std::size_t layer = 0; layer < trace.layers.size(); ++layer) {
    for (;;) {
      std::vector<TensorPlacement*> involved{&p.tensors[static_cast<std::size_t>(tensor_of_layer(static_cast<int>(layer)))]};
      for (const auto& name : trace.layers[layer].inputs) {
        const int producer = trace.index_of(name);
        involved.push_back(&p.tensors[static_cast<std::size_t>(producer < 0 ? 0 : tensor_of_layer(producer))]);
      }
      std::int64_t total = 0;
      TensorPlacement* largest = nullptr;
      for (TensorPlacement* t : involved) {
        if (!t->projected()) continue;
        total += t->side_bytes;
        if (!largest || t->side_bytes > largest->side_bytes) largest = t;
      }
      if (total <= arch.projection.matrix_buffer_bytes) break;
      store_uncompressed(arch, *largest);
    }
  }
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

namespace {

// The buffer bytes of each layer's smallest tile with every tensor in DRAM (an upper bound of
// what the layer needs whatever stays on chip).
std::vector<std::int64_t> smallest_tile_needs(const trace::Trace& trace, const ArchSpec& arch, Placement all_in_dram) {
  for (auto& t : all_in_dram.tensors) size_tensor(arch, t);
  assign_addresses(trace, all_in_dram);
  const LayerScheduler scheduler(trace, all_in_dram, arch);
  std::vector<std::int64_t> needs;
  for (std::size_t l = 0; l < trace.layers.size(); ++l) needs.push_back(scheduler.buffer_bytes(static_cast<int>(l), 1, 1));
  return needs;
}

}  // namespace

Placement place_tensors(const trace::Trace& trace, const ArchSpec& arch) {
  Placement p;
  p.batch = trace.network.batch;
  describe_tensors(trace, p.tensors);
  for (auto& t : p.tensors) t.onchip_image_bytes = quant::packed_bytes(t.shape.elements(), arch.datatypes.activation_bits);
  p.resident_bytes.assign(trace.layers.size(), 0);
  if (arch.controller.spill_policy == SpillPolicy::SpillWhenNeeded) {
    p.weight_addresses.assign(trace.layers.size(), 0);
    decide_spills(arch, smallest_tile_needs(trace, arch, p), p);
  }
  for (auto& t : p.tensors) size_tensor(arch, t);
  if (arch.controller.compression_policy == CompressionPolicy::WhenProfitable) {
    for (auto& t : p.tensors) drop_unprofitable_compression(arch, p.batch, t);
    fit_matrix_buffer(trace, arch, p);
  }
  assign_addresses(trace, p);
  return p;
}

}  // namespace capsim::sim
