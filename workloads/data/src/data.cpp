#include "capsim/workloads/data.hpp"

#include <algorithm>
#include <boost/iostreams/copy.hpp>
#include <boost/iostreams/device/array.hpp>
#include <boost/iostreams/device/back_inserter.hpp>
#include <boost/iostreams/filter/gzip.hpp>
#include <boost/iostreams/filtering_stream.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "capsim/common/atomic_file.hpp"
#include "capsim/common/error.hpp"

namespace capsim::workloads {
namespace {

constexpr std::int64_t kClasses = 10;
constexpr std::uint32_t kIdxImagesMagic = 0x00000803;  // unsigned bytes, 3 dimensions
constexpr std::uint32_t kIdxLabelsMagic = 0x00000801;  // unsigned bytes, 1 dimension
constexpr std::int64_t kCifarRecord = 1 + 3 * 32 * 32;

std::string hex32(std::uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", value);
  return text;
}

// The file's bytes, gunzipped when the file starts with the gzip magic.
std::string read_maybe_gzip(const std::string& file) {
  std::string raw = read_file(file);
  if (raw.size() < 2 || static_cast<unsigned char>(raw[0]) != 0x1f ||
      static_cast<unsigned char>(raw[1]) != 0x8b)
    return raw;
  namespace io = boost::iostreams;
  std::string out;
  try {
    io::filtering_istream in;
    in.push(io::gzip_decompressor());
    in.push(io::array_source(raw.data(), raw.size()));
    in.exceptions(std::ios::badbit);
    io::copy(in, io::back_inserter(out));
  } catch (const std::exception& e) {
    throw InputError({file, 0}, std::string("corrupt or truncated gzip data (") + e.what() + ")");
  }
  return out;
}

std::uint32_t big_endian32(const std::string& bytes, std::size_t offset) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + offset);
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

// Validated header of an IDX file: magic, then `dims` big-endian sizes, then exactly the data.
std::vector<std::int64_t> idx_header(const std::string& file, const std::string& bytes, std::uint32_t magic,
                                     int dims, const char* what) {
  const std::size_t header = 4 + 4 * static_cast<std::size_t>(dims);
  if (bytes.size() < header)
    throw InputError({file, 0}, "truncated IDX file: " + std::to_string(bytes.size()) +
                                    " bytes, shorter than the " + std::to_string(header) + "-byte header");
  const std::uint32_t got = big_endian32(bytes, 0);
  if (got != magic)
    throw InputError({file, 0}, "not an IDX " + std::string(what) + " file: expected magic number " +
                                    hex32(magic) + ", got " + hex32(got));
  std::vector<std::int64_t> sizes;
  std::int64_t payload = 1;
  for (int d = 0; d < dims; ++d) {
    sizes.push_back(big_endian32(bytes, 4 + 4 * d));
    if (sizes.back() <= 0 || sizes.back() > (1 << 24))
      throw InputError(
          {file, 0}, "implausible IDX dimension " + std::to_string(d) + ": " + std::to_string(sizes.back()));
    payload *= sizes.back();
  }
  const std::size_t expected = header + static_cast<std::size_t>(payload);
  if (bytes.size() != expected)
    throw InputError({file, 0}, std::string(bytes.size() < expected ? "truncated" : "oversized") +
                                    " IDX file: the header announces " + std::to_string(expected) +
                                    " bytes, the (decompressed) file holds " + std::to_string(bytes.size()));
  return sizes;
}

torch::Tensor bytes_to_tensor(const std::string& bytes, std::size_t offset, std::vector<std::int64_t> shape) {
  auto tensor = torch::empty(shape, torch::kUInt8);
  std::memcpy(tensor.data_ptr<std::uint8_t>(), bytes.data() + offset,
              static_cast<std::size_t>(tensor.numel()));
  return tensor;
}

void check_labels(const torch::Tensor& labels, std::int64_t classes, const std::string& file) {
  if (labels.numel() == 0) return;
  const std::int64_t max = labels.max().item<std::int64_t>();
  if (max < classes) return;
  const std::int64_t at = (labels >= classes).nonzero()[0][0].item<std::int64_t>();
  throw InputError({file, 0}, "label " + std::to_string(labels[at].item<std::int64_t>()) + " of record " +
                                  std::to_string(at) + " is outside 0.." + std::to_string(classes - 1));
}

torch::Tensor pad_to(const torch::Tensor& images, std::int64_t height, std::int64_t width) {
  const std::int64_t top = (height - images.size(2)) / 2, left = (width - images.size(3)) / 2;
  auto out = torch::zeros({images.size(0), images.size(1), height, width}, torch::kUInt8);
  out.narrow(2, top, images.size(2)).narrow(3, left, images.size(3)).copy_(images);
  return out;
}

std::string join(const std::string& dir, const std::string& name) {
  return (std::filesystem::path(dir) / name).string();
}

void require_file(const std::string& path, const std::string& hint) {
  if (!std::filesystem::is_regular_file(path))
    throw InputError({path, 0}, "data file not found (" + hint + ")");
}

ImageSet concat(const std::vector<ImageSet>& parts) {
  std::vector<torch::Tensor> images, labels;
  for (const auto& part : parts) {
    images.push_back(part.images);
    labels.push_back(part.labels);
  }
  return {torch::cat(images), torch::cat(labels)};
}

}  // namespace

