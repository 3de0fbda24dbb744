#include "capsim/sim/layer_schedule.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "capsim/common/error.hpp"
#include "capsim/common/integers.hpp"
#include "capsim/rtl/quant/quant.hpp"

namespace capsim::sim {
namespace {

using quant::packed_bytes;

// Each extra tile costs descriptor set-up and pipeline fill; among tilings with equal DRAM
// traffic and compute the search prefers fewer tiles, as if each tile moved this many more bytes.
constexpr std::int64_t kTileOverheadBytes = 64;

// The sizes of the tiles that cover `extent` with tiles of `size`: how many full ones, and the
// size of the last one (0 when every tile is full).
struct TileSplit {
  std::int64_t full = 0, last = 0;
};
TileSplit split(std::int64_t extent, std::int64_t size) { return {extent / size, extent % size}; }

// Distinct tile sizes ceil(extent / n) for n = 1..extent, largest first.
std::vector<std::int64_t> tile_sizes(std::int64_t extent) {
  std::vector<std::int64_t> sizes;
  for (std::int64_t n = 1; n <= extent; ++n) {
    std::int64_t size = ceil_div(extent, n);
    if (sizes.empty() || sizes.back() != size) sizes.push_back(size);
  }
  return sizes;
}

// The part [lo, hi) of a tile's extent range [begin, end) that a slice of `total` bytes spread
// over `extent` units covers, rounded so that consecutive slices sum to `total` exactly.
std::int64_t share(std::int64_t total, std::int64_t lo, std::int64_t hi, std::int64_t extent) {
  return total * hi / extent - total * lo / extent;
}

}  // namespace

std::string to_string(LoopOrder order) {
  return order == LoopOrder::ChannelsOuter ? "channels_outer" : "rows_outer";
}

struct LayerScheduler::Geometry {
  struct Input {
    const TensorPlacement* tensor = nullptr;
    int kernel = 1, stride = 1, pad = 0;
    bool all_rows = false;      // linear layers read the whole producer tensor for their single output row
    bool folded = false;        // the layer reads the k coefficients, the decoder folded into its weights
    std::int64_t channels = 0;  // channels staged on chip per pixel (k when folded, else C)

    std::pair<std::int64_t, std::int64_t> rows_needed(std::int64_t r0, std::int64_t r1) const {
      if (all_rows) return {0, tensor->shape.h};
      // The DMA moves whole rows and does not skip the rows a stride larger than the kernel leaves
      // unused (a 1x1 stride-2 conv reads every input row), so consecutive tiles leave no gaps.
      const std::int64_t first = r0 * stride - pad;
      const std::int64_t last = std::max((r1 - 1) * stride - pad + kernel, r1 * stride - pad);
      return {std::max<std::int64_t>(0, first), std::min(tensor->shape.h, last)};
    }
    std::int64_t max_rows(std::int64_t rows) const {
      if (all_rows) return tensor->shape.h;
      return std::min<std::int64_t>(tensor->shape.h, std::max((rows - 1) * stride + kernel, rows * stride));
    }
  };

  int index = 0;
  const trace::Layer* layer = nullptr;
  std::vector<Input> inputs;
  const TensorPlacement* output = nullptr;
  bool separable = false;  // output channel m reads only input channel m (depthwise, pool, add)
  std::int64_t out_rows = 1, out_cols = 1, out_channels = 1;
  std::int64_t batch = 1;
  std::uint64_t weight_address = 0;
  const LayerWork* work = nullptr;  // weights and reduction once decoders are folded
  std::int64_t matrix_bytes = 0;    // all decoder and encoder data the layer needs
  bool matrices_fit = true;

