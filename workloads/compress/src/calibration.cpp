// Compression points, PCA calibration, plan costs and the baseline allocations.
#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <sstream>

#include "capsim/common/atomic_file.hpp"
#include "capsim/common/error.hpp"
#include "capsim/workloads/compress.hpp"

namespace capsim::workloads {
namespace {

// A node output as rows of channel vectors: [N, C, H, W] -> [N*H*W, C]; [N, F] stays.
torch::Tensor as_rows(const torch::Tensor& x) {
  return x.dim() == 4 ? x.permute({0, 2, 3, 1}).reshape({-1, x.size(1)}) : x.reshape({x.size(0), -1});
}

struct Accumulator {
  torch::Tensor sum, outer, min, max, clip;
  std::int64_t rows = 0;
};

std::vector<int> node_to_point(const GraphNet& net, const std::vector<CompressionPoint>& points) {
  std::vector<int> map(static_cast<std::size_t>(net->num_nodes()), -1);
  for (std::size_t p = 0; p < points.size(); ++p)
    map[static_cast<std::size_t>(points[p].node)] = static_cast<int>(p);
  return map;
}

// Runs the calibration images through the network, calling visit(point, rows) at every point.
template <class Visit>
void for_each_point_rows(GraphNet& net, const torch::Tensor& inputs, std::int64_t batch_size,
                         const std::vector<int>& map, Visit&& visit) {
  torch::NoGradGuard no_grad;
  const bool was_training = net->is_training();
  net->eval();
  for (std::int64_t start = 0; start < inputs.size(0); start += batch_size) {
    const auto batch = inputs.slice(0, start, std::min(inputs.size(0), start + batch_size));
    net->forward(batch, [&](int node, const torch::Tensor& out) {
      if (const int p = map[static_cast<std::size_t>(node)]; p >= 0)
        visit(static_cast<std::size_t>(p), as_rows(out));
      return out;
    });
  }
  net->train(was_training);
}

PointStatistics finish_pca(const Accumulator& a) {
  const double n = static_cast<double>(a.rows);
  const torch::Tensor mean = a.sum / n;
  torch::Tensor cov = a.outer / n - torch::outer(mean, mean);
  cov = (cov + cov.t()) / 2;                               // exact symmetry for eigh
  auto [values, vectors] = torch::linalg::eigh(cov, "L");  // ascending
  values = values.flip({0}).clamp_min(0.0);
  vectors = vectors.flip({1});
  PointStatistics s;
  s.mean = mean.to(torch::kFloat32);
  s.basis = vectors.to(torch::kFloat32).contiguous();
  s.variances = values.to(torch::kFloat32);
  s.channel_min = a.min;
  s.channel_max = a.max;
  return s;
}

// CRC-32 of a calibration's contents (names, shapes and bytes of every entry, in file order): the
// zip container LibTorch writes does not check its own CRCs, so a damaged tensor would otherwise
// load and fail later inside LibTorch.
class ContentCrc {
 public:
  void add(const std::string& name, const torch::Tensor& t) {
    bytes(name.data(), name.size());
    const torch::Tensor flat = t.contiguous();
    for (const auto size : flat.sizes()) bytes(&size, sizeof size);
    bytes(flat.data_ptr(), flat.nbytes());
  }
  void add(const std::string& name, const std::string& text) {
    bytes(name.data(), name.size());
    bytes(text.data(), text.size());
  }
  std::int64_t value() const { return static_cast<std::int64_t>(crc_); }