// ---- Rng ------------------------------------------------------------------------------------

std::uint64_t Rng::next() {
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t Rng::below(std::uint64_t n) {
  // Reject the first 2^64 mod n values so that every residue is equally likely.
  const std::uint64_t threshold = (0 - n) % n;
  for (;;) {
    const std::uint64_t x = next();
    if (x >= threshold) return x % n;
  }
}

std::vector<std::int64_t> permutation(std::int64_t n, Rng& rng) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) order[i] = i;
  for (std::int64_t i = n - 1; i > 0; --i)
    std::swap(order[i], order[rng.below(static_cast<std::uint64_t>(i) + 1)]);
  return order;
}

// ---- ImageSet and normalisation -------------------------------------------------------------

ImageSet ImageSet::subset(const torch::Tensor& indices) const {
  return {images.index_select(0, indices), labels.index_select(0, indices)};
}

ImageSet ImageSet::head(std::int64_t n) const {
  n = std::min(n, size());
  return {images.narrow(0, 0, n), labels.narrow(0, 0, n)};
}

torch::Tensor normalize(const torch::Tensor& images, const Normalization& norm) {
  const auto channels = static_cast<std::int64_t>(norm.mean.size());
  auto mean = torch::tensor(norm.mean, torch::kFloat64).to(torch::kFloat32).view({1, channels, 1, 1});
  auto std = torch::tensor(norm.std, torch::kFloat64).to(torch::kFloat32).view({1, channels, 1, 1});
  // One fused multiply-add per pixel: (x/255 - mean)/std = x * (1/(255 std)) - mean/std.
  return torch::addcmul(-mean / std, images.to(torch::kFloat32), 1.0f / (255.0f * std));
}

// ---- file formats ---------------------------------------------------------------------------

ImageSet read_idx(const std::string& images_file, const std::string& labels_file) {
  const std::string image_bytes = read_maybe_gzip(images_file);
  const auto dims = idx_header(images_file, image_bytes, kIdxImagesMagic, 3, "image (idx3-ubyte)");
  const std::string label_bytes = read_maybe_gzip(labels_file);
  const auto count = idx_header(labels_file, label_bytes, kIdxLabelsMagic, 1, "label (idx1-ubyte)");
  if (count[0] != dims[0])
    throw InputError({labels_file, 0}, "holds " + std::to_string(count[0]) + " labels but " + images_file +
                                           " holds " + std::to_string(dims[0]) + " images");
  ImageSet set;
  set.images = bytes_to_tensor(image_bytes, 16, {dims[0], 1, dims[1], dims[2]});
  set.labels = bytes_to_tensor(label_bytes, 8, {count[0]}).to(torch::kInt64);
  return set;
}