  std::int64_t channels_needed(const Input& in, std::int64_t m) const { return separable ? m : in.channels; }
};

LayerScheduler::LayerScheduler(const trace::Trace& trace, const Placement& placement, const ArchSpec& arch)
    : trace_(trace), placement_(placement), arch_(arch), pe_(arch.pe_array) {}

std::int64_t LayerScheduler::available_bytes(int layer) const {
  return arch_.buffer.capacity_bytes - placement_.resident_bytes[static_cast<std::size_t>(layer)];
}

LayerScheduler::Geometry LayerScheduler::geometry(int layer) const {
  Geometry g;
  g.index = layer;
  g.layer = &trace_.layers[static_cast<std::size_t>(layer)];
  const trace::Layer& l = *g.layer;
  g.output = &placement_.tensors[static_cast<std::size_t>(tensor_of_layer(layer))];
  g.out_rows = l.out_shape.h;
  g.out_cols = l.out_shape.w;
  g.out_channels = l.out_shape.c;
  g.batch = placement_.batch;
  g.separable = l.op == trace::Op::DwConv || l.op == trace::Op::Pool || l.op == trace::Op::Add;
  g.weight_address = placement_.weight_addresses[static_cast<std::size_t>(layer)];
  g.work = &placement_.layers[static_cast<std::size_t>(layer)];
  for (const auto& name : l.inputs) {
    Geometry::Input in;
    const int producer = trace_.index_of(name);
    in.tensor = &placement_.tensors[static_cast<std::size_t>(producer < 0 ? 0 : tensor_of_layer(producer))];
    if (l.op == trace::Op::Conv || l.op == trace::Op::DwConv || l.op == trace::Op::Pool) {
      in.kernel = l.kernel_h;
      in.stride = l.stride_h;
      in.pad = l.pad_h;
    }
    in.all_rows = l.op == trace::Op::Linear;
    in.folded = in.tensor->projected() && in.tensor->folded_into(layer);
    in.channels = in.folded ? in.tensor->compression->k : in.tensor->shape.c;
    if (in.tensor->projected() && !in.folded) g.matrix_bytes += in.tensor->side_bytes;
    g.inputs.push_back(in);
  }
  if (g.output->projected()) g.matrix_bytes += g.output->side_bytes;
  g.matrices_fit = g.matrix_bytes <= arch_.projection.matrix_buffer_bytes;
  return g;
}

std::int64_t LayerScheduler::buffer_bytes(int layer, std::int64_t rows, std::int64_t channels,
                                          LoopOrder order) const {
  return buffer_bytes(geometry(layer), rows, channels, order);
}

std::int64_t LayerScheduler::smallest_buffer_bytes(int layer) const {
  const Geometry g = geometry(layer);
  return std::min(buffer_bytes(g, 1, 1, LoopOrder::RowsOuter),
                  buffer_bytes(g, 1, 1, LoopOrder::ChannelsOuter));
}

std::int64_t LayerScheduler::buffer_bytes(const Geometry& g, std::int64_t rows, std::int64_t channels,
                                          LoopOrder order) const {
  const int b0 = arch_.datatypes.activation_bits;
  std::int64_t staged = 0;
  for (const auto& in : g.inputs)
    if (in.tensor->in_dram)
      staged += packed_bytes(in.max_rows(rows) * in.tensor->shape.w * g.channels_needed(in, channels), b0);
  staged += ceil_div(g.work->weight_bytes * channels, g.out_channels);
  if (g.output->in_dram) staged += packed_bytes(rows * g.out_cols * channels, b0);
  std::int64_t total = (arch_.controller.double_buffering ? 2 : 1) * staged;
  // Projecting to k coefficients needs all C channels of a pixel: with output-channel tiles the
  // encoder accumulates k partial coefficient sums per pixel on chip, at accumulator width, until
  // the last channel tile of those pixels: the current rows when rows are outside, every pixel of
  // the layer (all images) when channels are outside (the channel-tiled encoder).
  if (g.output->projected() && channels < g.out_channels) {
    const std::int64_t pixels =
        order == LoopOrder::RowsOuter ? rows * g.out_cols : g.out_rows * g.out_cols * g.batch;
    total += packed_bytes(pixels * g.output->compression->k, arch_.datatypes.accumulator_bits);
  }
  return total;
}

std::vector<std::int64_t> LayerScheduler::rows_loaded(const Geometry& g, std::int64_t rows) const {
  std::vector<std::int64_t> loaded;
  for (const auto& in : g.inputs) {
    std::int64_t total = 0;
    for (std::int64_t r0 = 0; r0 < g.out_rows; r0 += rows) {
      auto [a, b] = in.rows_needed(r0, std::min(g.out_rows, r0 + rows));
      total += b - a;
    }
    loaded.push_back(total * g.batch);
  }
  return loaded;
}

std::int64_t LayerScheduler::predicted_dram_bytes(int layer, std::int64_t rows, std::int64_t channels,
                                                  LoopOrder order) const {
  const Geometry g = geometry(layer);
  return predicted_dram_bytes(g, rows, channels, order, rows_loaded(g, rows));
}

std::int64_t LayerScheduler::predicted_dram_bytes(const Geometry& g, std::int64_t rows, std::int64_t channels,
                                                  LoopOrder order,
                                                  const std::vector<std::int64_t>& rows_loaded) const {
  const std::int64_t row_tiles = ceil_div(g.out_rows, rows) * g.batch;
  const std::int64_t channel_tiles = ceil_div(g.out_channels, channels);
  std::int64_t bytes = 0;
  std::int64_t decoder_refetch_bytes = 0;  // decoders fetched with every load when they do not stay on chip
  for (std::size_t j = 0; j < g.inputs.size(); ++j) {
    const TensorPlacement& t = *g.inputs[j].tensor;
    if (!t.in_dram) continue;
    // A channel tile of a depthwise/pool/add layer needs only its own channels, except from a
    // projected tensor, whose every coefficient mixes all channels. A full-reduction layer reloads
    // its inputs for every channel tile only when rows change between consecutive tiles.
    const bool reloaded = g.separable || (order == LoopOrder::ChannelsOuter && row_tiles > 1);
    const std::int64_t loads = reloaded ? row_tiles * channel_tiles : row_tiles;
    const std::int64_t copies = (reloaded && (t.projected() || !g.separable)) ? channel_tiles : 1;
    bytes += rows_loaded[j] * t.dram_row_bytes * copies;
    if (t.projected() && !g.inputs[j].folded) decoder_refetch_bytes += loads * t.side_bytes;
  }
  const bool weights_reloaded = order == LoopOrder::RowsOuter && channel_tiles > 1;
  bytes += g.work->weight_bytes * (weights_reloaded ? row_tiles : 1);
  if (g.output->in_dram) bytes += g.output->dram_image_bytes * g.batch;
  if (g.matrices_fit) {
    bytes += g.matrix_bytes;
  } else {
    bytes += decoder_refetch_bytes;
    if (g.output->projected()) bytes += row_tiles * g.output->side_bytes;
  }
  return bytes;
}

Tiling LayerScheduler::choose_tiling(int layer) const {
  const Geometry g = geometry(layer);
  const std::int64_t available = available_bytes(layer);
  // The objective is the layer's time if DMA and compute did not overlap, in bytes at the DRAM's
  // peak rate. Bytes alone would starve the PE array to save a few of them (a tile of 2 output
  // channels on 16 columns may move slightly fewer bytes than one of 32, and computes 8x slower);
  // a PE cycle weighs what the DRAM could have moved in it (docs/architecture.md).
  const double dram_bytes_per_cycle = arch_.dram.peak_bandwidth_bytes_per_s() / (arch_.clock_mhz * 1e6);
  const pe::OperandBits bits{arch_.datatypes.activation_bits, trace_.precision.weight_bits,
                             arch_.datatypes.accumulator_bits};
  Tiling best;
  double best_cost = std::numeric_limits<double>::infinity();
  std::int64_t smallest_need = std::numeric_limits<std::int64_t>::max();
  const std::vector<std::int64_t> channel_sizes = tile_sizes(g.out_channels);
  for (std::int64_t rows : tile_sizes(g.out_rows)) {
    const std::vector<std::int64_t> loaded = rows_loaded(g, rows);
    for (std::int64_t channels : channel_sizes) {
      const std::int64_t compute = predicted_compute_cycles(g, rows, channels, bits);
      const std::int64_t channel_tiles = ceil_div(g.out_channels, channels);
      for (LoopOrder order : {LoopOrder::ChannelsOuter, LoopOrder::RowsOuter}) {
        const std::int64_t need = buffer_bytes(g, rows, channels, order);
        smallest_need = std::min(smallest_need, need);
        if (need > available) continue;
        const std::int64_t row_tiles = ceil_div(g.out_rows, rows);
        const std::int64_t dram = predicted_dram_bytes(g, rows, channels, order, loaded);
        const double cost =
            static_cast<double>(dram + kTileOverheadBytes * row_tiles * channel_tiles * g.batch) +
            dram_bytes_per_cycle * static_cast<double>(compute);
        if (cost < best_cost) {
          best_cost = cost;
          best = Tiling{order, rows, channels, row_tiles, channel_tiles, need, dram};
        }
      }
    }
  }
  if (best_cost == std::numeric_limits<double>::infinity()) {
    const std::int64_t resident = placement_.resident_bytes[static_cast<std::size_t>(layer)];
    const std::string capacity = arch_.buffer.capacity_bytes >= buffer::kUnlimitedBytes
                                     ? "unlimited"
                                     : std::to_string(arch_.buffer.capacity_bytes) + " bytes";
    throw InputError(
        arch_.buffer.capacity_origin.file.empty() ? SourceLocation{arch_.file, 0}
                                                  : arch_.buffer.capacity_origin,
        arch_.buffer.capacity_key,
        fmt::format("a buffer large enough for the smallest tile of layer '{}' ({} bytes needed, {} "
                    "available{})",
                    g.layer->name, smallest_need, available,
                    resident > 0 ? fmt::format(" after {} bytes of resident activations: lower "
                                               "controller.resident_fraction",
                                               resident)
                                 : ""),
        capacity);
  }
  return best;
}

std::int64_t LayerScheduler::predicted_compute_cycles(const Geometry& g, std::int64_t rows,
                                                      std::int64_t channels,
                                                      const pe::OperandBits& bits) const {
  const TileSplit r = split(g.out_rows, rows), m = split(g.out_channels, channels);
  std::int64_t cycles = 0;
  for (const auto& [row_count, row_size] : {std::pair{r.full, rows}, std::pair{std::int64_t{1}, r.last}})
    for (const auto& [channel_count, channel_size] :
         {std::pair{m.full, channels}, std::pair{std::int64_t{1}, m.last}})
      if (row_count > 0 && row_size > 0 && channel_count > 0 && channel_size > 0)
        cycles += row_count * channel_count * compute_tile(g, 0, row_size, 0, channel_size, bits).cycles;
  return cycles * g.batch;
}

pe::PeWork LayerScheduler::compute_tile(const Geometry& g, std::int64_t r0, std::int64_t r1, std::int64_t m0,
                                        std::int64_t m1, const pe::OperandBits& bits) const {
  const trace::Layer& l = *g.layer;
  const std::int64_t elements = (r1 - r0) * g.out_cols * (m1 - m0);
  switch (l.op) {
    case trace::Op::Conv:
    case trace::Op::DwConv:
      return pe_.matmul(
          {(r1 - r0) * g.out_cols, m1 - m0, (g.work->input_channels / l.groups) * l.kernel_h * l.kernel_w,
           l.op == trace::Op::DwConv},
          bits);
    case trace::Op::Linear:
      return pe_.matmul({1, m1 - m0, g.work->input_channels * l.in_shape.h * l.in_shape.w}, bits);
    case trace::Op::Pool: {
      const std::int64_t ops = elements * l.kernel_h * l.kernel_w;  // one window operand per op
      return pe_.vector(ops, packed_bytes(ops, bits.activation), packed_bytes(elements, bits.activation));
    }
    case trace::Op::Add: {
      const auto n = static_cast<std::int64_t>(g.inputs.size());
      return pe_.vector(elements * (n - 1), packed_bytes(elements * n, bits.activation),
                        packed_bytes(elements, bits.activation));
    }
  }
  return {};
}

namespace {

// Builds the DMA transfers of one layer's tiles.
class TransferFactory {
 public:
  TransferFactory(const ArchSpec& arch) : b0_(arch.datatypes.activation_bits) {}

