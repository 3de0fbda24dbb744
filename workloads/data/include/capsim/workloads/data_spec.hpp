#pragma once
// What data to load and how to augment it: plain settings without LibTorch, so that configuration
// code and the command line need not compile torch/torch.h. data.hpp does the work.
#include <cstdint>
#include <string>
#include <vector>

namespace capsim::workloads {

struct DataSpec {
  std::string dataset = "fashion-mnist";  // "fashion-mnist" or "cifar10"
  std::string dir;                        // empty: the default location of that data set
  std::int64_t val_per_class = 500;       // validation images per class, taken from the training images
  std::uint64_t split_seed = 0;           // seed of the train/validation split
};

std::vector<std::string> dataset_names();  // {"cifar10", "fashion-mnist"}

struct AugmentOptions {
  std::int64_t crop_padding = 2;  // random crop after zero padding by this much; 0 disables
  bool horizontal_flip = true;    // flip each image with probability 1/2
};

}  // namespace capsim::workloads