std::string default_fashion_mnist_dir() {
  const char* env = std::getenv("CAPSIM_FASHION_MNIST_DIR");
  return env && *env ? env : CAPSIM_FASHION_MNIST_DIR;
}

ImageSet load_fashion_mnist(const std::string& dir, const std::string& part) {
  const std::string images = join(dir, part + "-images-idx3-ubyte.gz");
  const std::string labels = join(dir, part + "-labels-idx1-ubyte.gz");
  const char* hint = "install the Debian package dataset-fashion-mnist, or set data.dir";
  require_file(images, hint);
  require_file(labels, hint);
  ImageSet set = read_idx(images, labels);
  if (set.images.size(2) != 28 || set.images.size(3) != 28)
    throw InputError({images, 0}, "expected 28x28 Fashion-MNIST images, got " +
                                      std::to_string(set.images.size(2)) + "x" +
                                      std::to_string(set.images.size(3)));
  check_labels(set.labels, kClasses, labels);
  set.images = pad_to(set.images, 32, 32);
  return set;
}

ImageSet read_cifar10_file(const std::string& file) {
  const std::string bytes = read_file(file);
  const auto size = static_cast<std::int64_t>(bytes.size());
  if (size == 0 || size % kCifarRecord != 0)
    throw InputError({file, 0}, "size " + std::to_string(size) +
                                    " bytes is not a positive multiple of the CIFAR-10 record size " +
                                    std::to_string(kCifarRecord) + " (1 label byte + 3x32x32 pixel bytes)");
  auto records = bytes_to_tensor(bytes, 0, {size / kCifarRecord, kCifarRecord});
  ImageSet set;
  set.labels = records.select(1, 0).to(torch::kInt64);
  set.images = records.narrow(1, 1, kCifarRecord - 1).reshape({-1, 3, 32, 32}).contiguous();
  check_labels(set.labels, kClasses, file);
  return set;
}

ImageSet load_cifar10(const std::string& dir, bool train) {
  std::vector<std::string> names;
  if (train) {
    for (int i = 1; i <= 5; ++i) names.push_back("data_batch_" + std::to_string(i) + ".bin");
  } else {
    names.push_back("test_batch.bin");
  }
  std::vector<ImageSet> parts;
  for (const auto& name : names) {
    require_file(join(dir, name), "set data.dir to the folder holding the CIFAR-10 binary version");
    parts.push_back(read_cifar10_file(join(dir, name)));
  }
  return concat(parts);
}

// ---- splits and subsets ---------------------------------------------------------------------

torch::Tensor balanced_subset(const torch::Tensor& labels, std::int64_t classes, std::int64_t per_class,
                              std::uint64_t seed) {
  auto contiguous = labels.to(torch::kInt64).contiguous();
  const auto* label = contiguous.data_ptr<std::int64_t>();
  std::vector<std::vector<std::int64_t>> members(static_cast<std::size_t>(classes));
  for (std::int64_t i = 0; i < contiguous.numel(); ++i)
    if (label[i] >= 0 && label[i] < classes) members[label[i]].push_back(i);

  Rng rng(seed);
  std::vector<std::int64_t> chosen;
  for (std::int64_t c = 0; c < classes; ++c) {
    auto& list = members[c];
    if (static_cast<std::int64_t>(list.size()) < per_class)
      throw InputError({"class-balanced subset", 0}, "asked for " + std::to_string(per_class) +
                                                         " images per class, but class " + std::to_string(c) +
                                                         " has only " + std::to_string(list.size()));
    for (std::int64_t k : permutation(static_cast<std::int64_t>(list.size()), rng)) {
      if (static_cast<std::int64_t>(chosen.size()) == (c + 1) * per_class) break;
      chosen.push_back(list[k]);
    }
  }
  std::sort(chosen.begin(), chosen.end());
  return torch::tensor(chosen, torch::kInt64);
}