  // `folded`: the consumer reads the coefficients themselves (no decoder work, k values per pixel on chip).
  Transfer load(const TensorPlacement& t, std::int64_t image, std::int64_t row_begin, std::int64_t row_end,
                std::int64_t c0, std::int64_t c1, bool folded = false) const {
    Transfer x;
    x.traffic = TrafficClass::Activation;
    const std::int64_t rows = row_end - row_begin;
    const std::int64_t pixels = rows * t.shape.w;
    // A channel slice of a row is its share of the row's packed bytes, so that the slices of a row
    // add up to the row exactly whatever the bit width (a projected tensor has no channel slices:
    // every coefficient mixes all channels).
    const std::int64_t slice_offset = t.projected() ? 0 : share(t.dram_row_bytes, 0, c0, t.shape.c);
    x.address = t.address + static_cast<std::uint64_t>(image * t.dram_image_bytes +
                                                       row_begin * t.dram_row_bytes + slice_offset);
    x.onchip_bytes = packed_bytes(pixels * (c1 - c0), b0_);
    if (t.projected()) {
      const std::int64_t k = t.compression->k;
      x.bytes = rows * t.dram_row_bytes;
      x.quant_values = pixels * k;
      x.projection_macs = folded ? 0 : pixels * (c1 - c0) * k;
      if (folded) x.onchip_bytes = packed_bytes(pixels * k, b0_);
    } else {
      x.bytes = rows * share(t.dram_row_bytes, c0, c1, t.shape.c);
      x.quant_values = t.compression ? pixels * (c1 - c0) : 0;
    }
    return x;
  }