 private:
  void bytes(const void* data, std::size_t size) {
    const auto* p = static_cast<const Bytef*>(data);
    while (size > 0) {
      const auto chunk = static_cast<uInt>(std::min<std::size_t>(size, 1u << 30));
      crc_ = ::crc32(crc_, p, chunk);
      p += chunk;
      size -= chunk;
    }
  }
  uLong crc_ = ::crc32(0L, Z_NULL, 0);
};

std::int64_t positive_k(double value, std::int64_t channels) {
  return std::clamp<std::int64_t>(static_cast<std::int64_t>(std::llround(value)), 1, channels);
}

}  // namespace

std::vector<CompressionPoint> compression_points(const GraphNet& net, const trace::Shape& input) {
  const auto shapes = net->output_shapes(input);
  const auto& consumers = net->consumers();
  std::vector<CompressionPoint> points;
  for (int i = 0; i < net->num_nodes(); ++i) {
    const auto& readers = consumers[static_cast<std::size_t>(i)];
    if (readers.empty()) continue;
    const trace::Shape& s = shapes[static_cast<std::size_t>(i)];
    points.push_back({i, net->nodes()[static_cast<std::size_t>(i)].name, s.c, s.h * s.w,
                      static_cast<std::int64_t>(readers.size())});
  }
  return points;
}

double Calibration::explained(std::size_t p, std::int64_t k) const {
  const auto& v = stats[p].variances;
  const double total = v.sum().item<double>();
  return total > 0 ? v.slice(0, 0, k).sum().item<double>() / total : 1.0;
}

std::int64_t Calibration::k_for_variance(std::size_t p, double fraction) const {
  const auto cumulative = stats[p].variances.to(torch::kFloat64).cumsum(0);
  const double total = cumulative[-1].item<double>();
  const std::int64_t channels = points[p].channels;
  if (total <= 0) return 1;
  const auto* c = cumulative.data_ptr<double>();
  for (std::int64_t k = 1; k <= channels; ++k)
    if (c[k - 1] >= fraction * total) return k;
  return channels;
}

Calibration calibrate(GraphNet& net, const torch::Tensor& inputs, std::int64_t batch_size) {
  Calibration cal;
  cal.model = net->info().model;
  cal.input = {inputs.size(1), inputs.size(2), inputs.size(3)};
  cal.images = inputs.size(0);
  cal.points = compression_points(net, cal.input);
  const auto map = node_to_point(net, cal.points);
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);

  std::vector<Accumulator> acc(cal.points.size());
  for (std::size_t p = 0; p < acc.size(); ++p) {
    const std::int64_t c = cal.points[p].channels;
    acc[p].sum = torch::zeros({c}, f64);
    acc[p].outer = torch::zeros({c, c}, f64);
    acc[p].min = torch::full({c}, std::numeric_limits<float>::infinity());
    acc[p].max = torch::full({c}, -std::numeric_limits<float>::infinity());
  }
  for_each_point_rows(net, inputs, batch_size, map, [&](std::size_t p, const torch::Tensor& rows) {
    const auto x = rows.to(torch::kFloat64);
    acc[p].sum += x.sum(0);
    acc[p].outer.addmm_(x.t(), x);
    acc[p].rows += x.size(0);
    acc[p].min = torch::minimum(acc[p].min, std::get<0>(rows.min(0)));
    acc[p].max = torch::maximum(acc[p].max, std::get<0>(rows.max(0)));
  });
  for (auto& a : acc) cal.stats.push_back(finish_pca(a));

  // Second pass: the range of every coefficient on the full basis sets the quantization clip.
  for (auto& s : cal.stats) s.coefficient_clip = torch::zeros_like(s.mean);
  for_each_point_rows(net, inputs, batch_size, map, [&](std::size_t p, const torch::Tensor& rows) {
    auto& s = cal.stats[p];
    const auto coefficients = (rows - s.mean).mm(s.basis);
    s.coefficient_clip = torch::maximum(s.coefficient_clip, std::get<0>(coefficients.abs().max(0)));
  });
  for (auto& s : cal.stats) s.coefficient_clip.clamp_min_(1e-8);
  return cal;
}

