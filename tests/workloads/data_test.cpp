// capsim_data: Fashion-MNIST and CIFAR-10 readers, the train/validation split, balanced subsets,
// normalisation and augmentation.
#include "capsim/workloads/data.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "capsim/common/error.hpp"
#include "input_error.hpp"
#include "run_command.hpp"

namespace capsim::workloads {
namespace {

namespace fs = std::filesystem;

using testing::error_of;

using TempDir = capsim::testing::TempDir;  // a fresh directory, removed with the object

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void write_gzip(const fs::path& path, const std::string& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr);
  ASSERT_EQ(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  gzclose(file);
}

// The first `n` decompressed bytes of a .gz file, read with zlib (independently of the loader).
std::string gunzip_head(const std::string& path, std::size_t n) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file) return "";
  std::string bytes(n, '\0');
  const int got = gzread(file, bytes.data(), static_cast<unsigned>(n));
  gzclose(file);
  bytes.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
  return bytes;
}

std::string big_endian(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::string fmnist(const std::string& name) {
  return (fs::path(default_fashion_mnist_dir()) / name).string();
}

std::vector<std::int64_t> class_counts(const torch::Tensor& labels) {
  auto counts = torch::bincount(labels, {}, 10);
  return std::vector<std::int64_t>(counts.data_ptr<std::int64_t>(), counts.data_ptr<std::int64_t>() + 10);
}

// ---- Rng ------------------------------------------------------------------------------------

TEST(Rng, IsSplitMix64AndPortable) {
  Rng rng(0);
  EXPECT_EQ(rng.next(), 0xe220a8397b1dcdafULL);  // published first output of SplitMix64, seed 0
  EXPECT_EQ(rng.next(), 0x6e789e6aa1b965f4ULL);
  Rng a(42), b(42);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(a.below(7), b.below(7));
  b.set_state(a.state());
  EXPECT_EQ(a.next(), b.next());
}

TEST(Rng, PermutationIsAPermutation) {
  Rng rng(3);
  auto order = permutation(1000, rng);
  std::set<std::int64_t> seen(order.begin(), order.end());
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_EQ(*seen.begin(), 0);
  EXPECT_EQ(*seen.rbegin(), 999);
}

// ---- Fashion-MNIST --------------------------------------------------------------------------

TEST(FashionMnist, LoadsBothSetsPaddedTo32WithBalancedClasses) {
  const ImageSet train = load_fashion_mnist(default_fashion_mnist_dir(), "train");
  const ImageSet test = load_fashion_mnist(default_fashion_mnist_dir(), "t10k");
  EXPECT_EQ(train.images.sizes(), (std::vector<std::int64_t>{60000, 1, 32, 32}));
  EXPECT_EQ(test.images.sizes(), (std::vector<std::int64_t>{10000, 1, 32, 32}));
  EXPECT_EQ(train.images.dtype(), torch::kUInt8);
  EXPECT_EQ(train.labels.dtype(), torch::kInt64);
  EXPECT_EQ(class_counts(train.labels), std::vector<std::int64_t>(10, 6000));
  EXPECT_EQ(class_counts(test.labels), std::vector<std::int64_t>(10, 1000));

  // Independent read of the raw files: first label byte, first image at the centre, zero border.
  const std::string labels = gunzip_head(fmnist("train-labels-idx1-ubyte.gz"), 9);
  ASSERT_EQ(labels.size(), 9u);
  EXPECT_EQ(train.labels[0].item<std::int64_t>(), static_cast<unsigned char>(labels[8]));
  const std::string pixels = gunzip_head(fmnist("train-images-idx3-ubyte.gz"), 16 + 784);
  ASSERT_EQ(pixels.size(), 16u + 784u);
  auto first = torch::from_blob(const_cast<char*>(pixels.data() + 16), {28, 28}, torch::kUInt8);
  EXPECT_TRUE(torch::equal(train.images[0][0].slice(0, 2, 30).slice(1, 2, 30), first));
  auto border = train.images.clone();
  border.slice(2, 2, 30).slice(3, 2, 30).zero_();
  EXPECT_EQ(border.sum().item<std::int64_t>(), 0);
}

TEST(FashionMnist, TruncatedGzipNamesTheFile) {
  const TempDir tmp("truncated");
  const fs::path dir = tmp.path();
  std::ifstream in(fmnist("t10k-images-idx3-ubyte.gz"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 100000u);
  const fs::path cut = dir / "t10k-images-idx3-ubyte.gz";
  write_bytes(cut, bytes.substr(0, bytes.size() / 3));
  const std::string msg = error_of([&] { read_idx(cut.string(), fmnist("t10k-labels-idx1-ubyte.gz")); });
  EXPECT_EQ(msg.rfind(cut.string() + ": ", 0), 0u) << msg;
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
}

TEST(FashionMnist, WrongMagicNumberNamesTheFileAndTheMagic) {
  const TempDir tmp("magic");
  const fs::path dir = tmp.path();
  const fs::path images = dir / "images.gz", labels = dir / "labels.gz";
  write_gzip(images,
             big_endian(0x00000802) + big_endian(1) + big_endian(2) + big_endian(2) + std::string(4, '\1'));
  write_gzip(labels, big_endian(0x00000801) + big_endian(1) + std::string(1, '\3'));
  const std::string msg = error_of([&] { read_idx(images.string(), labels.string()); });
  EXPECT_EQ(msg, images.string() +
                     ": not an IDX image (idx3-ubyte) file: expected magic number 0x00000803, "
                     "got 0x00000802");
}

TEST(FashionMnist, ReadsUncompressedIdxAndChecksCounts) {
  const TempDir tmp("raw");
  const fs::path dir = tmp.path();
  const fs::path images = dir / "images", labels = dir / "labels";
  write_bytes(images,
              big_endian(0x00000803) + big_endian(2) + big_endian(2) + big_endian(3) + "abcdefghijkl");
  write_bytes(labels, big_endian(0x00000801) + big_endian(2) + std::string("\x07\x02", 2));
  const ImageSet set = read_idx(images.string(), labels.string());
  EXPECT_EQ(set.images.sizes(), (std::vector<std::int64_t>{2, 1, 2, 3}));
  EXPECT_EQ(set.images[1][0][1][2].item<int>(), 'l');
  EXPECT_EQ(set.labels[0].item<std::int64_t>(), 7);

  write_bytes(labels, big_endian(0x00000801) + big_endian(3) + std::string("\x07\x02\x01", 3));
  EXPECT_NE(error_of([&] { read_idx(images.string(), labels.string()); }).find("holds 3 labels but"),
            std::string::npos);
  EXPECT_NE(error_of([&] { read_idx((dir / "missing").string(), labels.string()); }).find("cannot open file"),
            std::string::npos);
}

// ---- CIFAR-10 -------------------------------------------------------------------------------

std::string cifar_record(int label, int seed) {
  std::string record(1, static_cast<char>(label));
  for (int i = 0; i < 3072; ++i) record += static_cast<char>((i * 7 + seed) & 0xff);
  return record;
}

TEST(Cifar10, ReadsRecordsAsChannelPlanes) {
  const TempDir tmp("cifar");
  const fs::path dir = tmp.path();
  write_bytes(dir / "test_batch.bin", cifar_record(3, 0) + cifar_record(9, 5));
  const ImageSet set = load_cifar10(dir.string(), false);
  EXPECT_EQ(set.images.sizes(), (std::vector<std::int64_t>{2, 3, 32, 32}));
  EXPECT_EQ(set.labels[0].item<std::int64_t>(), 3);
  EXPECT_EQ(set.labels[1].item<std::int64_t>(), 9);
  // Byte 1 + c*1024 + y*32 + x of a record is channel c, row y, column x.
  const int offset = 1024 + 5 * 32 + 7;
  EXPECT_EQ(set.images[1][1][5][7].item<int>(), (offset * 7 + 5) & 0xff);
}

TEST(Cifar10, RejectsBadSizesLabelsAndMissingFiles) {
  const TempDir tmp("cifar_bad");
  const fs::path dir = tmp.path();
  write_bytes(dir / "short.bin", cifar_record(1, 0) + "xyz");
  auto msg = error_of([&] { read_cifar10_file((dir / "short.bin").string()); });
  EXPECT_NE(msg.find((dir / "short.bin").string() + ": size 3076 bytes is not a positive multiple"),
            std::string::npos)
      << msg;
  write_bytes(dir / "label.bin", cifar_record(12, 0));
  msg = error_of([&] { read_cifar10_file((dir / "label.bin").string()); });
  EXPECT_NE(msg.find("label 12 of record 0 is outside 0..9"), std::string::npos) << msg;
  msg = error_of([&] { load_cifar10(dir.string(), true); });
  EXPECT_NE(msg.find("data_batch_1.bin: data file not found"), std::string::npos) << msg;
}

// ---- split and subsets ----------------------------------------------------------------------

TEST(Split, IsDisjointCoveringBalancedAndSeeded) {
  const ImageSet train = load_fashion_mnist(default_fashion_mnist_dir(), "train");
  const SplitIndices a = split_train_val(train.labels, 10, 500, 0);
  EXPECT_EQ(a.train.size(0), 55000);
  EXPECT_EQ(a.val.size(0), 5000);
  auto covered = torch::zeros({60000}, torch::kInt64);
  covered.index_add_(0, a.train, torch::ones({55000}, torch::kInt64));
  covered.index_add_(0, a.val, torch::ones({5000}, torch::kInt64));
  EXPECT_TRUE(torch::equal(covered, torch::ones({60000}, torch::kInt64)));  // disjoint and covering
  EXPECT_EQ(class_counts(train.labels.index_select(0, a.val)), std::vector<std::int64_t>(10, 500));

  const SplitIndices again = split_train_val(train.labels, 10, 500, 0);
  EXPECT_TRUE(torch::equal(a.val, again.val));
  EXPECT_TRUE(torch::equal(a.train, again.train));
  EXPECT_FALSE(torch::equal(a.val, split_train_val(train.labels, 10, 500, 1).val));
}

TEST(Split, CalibrationSubsetIsBalancedAndDeterministic) {
  // A validation set of 10 classes x 30 images, in a scrambled class order.
  Dataset data;
  data.val.labels = torch::arange(300, torch::kInt64).mul(7).remainder(10);
  data.val.images = torch::arange(300, torch::kInt64).to(torch::kUInt8).view({300, 1, 1, 1});
  const ImageSet calibration = calibration_set(data, 4, 11);
  EXPECT_EQ(calibration.size(), 40);
  EXPECT_EQ(class_counts(calibration.labels), std::vector<std::int64_t>(10, 4));
  EXPECT_TRUE(torch::equal(calibration.images, calibration_set(data, 4, 11).images));
  EXPECT_FALSE(torch::equal(calibration.images, calibration_set(data, 4, 12).images));
  const std::string msg = error_of([&] { calibration_set(data, 31); });
  EXPECT_NE(msg.find("asked for 31 images per class, but class 0 has only 30"), std::string::npos) << msg;
}

// ---- normalisation and augmentation ---------------------------------------------------------

TEST(Normalize, MapsBytesToStandardisedFloats) {
  auto images = torch::tensor({0, 255, 51, 102}, torch::kUInt8).view({1, 2, 1, 2});
  const auto out = normalize(images, {{0.5, 0.2}, {0.25, 0.4}});
  EXPECT_EQ(out.dtype(), torch::kFloat32);
  EXPECT_NEAR(out[0][0][0][0].item<float>(), -2.0f, 1e-5);
  EXPECT_NEAR(out[0][0][0][1].item<float>(), 2.0f, 1e-5);
  EXPECT_NEAR(out[0][1][0][0].item<float>(), 0.0f, 1e-5);
  EXPECT_NEAR(out[0][1][0][1].item<float>(), 0.5f, 1e-5);
}

torch::Tensor bordered_images() {
  // 16 random images of 12x12 inside a zero border of 2 (as padded Fashion-MNIST).
  torch::manual_seed(5);
  auto images = torch::zeros({16, 1, 16, 16}, torch::kUInt8);
  images.slice(2, 2, 14).slice(3, 2, 14).copy_(torch::randint(1, 256, {16, 1, 12, 12}, torch::kUInt8));
  return images;
}

TEST(Augment, IsDeterministicForASeed) {
  const auto images = bordered_images();
  const AugmentOptions options{2, true};
  Rng a(9), b(9), c(10);
  const auto x = augment(images, options, a);
  EXPECT_TRUE(torch::equal(x, augment(images, options, b)));
  EXPECT_EQ(a.state(), b.state());
  EXPECT_FALSE(torch::equal(x, augment(images, options, c)));
  EXPECT_FALSE(torch::equal(x, images));
}

TEST(Augment, CropsWithinTheBorderAndFlips) {
  const auto images = bordered_images();
  Rng rng(1);
  // A shift of at most 2 pixels keeps the whole content inside a 2-pixel zero border.
  const auto cropped = augment(images, {2, false}, rng);
  EXPECT_TRUE(torch::equal(cropped.sum({1, 2, 3}), images.sum({1, 2, 3})));
  const auto flipped = augment(images, {0, true}, rng);
  int flips = 0;
  for (int i = 0; i < 16; ++i) {
    const bool same = torch::equal(flipped[i], images[i]);
    EXPECT_TRUE(same || torch::equal(flipped[i], images[i].flip({2})));
    flips += same ? 0 : 1;
  }
  EXPECT_GT(flips, 0);
  EXPECT_LT(flips, 16);
  EXPECT_TRUE(torch::equal(augment(images, {0, false}, rng), images));
}

}  // namespace
}  // namespace capsim::workloads