  Transfer store(const TensorPlacement& t, std::int64_t image, std::int64_t row_begin, std::int64_t row_end,
                 std::int64_t c0, std::int64_t c1) const {
    Transfer x = load(t, image, row_begin, row_end, c0, c1);
    if (t.projected()) x.projection_macs = (row_end - row_begin) * t.shape.w * t.shape.c * t.compression->k;
    return x;
  }

  static Transfer matrix(std::uint64_t address, std::int64_t bytes) {
    Transfer x;
    x.traffic = TrafficClass::ProjectionMatrix;
    x.address = address;
    x.bytes = bytes;
    return x;
  }

  static Transfer weights(std::uint64_t base, std::int64_t total, std::int64_t c0, std::int64_t c1,
                          std::int64_t channels) {
    Transfer x;
    x.traffic = TrafficClass::Weight;
    x.address = base + static_cast<std::uint64_t>(total * c0 / channels);
    x.bytes = share(total, c0, c1, channels);
    x.onchip_bytes = x.bytes;
    return x;
  }

 private:
  int b0_;
};

}  // namespace

std::vector<TileJob> LayerScheduler::build_tiles(int layer, const Tiling& tiling) const {
  const Geometry g = geometry(layer);
  const trace::Layer& l = *g.layer;
  const TransferFactory make(arch_);
  const int b0 = arch_.datatypes.activation_bits;
  const pe::OperandBits bits{b0, trace_.precision.weight_bits, arch_.datatypes.accumulator_bits};
  const std::int64_t row_tiles = ceil_div(g.out_rows, tiling.rows);
  const std::int64_t channel_tiles = ceil_div(g.out_channels, tiling.channels);
  const std::int64_t total_row_tiles = row_tiles * g.batch;

  std::vector<TileJob> jobs;
  jobs.reserve(static_cast<std::size_t>(total_row_tiles * channel_tiles));
  std::int64_t loaded_weights = -1;
  std::vector<std::int64_t> loaded_inputs(g.inputs.size(), -1);

  auto visit = [&](std::int64_t row_tile, std::int64_t channel_tile) {
    const std::int64_t image = row_tile / row_tiles;
    const std::int64_t r0 = (row_tile % row_tiles) * tiling.rows;
    const std::int64_t r1 = std::min(g.out_rows, r0 + tiling.rows);
    const std::int64_t m0 = channel_tile * tiling.channels;
    const std::int64_t m1 = std::min(g.out_channels, m0 + tiling.channels);
    TileJob job;
    if (jobs.empty() && g.matrices_fit && g.matrix_bytes > 0) {
      for (const auto& in : g.inputs)
        if (in.tensor->projected() && !in.folded)
          job.loads.push_back(make.matrix(in.tensor->decoder_address, in.tensor->side_bytes));
      if (g.output->projected())
        job.loads.push_back(make.matrix(g.output->encoder_address, g.output->side_bytes));
    }
    if (l.has_weights() && loaded_weights != channel_tile) {
      job.loads.push_back(make.weights(g.weight_address, g.work->weight_bytes, m0, m1, g.out_channels));
      loaded_weights = channel_tile;
    }
    for (std::size_t j = 0; j < g.inputs.size(); ++j) {
      const auto& in = g.inputs[j];
      const std::int64_t key = g.separable ? row_tile * channel_tiles + channel_tile : row_tile;
      if (!in.tensor->in_dram || loaded_inputs[j] == key) continue;
      loaded_inputs[j] = key;
      auto [a, b] = in.rows_needed(r0, r1);
      const std::int64_t c0 = g.separable ? m0 : 0, c1 = g.separable ? m1 : in.tensor->shape.c;
      if (in.tensor->projected() && !in.folded && !g.matrices_fit)
        job.loads.push_back(make.matrix(in.tensor->decoder_address, in.tensor->side_bytes));
      job.loads.push_back(make.load(*in.tensor, image, a, b, c0, c1, in.folded));
    }
    job.compute = compute_tile(g, r0, r1, m0, m1, bits);
    const TensorPlacement& out = *g.output;
    if (out.in_dram) {
      if (!out.projected()) {
        job.stores.push_back(make.store(out, image, r0, r1, m0, m1));
      } else if (channel_tile == channel_tiles - 1) {  // all channels of these rows are done
        if (!g.matrices_fit) job.loads.push_back(make.matrix(out.encoder_address, out.side_bytes));
        job.stores.push_back(make.store(out, image, r0, r1, 0, g.out_channels));
      }
    }
    jobs.push_back(std::move(job));
  };

  if (tiling.order == LoopOrder::ChannelsOuter) {
    for (std::int64_t m = 0; m < channel_tiles; ++m)
      for (std::int64_t r = 0; r < total_row_tiles; ++r) visit(r, m);
  } else {
    for (std::int64_t r = 0; r < total_row_tiles; ++r)
      for (std::int64_t m = 0; m < channel_tiles; ++m) visit(r, m);
  }
  return jobs;
}

TileNeeds tile_needs(const trace::Trace& trace, const ArchSpec& arch) {
  TileNeeds needs;
  needs.one_row_tiles = [&trace, &arch](const Placement& p) {
    const LayerScheduler scheduler(trace, p, arch);
    std::vector<std::int64_t> bytes;
    for (std::size_t l = 0; l < trace.layers.size(); ++l)
      bytes.push_back(scheduler.buffer_bytes(static_cast<int>(l), 1, 1));
    return bytes;
  };
  needs.smallest_fits = [&trace, &arch](const Placement& p, int layer) {
    const LayerScheduler scheduler(trace, p, arch);
    return scheduler.smallest_buffer_bytes(layer) <= scheduler.available_bytes(layer);
  };
  return needs;
}

Placement place_tensors(const trace::Trace& trace, const ArchSpec& arch) {
  return place_tensors(trace, arch, tile_needs(trace, arch));
}

}  // namespace capsim::sim
