#pragma once
// Checkpoint and model files (internal to capsim_train). Both are one pickled dictionary, the
// format of torch::pickle_save, which Python's torch.load also reads:
//   meta      JSON text: format, kind, model, options, data set, normalisation, config, epoch...
//   weights   {name: tensor} parameters and buffers of the GraphNet
//   momentum  {name: tensor} SGD momentum buffers               (checkpoints only)
//   torch_rng LibTorch's CPU generator state (dropout draws)    (checkpoints only)
//   checksum  CRC-32 of all of the above: LibTorch's zip reader does not notice flipped bytes
#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "capsim/workloads/graph.hpp"
#include "capsim/workloads/model_meta.hpp"
#include "capsim/workloads/training.hpp"

namespace capsim::workloads::detail {

using TensorMap = std::map<std::string, torch::Tensor>;

// Everything besides the weights that a resumed run needs to continue bit-identically.
struct TrainState {
  std::int64_t epoch = 0;      // epochs finished
  std::uint64_t data_rng = 0;  // Rng state: data order and augmentation
  torch::Tensor torch_rng;     // LibTorch's default CPU generator
  TensorMap momentum;          // by parameter name
  std::vector<EpochRecord> log;
  double seconds = 0;  // training seconds so far
};

TensorMap model_tensors(GraphNet& net);  // parameters and buffers by name

void write_checkpoint(const std::string& path, const ModelMeta& meta, GraphNet& net, const TrainState& state);
// Final weights only; `half` stores conv and linear weights as float16 (biases and batch norm stay float32).
void write_model(const std::string& path, ModelMeta meta, GraphNet& net, bool half);

struct StoredModel {
  ModelMeta meta;
  TensorMap weights;
  TrainState state;  // filled for checkpoints
};
StoredModel read_stored_model(const std::string& path);

// Copies `weights` into net; a missing, extra or mis-shaped tensor is an InputError naming `file`.
void load_weights(GraphNet& net, const TensorMap& weights, const std::string& file);

}  // namespace capsim::workloads::detail