void save_calibration(const Calibration& cal, const std::string& path) {
  torch::serialize::OutputArchive archive;
  ContentCrc crc;
  auto tensor = [&](const std::string& key, const torch::Tensor& t) {
    archive.write(key, t);
    crc.add(key, t);
  };
  auto text = [&](const std::string& key, const std::string& value) {
    archive.write(key, c10::IValue(value));
    crc.add(key, value);
  };
  text("model", cal.model);
  tensor("input", torch::tensor({cal.input.c, cal.input.h, cal.input.w}));
  tensor("images", torch::tensor(cal.images));
  tensor("points", torch::tensor(static_cast<std::int64_t>(cal.points.size())));
  for (std::size_t p = 0; p < cal.points.size(); ++p) {
    const auto& pt = cal.points[p];
    const auto& s = cal.stats[p];
    const std::string key = "p" + std::to_string(p) + ".";
    text(key + "name", pt.name);
    tensor(key + "shape",
           torch::tensor({static_cast<std::int64_t>(pt.node), pt.channels, pt.pixels, pt.consumers}));
    tensor(key + "mean", s.mean);
    tensor(key + "basis", s.basis);
    tensor(key + "variances", s.variances);
    tensor(key + "clip", s.coefficient_clip);
    tensor(key + "min", s.channel_min);
    tensor(key + "max", s.channel_max);
  }
  archive.write("checksum", torch::tensor(crc.value()));
  std::ostringstream bytes;
  archive.save_to(bytes);
  write_file_atomic(path, bytes.str());  // flushed, renamed; a full disk leaves no partial file
}

Calibration load_calibration(const std::string& path) {
  Calibration cal;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    ContentCrc crc;
    c10::IValue value;
    archive.read("model", value);
    if (!value.isString())
      throw InputError({path, 0}, "not a capsim calibration (entry 'model' is not text)");
    cal.model = value.toStringRef();
    crc.add("model", cal.model);
    torch::Tensor t;
    auto read = [&](const std::string& key, torch::Tensor& out) {
      archive.read(key, out);
      crc.add(key, out);
    };
    auto scalar = [&](const std::string& key, std::int64_t count) {
      read(key, t);
      if (t.numel() != count || t.scalar_type() != torch::kInt64)
        throw InputError({path, 0}, "not a capsim calibration (entry '" + key + "' has the wrong shape)");
    };
    scalar("input", 3);
    cal.input = {t[0].item<std::int64_t>(), t[1].item<std::int64_t>(), t[2].item<std::int64_t>()};
    scalar("images", 1);
    cal.images = t.item<std::int64_t>();
    scalar("points", 1);
    const std::int64_t count = t.item<std::int64_t>();
    for (std::int64_t p = 0; p < count; ++p) {
      const std::string key = "p" + std::to_string(p) + ".";
      CompressionPoint pt;
      archive.read(key + "name", value);
      if (!value.isString())
        throw InputError({path, 0}, "not a capsim calibration (entry '" + key + "name' is not text)");
      pt.name = value.toStringRef();
      crc.add(key + "name", pt.name);
      scalar(key + "shape", 4);
      pt.node = static_cast<int>(t[0].item<std::int64_t>());
      pt.channels = t[1].item<std::int64_t>();
      pt.pixels = t[2].item<std::int64_t>();
      pt.consumers = t[3].item<std::int64_t>();
      PointStatistics s;
      read(key + "mean", s.mean);
      read(key + "basis", s.basis);
      read(key + "variances", s.variances);
      read(key + "clip", s.coefficient_clip);
      read(key + "min", s.channel_min);
      read(key + "max", s.channel_max);
      const auto c = pt.channels;
      const bool vectors_fit = s.mean.numel() == c && s.variances.numel() == c &&
                               s.coefficient_clip.numel() == c && s.channel_min.numel() == c &&
                               s.channel_max.numel() == c;
      if (s.basis.dim() != 2 || s.basis.size(0) != c || s.basis.size(1) != c || !vectors_fit)
        throw InputError({path, 0}, "calibration of point '" + pt.name + "' has tensors of the wrong shape");
      cal.points.push_back(pt);
      cal.stats.push_back(s);
    }
    // Calibrations written before the checksum have none; a damaged one fails here.
    if (archive.try_read("checksum", t) &&
        (t.numel() != 1 || t.scalar_type() != torch::kInt64 || t.item<std::int64_t>() != crc.value()))
      throw InputError({path, 0},
                       "checksum mismatch: the calibration is corrupt (written partially or damaged "
                       "since); run capsim calibrate again");
  } catch (const c10::Error& e) {
    throw InputError({path, 0},
                     std::string("not a readable capsim calibration: ") + e.what_without_backtrace());
  }
  return cal;
}

