#include "capsim/sim/placement.hpp"

#include <algorithm>

#include "capsim/rtl/projection/projection.hpp"
#include "capsim/rtl/quant/quant.hpp"

namespace capsim::sim {
namespace {

constexpr std::uint64_t kRegionAlignment = 4096;  // regions start on 4 KiB boundaries

std::uint64_t align_up(std::uint64_t v) {
  return (v + kRegionAlignment - 1) / kRegionAlignment * kRegionAlignment;
}

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
  if (!t.in_dram) t.compression.reset();  // an activation kept on chip is never compressed
  t.dram_row_bytes = quant::packed_bytes(t.stored_values_per_pixel() * t.shape.w, t.stored_bits(b0));
  t.dram_image_bytes = t.dram_row_bytes * t.shape.h;
  t.side_bytes = t.projected() ? quant::packed_bytes(projection::side_values(t.shape.c, t.compression->k),
                                                     arch.datatypes.matrix_bits)
                               : 0;
}

void store_uncompressed(const ArchSpec& arch, TensorPlacement& t) {
  t.compression.reset();
  size_tensor(arch, t);
}

// Marks, per consumer, whether it folds the decoder of a projected tensor.
void mark_folding(const trace::Trace& trace, const ArchSpec& arch, Placement& p) {
  for (std::size_t id = 1; id < p.tensors.size(); ++id) {
    TensorPlacement& t = p.tensors[id];
    t.folded.assign(t.consumers.size(), false);
    if (!arch.projection.fold_decoders || !t.projected()) continue;
    const std::vector<std::string> names = trace.folded_consumers(t.producer);
    for (std::size_t j = 0; j < t.consumers.size(); ++j)
      t.folded[j] = std::find(names.begin(), names.end(),
                              trace.layers[static_cast<std::size_t>(t.consumers[j])].name) != names.end();
  }
}

// Distinct windows along one axis, by how many of their taps fall into the zero padding at
// either end: each needs its own folded bias (the channel mean is not seen through padding).
std::int64_t distinct_border_windows(std::int64_t in, std::int64_t out, int kernel, int stride, int pad) {
  std::vector<std::pair<std::int64_t, std::int64_t>> clips;
  for (std::int64_t o = 0; o < out; ++o) {
    const std::int64_t start = o * stride - pad;
    const std::pair<std::int64_t, std::int64_t> clip{std::max<std::int64_t>(0, -start),
                                                     std::max<std::int64_t>(0, start + kernel - in)};
    if (std::find(clips.begin(), clips.end(), clip) == clips.end()) clips.push_back(clip);
  }
  return static_cast<std::int64_t>(clips.size());
}

LayerWork layer_work(const trace::Trace& trace, const Placement& p, int index) {
  const trace::Layer& l = trace.layers[static_cast<std::size_t>(index)];
  LayerWork w{false, l.in_shape.c, l.weights, l.biases, l.weight_bytes};
  if (l.inputs.size() != 1 || !(l.op == trace::Op::Conv || l.op == trace::Op::Linear)) return w;
  const int producer = trace.index_of(l.inputs[0]);
  const TensorPlacement& in =
      p.tensors[static_cast<std::size_t>(producer < 0 ? 0 : tensor_of_layer(producer))];
  if (!in.projected() || !in.folded_into(index)) return w;
  const std::int64_t k = in.compression->k;
  w.folded_input = true;
  w.input_channels = k;
  if (l.op == trace::Op::Conv) {
    w.weights = l.out_shape.c * k * l.kernel_h * l.kernel_w;
    w.biases = l.out_shape.c *
               distinct_border_windows(l.in_shape.h, l.out_shape.h, l.kernel_h, l.stride_h, l.pad_h) *
               distinct_border_windows(l.in_shape.w, l.out_shape.w, l.kernel_w, l.stride_w, l.pad_w);
  } else {  // a linear layer reads the flattened tensor: the fold acts per pixel
    w.weights = l.out_shape.c * k * l.in_shape.h * l.in_shape.w;
    w.biases = l.out_shape.c;
  }
  w.weight_bytes = trace::weight_bytes_for(w.weights, w.biases, trace.precision);
  return w;
}

// Folding marks and the work of every layer, from the current compression decisions.
void settle_layers(const trace::Trace& trace, const ArchSpec& arch, Placement& p) {
  mark_folding(trace, arch, p);
  p.layers.clear();
  for (std::size_t i = 0; i < trace.layers.size(); ++i)
    p.layers.push_back(layer_work(trace, p, static_cast<int>(i)));
}

// when_profitable, per tensor: a compressed tensor stays compressed only when the DRAM bytes it
// saves (written once, read by every consumer) exceed what its side data costs (encoder once,
// decoder per consumer that does not fold it). A record that stores at least as many bytes as b0
// (quantization to b0 bits or more) never pays.
void drop_unprofitable_compression(const ArchSpec& arch, std::int64_t batch, TensorPlacement& t) {
  if (!t.in_dram || !t.compression) return;
  const auto accesses = static_cast<std::int64_t>(1 + t.consumers.size());
  const auto side_fetches =
      1 + static_cast<std::int64_t>(std::count(t.folded.begin(), t.folded.end(), false));
  const std::int64_t uncompressed = quant::packed_bytes(t.shape.elements(), arch.datatypes.activation_bits);
  const std::int64_t saved = (uncompressed - t.dram_image_bytes) * batch * accesses;
  if (saved <= 0 || t.side_bytes * side_fetches >= saved) {
    store_uncompressed(arch, t);
    t.dropped = "unprofitable";
  }
}

// when_profitable, per layer: the side data a layer needs at once (decoders of its projected
// inputs, encoder of its projected output) must fit the matrix buffer, or it would be fetched
// again with every tile; the tensor with the largest side data is stored uncompressed until it fits.
void fit_matrix_buffer(const trace::Trace& trace, const ArchSpec& arch, Placement& p) {
  for (std::size_t layer = 0; layer < trace.layers.size(); ++layer) {
    for (;;) {
      std::vector<TensorPlacement*> involved{
          &p.tensors[static_cast<std::size_t>(tensor_of_layer(static_cast<int>(layer)))]};
      for (const auto& name : trace.layers[layer].inputs) {
        const int producer = trace.index_of(name);
        TensorPlacement* in =
            &p.tensors[static_cast<std::size_t>(producer < 0 ? 0 : tensor_of_layer(producer))];
        if (!in->folded_into(static_cast<int>(layer)))
          involved.push_back(in);  // a folded input brings no decoder
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
      largest->dropped = "matrix_buffer";
      mark_folding(trace, arch, p);
    }
  }
}

void assign_addresses(const trace::Trace& trace, int matrix_bits, Placement& p) {
  std::uint64_t next = 0;
  auto take = [&next](std::int64_t bytes) {
    std::uint64_t base = next;
    next = align_up(next + static_cast<std::uint64_t>(bytes));
    return base;
  };
  // Every region is sized for the largest content it can hold under any plan (the uncompressed
  // activation, side data at k = C, the unfolded weights), so a plan never moves another tensor:
  // two plans differ only in what their tensors store, and a layer's DRAM behaviour depends only
  // on its own tensors (which the cost model's per-layer cache relies on).
  for (auto& t : p.tensors) {
    if (t.in_dram) t.address = take(std::max(t.dram_image_bytes, t.onchip_image_bytes) * p.batch);
    const std::int64_t largest_side =
        quant::packed_bytes(projection::side_values(t.shape.c, t.shape.c), matrix_bits);
    if (t.in_dram && t.producer >= 0 && !t.consumers.empty()) {  // every tensor a plan may project
      t.encoder_address = take(largest_side);
      t.decoder_address = take(largest_side);
    }
  }
  p.weight_addresses.resize(trace.layers.size());
  for (std::size_t i = 0; i < trace.layers.size(); ++i)
    p.weight_addresses[i] = take(std::max(p.layers[i].weight_bytes, trace.layers[i].weight_bytes));
}

}  // namespace

std::int64_t TensorPlacement::stored_values_per_pixel() const {
  return projected() ? compression->k : shape.c;
}

int TensorPlacement::stored_bits(int activation_bits) const {
  return in_dram && compression ? compression->bits : activation_bits;
}

bool TensorPlacement::folded_into(int layer) const {
  for (std::size_t j = 0; j < consumers.size() && j < folded.size(); ++j)
    if (consumers[j] == layer && folded[j]) return true;
  return false;
}

bool TensorPlacement::needs_decoder() const {
  return projected() && std::find(folded.begin(), folded.end(), false) != folded.end();
}

namespace {

// The buffer bytes of each layer's smallest tile with every tensor in DRAM (an upper bound of
// what the layer needs whatever stays on chip).
std::vector<std::int64_t> smallest_tile_needs(const trace::Trace& trace, const ArchSpec& arch,
                                              Placement all_in_dram, const TileNeeds& needs) {
  for (auto& t : all_in_dram.tensors) size_tensor(arch, t);
  settle_layers(trace, arch, all_in_dram);
  assign_addresses(trace, arch.datatypes.matrix_bits, all_in_dram);
  return needs.one_row_tiles(all_in_dram);
}

// A projected output whose smallest tile (with the encoder's partial sums) does not fit the buffer
// is stored uncompressed, which only raises accuracy, rather than failing a layer that runs
// uncompressed. Layer by layer, so that a consumer that no longer folds is seen by its own check.
void drop_projections_without_room(const trace::Trace& trace, const ArchSpec& arch, const TileNeeds& needs,
                                   Placement& p) {
  for (std::size_t l = 0; l < trace.layers.size(); ++l) {
    TensorPlacement& out = p.tensors[static_cast<std::size_t>(tensor_of_layer(static_cast<int>(l)))];
    if (!out.projected()) continue;
    if (needs.smallest_fits(p, static_cast<int>(l))) continue;
    store_uncompressed(arch, out);
    out.dropped = "buffer";
    settle_layers(trace, arch, p);
  }
}

}  // namespace

Placement place_tensors(const trace::Trace& trace, const ArchSpec& arch, const TileNeeds& needs) {
  Placement p;
  p.batch = arch.batch > 0 ? arch.batch : trace.network.batch;
  describe_tensors(trace, p.tensors);
  for (auto& t : p.tensors)
    t.onchip_image_bytes = quant::packed_bytes(t.shape.elements(), arch.datatypes.activation_bits);
  p.resident_bytes.assign(trace.layers.size(), 0);
  p.weight_addresses.assign(trace.layers.size(), 0);  // the tile-size checks below need no addresses
  if (arch.controller.spill_policy == SpillPolicy::SpillWhenNeeded) {
    decide_spills(arch, smallest_tile_needs(trace, arch, p, needs), p);
  }
  for (auto& t : p.tensors) size_tensor(arch, t);
  mark_folding(trace, arch, p);
  if (arch.controller.compression_policy == CompressionPolicy::WhenProfitable) {
    for (auto& t : p.tensors) drop_unprofitable_compression(arch, p.batch, t);
    mark_folding(trace, arch, p);
    fit_matrix_buffer(trace, arch, p);
  }
  settle_layers(trace, arch, p);
  drop_projections_without_room(trace, arch, needs, p);
  assign_addresses(trace, arch.datatypes.matrix_bits, p);
  return p;
}

}  // namespace capsim::sim
