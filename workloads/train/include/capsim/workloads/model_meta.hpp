#pragma once
// ModelMeta, in a header of its own: train.hpp's API and capsim_train's checkpoint files both use
// it, and neither includes the other.
#include <cstdint>
#include <string>

#include "capsim/workloads/data.hpp"
#include "capsim/workloads/model_spec.hpp"

namespace capsim::workloads {

// What a checkpoint or model.pt records about the network it holds.
struct ModelMeta {
  std::string kind;         // "checkpoint" (resumable) or "model" (final weights only)
  std::string model;        // resnet18, mobilenetv2, vgg16
  ModelOptions options;     // variant, width, in_channels, classes
  DataSpec data;            // data set and split it was trained with
  Normalization norm;       // input normalisation used in training: use it for every input
  std::int64_t epoch = 0;   // epochs finished
  std::int64_t epochs = 0;  // epochs configured
  std::string config_hash;
  std::string config;     // canonical_config() of the training run
  std::string precision;  // how weights are stored: "float32" or "float16"
};

}  // namespace capsim::workloads