void check_calibration_matches(const Calibration& cal, const GraphNet& net, const std::string& file) {
  const auto expected = compression_points(net, cal.input);
  bool same = cal.model == net->info().model && expected.size() == cal.points.size();
  for (std::size_t p = 0; same && p < expected.size(); ++p)
    same = expected[p].name == cal.points[p].name && expected[p].channels == cal.points[p].channels &&
           expected[p].node == cal.points[p].node;
  if (!same)
    throw InputError({file, 0},
                     fmt::format("a calibration of this {} network (width {}): its compression points differ",
                                 net->info().model, net->info().options.width));
}

std::string explained_variance_csv(const Calibration& cal) {
  std::string out = "point,channels,k,explained_variance\n";
  for (std::size_t p = 0; p < cal.points.size(); ++p) {
    const auto cumulative = cal.stats[p].variances.to(torch::kFloat64).cumsum(0);
    const double total = std::max(cumulative[-1].item<double>(), 1e-30);
    const auto* c = cumulative.data_ptr<double>();
    for (std::int64_t k = 1; k <= cal.points[p].channels; ++k)
      out +=
          fmt::format("{},{},{},{:.6f}\n", cal.points[p].name, cal.points[p].channels, k, c[k - 1] / total);
  }
  return out;
}

// ---- plans and their cost -----------------------------------------------------------------------

KeptDims full_dims(const Calibration& cal) {
  KeptDims k;
  for (const auto& p : cal.points) k.push_back(p.channels);
  return k;
}

double access_bits(const std::vector<CompressionPoint>& points, const KeptDims& k, const QuantSettings& q,
                   int reference_bits) {
  double bits = 0;
  for (std::size_t p = 0; p < points.size(); ++p) {
    const auto& pt = points[p];
    const bool projected = k[p] < pt.channels;
    const int width = projected ? q.bits_at(p, true) : q.narrowed(p) ? q.point_bits[p] : reference_bits;
    const double per_pixel = static_cast<double>(projected ? k[p] : pt.channels) * width;
    bits += static_cast<double>(1 + pt.consumers) * static_cast<double>(pt.pixels) * per_pixel;
  }
  return bits;
}

double overhead_bits(const std::vector<CompressionPoint>& points, const KeptDims& k, const QuantSettings& q) {
  double bits = 0;
  for (std::size_t p = 0; p < points.size(); ++p) {
    const auto& pt = points[p];
    if (k[p] >= pt.channels) continue;
    const double side = static_cast<double>(k[p] * pt.channels + pt.channels + k[p]) * q.matrix_bits;
    bits += static_cast<double>(1 + pt.consumers) * side;
  }
  return bits;
}

Reduction reduction_of(const std::vector<CompressionPoint>& points, const KeptDims& k,
                       const QuantSettings& q) {
  KeptDims full;
  for (const auto& p : points) full.push_back(p.channels);
  const QuantSettings reference = q.with_point_bits({});  // every point at the reference width
  const double base8 = access_bits(points, full, reference, 8),
               base16 = access_bits(points, full, reference, 16);
  // The plan as its accuracy is measured: full-dimension points at the baseline width b0 (8 bits
  // by default), against either reference. Counting them at 16 bits against the 16-bit reference
  // would cost a plan bits it does not store, and rank it below the 8-bit network itself (2x).
  const double plan = access_bits(points, k, q, q.baseline_bits);
  const double extra = overhead_bits(points, k, q);
  return {base8 / plan, base16 / plan, base8 / (plan + extra), base16 / (plan + extra)};
}

