#pragma once
// Image classification data for training and evaluating the model zoo.
//
// Images are kept as uint8 tensors N x C x H x W (labels int64 N) and turned into normalised float
// tensors batch by batch, so the 60k Fashion-MNIST images cost 60 MB rather than 240 MB.
// Fashion-MNIST is padded from 28x28 to 32x32 (2 zero pixels each side) so that the cifar
// variants of the networks apply unchanged.
//
// The 60k (CIFAR-10: 50k) training images are split deterministically into a training part and a
// class-balanced validation part (500 per class by default, chosen by a seeded shuffle). The
// validation part serves calibration and greedy decisions; the test set is only for reported numbers.
//
// Randomness (split, shuffles, augmentation) comes from Rng, not from <random>: the standard
// distributions and std::shuffle differ between library implementations, and Rng's state is one
// integer that a checkpoint can store.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "capsim/workloads/data_spec.hpp"

namespace capsim::workloads {

// SplitMix64 (Steele, Lea, Flood 2014): tiny, portable, and its whole state is one integer.
class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0) : state_(seed) {}
  std::uint64_t next();
  std::uint64_t below(std::uint64_t n);  // uniform in [0, n), n > 0 (no modulo bias)
  bool coin() { return (next() >> 63) != 0; }
  std::uint64_t state() const { return state_; }
  void set_state(std::uint64_t state) { state_ = state; }

 private:
  std::uint64_t state_;
};

// A uniformly random permutation of 0..n-1 (Fisher-Yates driven by rng).
std::vector<std::int64_t> permutation(std::int64_t n, Rng& rng);

struct ImageSet {
  torch::Tensor images;  // uint8 [N, C, H, W]
  torch::Tensor labels;  // int64 [N], in [0, classes)

  std::int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
  ImageSet subset(const torch::Tensor& indices) const;  // rows `indices` (int64), in that order
  ImageSet head(std::int64_t n) const;                  // the first min(n, size()) rows
};

// Per-channel mean and standard deviation of pixel values scaled to [0, 1].
struct Normalization {
  std::vector<double> mean;
  std::vector<double> std;
};

// uint8 [N, C, H, W] -> float32 (x / 255 - mean) / std.
torch::Tensor normalize(const torch::Tensor& images, const Normalization& norm);

// ---- file formats ---------------------------------------------------------------------------

// One IDX file pair (images idx3-ubyte, labels idx1-ubyte), gzipped or not (detected by the gzip
// magic). Checks the magic numbers, dimensions and counts; a truncated or corrupt file throws
// InputError naming the file and what was wrong. Images come back as [N, 1, rows, cols].
ImageSet read_idx(const std::string& images_file, const std::string& labels_file);

// Fashion-MNIST `part` "train" (60k) or "t10k" (10k) from `dir`, padded to 32x32.
ImageSet load_fashion_mnist(const std::string& dir, const std::string& part);
// $CAPSIM_FASHION_MNIST_DIR, else the Debian package's /usr/share/datasets/fashion-mnist.
std::string default_fashion_mnist_dir();

// One CIFAR-10 binary batch file: records of 1 label byte + 3072 bytes (3 x 32 x 32, RGB planes).
ImageSet read_cifar10_file(const std::string& file);
// data_batch_1..5.bin (train, 50k) or test_batch.bin (10k) from `dir`.
ImageSet load_cifar10(const std::string& dir, bool train);

// ---- splits and subsets ---------------------------------------------------------------------

// `per_class` indices of each class 0..classes-1, chosen by a seeded shuffle; returned ascending.
// Throws InputError when a class has fewer than per_class images.
torch::Tensor balanced_subset(const torch::Tensor& labels, std::int64_t classes, std::int64_t per_class,
                              std::uint64_t seed);

struct SplitIndices {
  torch::Tensor train;  // int64, ascending
  torch::Tensor val;    // int64, ascending, val_per_class of each class
};
// Disjoint split of 0..N-1 covering every index: a class-balanced validation part and the rest.
SplitIndices split_train_val(const torch::Tensor& labels, std::int64_t classes, std::int64_t val_per_class,
                             std::uint64_t seed);

// ---- a loaded data set ----------------------------------------------------------------------

Normalization dataset_normalization(const std::string& dataset);  // fixed values, docs/training.md

struct Dataset {
  std::string name;
  std::int64_t classes = 10;
  Normalization norm;
  ImageSet train;  // training part of the training images
  ImageSet val;    // class-balanced validation part of the training images
  ImageSet test;   // the official test set

  std::int64_t channels() const { return train.images.size(1); }
};

// Loads, pads and splits a data set. Throws InputError (origin "data.dataset" or the file) on
// unknown names, missing files or malformed data.
Dataset load_dataset(const DataSpec& spec);

// A class-balanced calibration subset of the validation set: per_class images of each class.
ImageSet calibration_set(const Dataset& data, std::int64_t per_class, std::uint64_t seed = 0);

// Network-ready tensors: normalised float inputs [N, C, H, W] and int64 labels [N].
struct LabeledTensors {
  torch::Tensor inputs;
  torch::Tensor labels;
  std::int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};
// The first `limit` images of `set` (all when limit <= 0), normalised.
LabeledTensors normalized(const ImageSet& set, const Normalization& norm, std::int64_t limit = 0);

// ---- augmentation ---------------------------------------------------------------------------

// Augmented copy of a uint8 batch [N, C, H, W]; every random choice comes from rng.
torch::Tensor augment(const torch::Tensor& images, const AugmentOptions& options, Rng& rng);

}  // namespace capsim::workloads
