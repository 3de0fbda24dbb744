#pragma once
// The LibTorch side of training: load a trained network with its metadata, get the data it was
// trained on, and evaluate it (optionally with a hook on every node output). This is the API the
// compression pipeline uses; training itself is train() in training.hpp.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "capsim/workloads/data.hpp"
#include "capsim/workloads/graph.hpp"
#include "capsim/workloads/model_meta.hpp"
#include "capsim/workloads/training.hpp"

namespace capsim::workloads {

struct LoadedModel {
  GraphNet net{nullptr};  // float32, eval mode
  ModelMeta meta;
};

// Loads DIR/model.pt (when `path` is a directory), a model.pt or a checkpoint.pt. A missing,
// truncated, corrupt or inconsistent file is an InputError naming the file and the problem.
LoadedModel load_trained_model(const std::string& path);

// The data set (and the same train/val split) a model was trained on; `data_dir` overrides the
// location recorded at training time.
Dataset load_model_dataset(const ModelMeta& meta, const std::string& data_dir = "");

struct EvalResult {
  double accuracy = 0;  // fraction in [0, 1]
  double loss = 0;      // mean cross-entropy (no label smoothing)
  std::int64_t images = 0;
  std::vector<std::uint8_t> correct;  // per image, in input order: 1 if classified right (paired statistics)
};

// Accuracy and mean loss of `model` on normalised `inputs` [N, C, H, W] with int64 `labels`, in
// batches, in eval mode without gradients; the module's training flag is restored afterwards.
// A non-empty `hook` is passed to GraphNet::forward(x, hook) for every batch.
EvalResult evaluate(GraphNet& model, const torch::Tensor& inputs, const torch::Tensor& labels,
                    std::int64_t batch_size = 500, const OutputHook& hook = nullptr);

// Glibc's default malloc returns freed activation buffers to the kernel and maps them again on the
// next batch; for small networks that costs up to 40% of the time. Raising the mmap and trim
// thresholds (as GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:... would) avoids it.
void tune_malloc_for_training();

}  // namespace capsim::workloads