trace::Plan to_plan(const Calibration& cal, const KeptDims& k, const QuantSettings& q,
                    const std::string& name, const std::string& method,
                    const std::vector<PointMeasure>& measures) {
  trace::Plan plan;
  plan.kind = trace::Plan::Kind::PerLayer;
  plan.name = name;
  plan.model = cal.model;
  plan.method = method;
  plan.bits = q.coefficient_bits;
  plan.component_bits = to_string(q.component_bits);
  for (std::size_t p = 0; p < cal.points.size(); ++p) {
    const bool projected = k[p] < cal.points[p].channels;
    if (!projected && !q.narrowed(p)) continue;  // stored at the architecture's activation width
    const int bits = q.bits_at(p, projected);
    trace::PlanEntry e{cal.points[p].channels, k[p], bits, {}, {}};
    if (p < measures.size()) {
      e.entropy_bits_per_value = std::min<double>(measures[p].entropy_bits_per_value, bits);
      e.nrmse = measures[p].nrmse;
    }
    plan.layers[cal.points[p].name] = e;
  }
  return plan;
}

KeptDims dims_from_plan(const Calibration& cal, const trace::Plan& plan, PointBits* bits, int baseline_bits) {
  KeptDims k = full_dims(cal);
  PointBits widths(cal.points.size(), baseline_bits);
  bool mixed = false;
  for (const auto& layer : plan.layers) {
    const auto& [name, entry] = layer;
    // C++17 lambdas cannot capture a structured binding: compare with the pair's member.
    auto it = std::find_if(cal.points.begin(), cal.points.end(),
                           [&](const auto& p) { return p.name == layer.first; });
    if (it == cal.points.end())
      throw InputError({plan.name, 0}, "layers." + name, "a compression point of " + cal.model);
    const auto p = static_cast<std::size_t>(it - cal.points.begin());
    k[p] = trace::scale_k(entry.k, entry.channels, it->channels);
    widths[p] = entry.bits;
    mixed = mixed || entry.bits != baseline_bits;
  }
  if (bits) *bits = mixed ? widths : PointBits{};
  return k;
}

QuantSettings quantization_of(const trace::Plan& plan, PointBits bits, int bits_override) {
  QuantSettings q;
  q.coefficient_bits = bits_override > 0 ? bits_override : plan.bits;
  if (bits_override == 0) q.point_bits = std::move(bits);
  const auto allocation = component_bits_from_string(plan.component_bits);
  if (!allocation)
    throw InputError({plan.name, 0}, "component_bits",
                     "uniform or variance, not \"" + plan.component_bits + "\"");
  q.component_bits = *allocation;
  return q;
}

// ---- baselines --------------------------------------------------------------------------------

KeptDims uniform_dims(const Calibration& cal, double ratio) {
  KeptDims k;
  for (const auto& p : cal.points)
    k.push_back(positive_k(ratio * static_cast<double>(p.channels), p.channels));
  return k;
}

KeptDims variance_dims(const Calibration& cal, double fraction) {
  KeptDims k;
  for (std::size_t p = 0; p < cal.points.size(); ++p) k.push_back(cal.k_for_variance(p, fraction));
  return k;
}

KeptDims ceiling_dims(const Calibration& cal, const QuantSettings& q, double ceiling_bits) {
  KeptDims k;
  for (const auto& p : cal.points) {
    const double size = static_cast<double>(p.channels * p.pixels) * q.baseline_bits;
    if (size <= ceiling_bits) {
      k.push_back(p.channels);
      continue;
    }
    const double fit = std::floor(ceiling_bits / (static_cast<double>(p.pixels) * q.coefficient_bits));
    k.push_back(std::clamp<std::int64_t>(static_cast<std::int64_t>(fit), 1, p.channels));
  }
  return k;
}

}  // namespace capsim::workloads