SplitIndices split_train_val(const torch::Tensor& labels, std::int64_t classes, std::int64_t val_per_class,
                             std::uint64_t seed) {
  SplitIndices split;
  split.val = balanced_subset(labels, classes, val_per_class, seed);
  auto in_val = torch::zeros({labels.size(0)}, torch::kBool);
  in_val.index_fill_(0, split.val, true);
  split.train = torch::logical_not(in_val).nonzero().flatten();
  return split;
}

// ---- a loaded data set ----------------------------------------------------------------------

std::vector<std::string> dataset_names() { return {"cifar10", "fashion-mnist"}; }

Normalization dataset_normalization(const std::string& dataset) {
  // Fashion-MNIST: measured on the 60k training images after padding to 32x32 (the zero border
  // lowers both numbers from the usual 28x28 values 0.2860 / 0.3530).
  if (dataset == "fashion-mnist") return {{0.2190}, {0.3318}};
  // CIFAR-10: the usual per-channel values of the 50k training images.
  if (dataset == "cifar10") return {{0.4914, 0.4822, 0.4465}, {0.2470, 0.2435, 0.2616}};
  throw InputError({"data.dataset", 0},
                   "unknown data set '" + dataset + "' (expected 'fashion-mnist' or 'cifar10')");
}

Dataset load_dataset(const DataSpec& spec) {
  Dataset data;
  data.name = spec.dataset;
  data.norm = dataset_normalization(spec.dataset);
  ImageSet all;
  if (spec.dataset == "fashion-mnist") {
    const std::string dir = spec.dir.empty() ? default_fashion_mnist_dir() : spec.dir;
    all = load_fashion_mnist(dir, "train");
    data.test = load_fashion_mnist(dir, "t10k");
  } else {
    if (spec.dir.empty())
      throw InputError({"data.dir", 0},
                       "CIFAR-10 has no default location: set data.dir to the folder "
                       "holding data_batch_1.bin .. data_batch_5.bin and test_batch.bin");
    all = load_cifar10(spec.dir, true);
    data.test = load_cifar10(spec.dir, false);
  }
  const SplitIndices split = split_train_val(all.labels, data.classes, spec.val_per_class, spec.split_seed);
  data.train = all.subset(split.train);
  data.val = all.subset(split.val);
  return data;
}

ImageSet calibration_set(const Dataset& data, std::int64_t per_class, std::uint64_t seed) {
  return data.val.subset(balanced_subset(data.val.labels, data.classes, per_class, seed));
}

LabeledTensors normalized(const ImageSet& set, const Normalization& norm, std::int64_t limit) {
  const ImageSet part = limit > 0 ? set.head(limit) : set;
  return {normalize(part.images, norm), part.labels};
}

// ---- augmentation ---------------------------------------------------------------------------

torch::Tensor augment(const torch::Tensor& images, const AugmentOptions& options, Rng& rng) {
  const std::int64_t n = images.size(0), height = images.size(2), width = images.size(3);
  const std::int64_t pad = options.crop_padding;
  const torch::Tensor padded = pad > 0 ? pad_to(images, height + 2 * pad, width + 2 * pad) : images;
  auto out = torch::empty_like(images);
  for (std::int64_t i = 0; i < n; ++i) {
    // Always draw in the same order (row, column, flip) so that a seed fixes every choice.
    const auto dy = pad > 0 ? static_cast<std::int64_t>(rng.below(2 * pad + 1)) : 0;
    const auto dx = pad > 0 ? static_cast<std::int64_t>(rng.below(2 * pad + 1)) : 0;
    const bool flip = options.horizontal_flip && rng.coin();
    auto crop = padded[i].narrow(1, dy, height).narrow(2, dx, width);
    out[i].copy_(flip ? crop.flip({2}) : crop);
  }
  return out;
}

}  // namespace capsim::workloads
