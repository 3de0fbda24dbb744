#include "checkpoint.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "capsim/common/atomic_file.hpp"
#include "capsim/common/error.hpp"

namespace capsim::workloads::detail {
namespace {

using nlohmann::json;

constexpr const char* kFormat = "capsim-model";
constexpr int kVersion = 1;

// ---- checksum -------------------------------------------------------------------------------

void crc_bytes(uLong& crc, const void* data, std::size_t size) {
  const auto* bytes = static_cast<const Bytef*>(data);
  while (size > 0) {  // zlib's length is 32-bit
    const auto chunk = static_cast<uInt>(std::min<std::size_t>(size, 1u << 30));
    crc = ::crc32(crc, bytes, chunk);
    bytes += chunk;
    size -= chunk;
  }
}

void crc_tensor(uLong& crc, const std::string& name, const torch::Tensor& tensor) {
  crc_bytes(crc, name.data(), name.size());
  const torch::Tensor flat = tensor.contiguous();
  crc_bytes(crc, flat.data_ptr(), flat.nbytes());
}

std::int64_t checksum(const std::string& meta, const TensorMap& weights, const TensorMap& momentum,
                      const torch::Tensor& torch_rng) {
  uLong crc = ::crc32(0L, Z_NULL, 0);
  crc_bytes(crc, meta.data(), meta.size());
  for (const auto& [name, tensor] : weights) crc_tensor(crc, "w:" + name, tensor);
  for (const auto& [name, tensor] : momentum) crc_tensor(crc, "m:" + name, tensor);
  if (torch_rng.defined()) crc_tensor(crc, "rng", torch_rng);
  return static_cast<std::int64_t>(crc);
}

// ---- metadata as JSON -----------------------------------------------------------------------

json meta_json(const ModelMeta& meta) {
  return {{"format", kFormat},
          {"version", kVersion},
          {"kind", meta.kind},
          {"model", meta.model},
          {"variant", meta.options.variant},
          {"width", meta.options.width},
          {"in_channels", meta.options.in_channels},
          {"classes", meta.options.classes},
          {"dataset", meta.data.dataset},
          {"data_dir", meta.data.dir},
          {"val_per_class", meta.data.val_per_class},
          {"split_seed", meta.data.split_seed},
          {"norm_mean", meta.norm.mean},
          {"norm_std", meta.norm.std},
          {"epoch", meta.epoch},
          {"epochs", meta.epochs},
          {"config_hash", meta.config_hash},
          {"config", meta.config},
          {"precision", meta.precision}};
}

json state_json(const TrainState& state) {
  json log = json::array();
  for (const auto& r : state.log)
    log.push_back({r.epoch, r.train_loss, r.train_accuracy, r.val_accuracy, r.lr, r.seconds});
  return {{"data_rng", std::to_string(state.data_rng)}, {"log", log}, {"seconds", state.seconds}};
}

ModelMeta meta_from_json(const json& j, const std::string& file) {
  if (j.value("format", "") != kFormat)
    throw InputError({file, 0},
                     "not a capsim model or checkpoint (no '" + std::string(kFormat) + "' metadata)");
  if (j.value("version", 0) != kVersion)
    throw InputError({file, 0}, "unsupported capsim model format version " +
                                    j.value("version", json()).dump() + " (this build reads version " +
                                    std::to_string(kVersion) + ")");
  ModelMeta meta;
  meta.kind = j.at("kind").get<std::string>();
  meta.model = j.at("model").get<std::string>();
  meta.options.variant = j.at("variant").get<std::string>();
  meta.options.width = j.at("width").get<double>();
  meta.options.in_channels = j.at("in_channels").get<std::int64_t>();
  meta.options.classes = j.at("classes").get<std::int64_t>();
  meta.data.dataset = j.at("dataset").get<std::string>();
  meta.data.dir = j.at("data_dir").get<std::string>();
  meta.data.val_per_class = j.at("val_per_class").get<std::int64_t>();
  meta.data.split_seed = j.at("split_seed").get<std::uint64_t>();
  meta.norm.mean = j.at("norm_mean").get<std::vector<double>>();
  meta.norm.std = j.at("norm_std").get<std::vector<double>>();
  meta.epoch = j.at("epoch").get<std::int64_t>();
  meta.epochs = j.at("epochs").get<std::int64_t>();
  meta.config_hash = j.at("config_hash").get<std::string>();
  meta.config = j.at("config").get<std::string>();
  meta.precision = j.at("precision").get<std::string>();
  if (meta.kind != "checkpoint" && meta.kind != "model")
    throw InputError({file, 0}, "metadata 'kind' is '" + meta.kind + "', expected 'checkpoint' or 'model'");
  if (meta.norm.mean.size() != static_cast<std::size_t>(meta.options.in_channels) ||
      meta.norm.std.size() != meta.norm.mean.size())
    throw InputError({file, 0}, "metadata normalisation does not have one mean and std per input channel");
  return meta;
}

TrainState state_from_json(const json& j) {
  TrainState state;
  state.data_rng = std::stoull(j.at("data_rng").get<std::string>());
  state.seconds = j.at("seconds").get<double>();
  for (const auto& row : j.at("log")) {
    EpochRecord r;
    r.epoch = row.at(0).get<std::int64_t>();
    r.train_loss = row.at(1).get<double>();
    r.train_accuracy = row.at(2).get<double>();
    r.val_accuracy = row.at(3).get<double>();
    r.lr = row.at(4).get<double>();
    r.seconds = row.at(5).get<double>();
    state.log.push_back(r);
  }
  return state;
}

// ---- pickled dictionaries -------------------------------------------------------------------

c10::Dict<std::string, torch::Tensor> to_dict(const TensorMap& tensors) {
  c10::Dict<std::string, torch::Tensor> dict;
  // Contiguous (NCHW) copies: files do not depend on the memory format used in training.
  for (const auto& [name, tensor] : tensors) dict.insert(name, tensor.contiguous());
  return dict;
}

TensorMap from_dict(const c10::IValue& value, const std::string& file, const char* key) {
  if (!value.isGenericDict())
    throw InputError({file, 0}, std::string("entry '") + key + "' is not a dictionary");
  TensorMap tensors;
  for (const auto& entry : value.toGenericDict()) {
    if (!entry.key().isString() || !entry.value().isTensor())
      throw InputError({file, 0},
                       std::string("entry '") + key + "' holds something other than named tensors");
    tensors[entry.key().toStringRef()] = entry.value().toTensor();
  }
  return tensors;
}

void write_file(const std::string& path, const std::string& meta, const TensorMap& weights,
                const TensorMap& momentum, const torch::Tensor& torch_rng) {
  c10::impl::GenericDict dict(c10::StringType::get(), c10::AnyType::get());
  dict.insert("meta", meta);
  dict.insert("weights", to_dict(weights));
  if (torch_rng.defined()) {
    dict.insert("momentum", to_dict(momentum));
    dict.insert("torch_rng", torch_rng);
  }
  dict.insert("checksum", checksum(meta, weights, momentum, torch_rng));
  const std::vector<char> bytes = torch::pickle_save(dict);
  write_file_atomic(path, std::string_view(bytes.data(), bytes.size()));
}

c10::impl::GenericDict read_dict(const std::string& path) {
  const std::string text = read_file(path);
  const std::vector<char> bytes(text.begin(), text.end());
  c10::IValue value;
  try {
    value = torch::pickle_load(bytes);
  } catch (const std::exception& e) {
    std::string why = e.what();
    why = why.substr(0, why.find('\n'));
    throw InputError({path, 0},
                     "not a readable capsim model or checkpoint: truncated or corrupt (" + why + ")");
  }
  if (!value.isGenericDict())
    throw InputError({path, 0}, "not a capsim model or checkpoint (not a dictionary)");
  return value.toGenericDict();
}

c10::IValue entry(const c10::impl::GenericDict& dict, const std::string& key, const std::string& file) {
  auto it = dict.find(key);
  if (it == dict.end())
    throw InputError({file, 0}, "not a capsim model or checkpoint (no '" + key + "' entry)");
  return it->value();
}

}  // namespace

TensorMap model_tensors(GraphNet& net) {
  TensorMap tensors;
  for (const auto& item : net->named_parameters(true)) tensors[item.key()] = item.value().detach();
  for (const auto& item : net->named_buffers(true)) tensors[item.key()] = item.value().detach();
  return tensors;
}

void write_checkpoint(const std::string& path, const ModelMeta& meta, GraphNet& net,
                      const TrainState& state) {
  json j = meta_json(meta);
  j["state"] = state_json(state);
  write_file(path, j.dump(), model_tensors(net), state.momentum, state.torch_rng);
}

void write_model(const std::string& path, ModelMeta meta, GraphNet& net, bool half) {
  TensorMap weights = model_tensors(net);
  if (half) {
    for (auto& [name, tensor] : weights)
      if (tensor.is_floating_point() && tensor.dim() > 1) tensor = tensor.to(torch::kHalf);
  }
  meta.kind = "model";
  meta.precision = half ? "float16" : "float32";
  write_file(path, meta_json(meta).dump(), weights, {}, {});
}

StoredModel read_stored_model(const std::string& path) {
  if (std::filesystem::is_directory(path))
    return read_stored_model((std::filesystem::path(path) / "model.pt").string());
  const c10::impl::GenericDict dict = read_dict(path);
  const c10::IValue meta_value = entry(dict, "meta", path);
  if (!meta_value.isString())
    throw InputError({path, 0}, "not a capsim model or checkpoint (metadata is not text)");
  const std::string& meta_text = meta_value.toStringRef();

  StoredModel stored;
  stored.weights = from_dict(entry(dict, "weights", path), path, "weights");
  const bool has_state = dict.contains("torch_rng");
  if (has_state) {
    stored.state.momentum = from_dict(entry(dict, "momentum", path), path, "momentum");
    const c10::IValue rng = entry(dict, "torch_rng", path);
    if (!rng.isTensor()) throw InputError({path, 0}, "entry 'torch_rng' is not a tensor");
    stored.state.torch_rng = rng.toTensor();
  }
  const c10::IValue sum = entry(dict, "checksum", path);
  if (!sum.isInt() ||
      sum.toInt() != checksum(meta_text, stored.weights, stored.state.momentum, stored.state.torch_rng))
    throw InputError({path, 0},
                     "checksum mismatch: the file is corrupt (written partially or damaged since)");

  try {
    const json j = json::parse(meta_text);
    stored.meta = meta_from_json(j, path);
    if (stored.meta.kind == "checkpoint") {
      if (!has_state) throw InputError({path, 0}, "checkpoint without training state");
      const TensorMap momentum = std::move(stored.state.momentum);
      const torch::Tensor torch_rng = stored.state.torch_rng;
      stored.state = state_from_json(j.at("state"));
      stored.state.momentum = momentum;
      stored.state.torch_rng = torch_rng;
      stored.state.epoch = stored.meta.epoch;
    }
  } catch (const json::exception& e) {
    throw InputError({path, 0}, std::string("malformed metadata: ") + e.what());
  } catch (const std::logic_error& e) {  // std::stoull
    throw InputError({path, 0}, std::string("malformed metadata: ") + e.what());
  }
  return stored;
}

void load_weights(GraphNet& net, const TensorMap& weights, const std::string& file) {
  const ModelInfo& info = net->info();
  const std::string what =
      info.model + " (" + info.options.variant + ", width " + fmt::format("{}", info.options.width) + ")";
  TensorMap targets = model_tensors(net);
  torch::NoGradGuard no_grad;
  for (auto& [name, target] : targets) {
    auto it = weights.find(name);
    if (it == weights.end())
      throw InputError({file, 0},
                       "lacks tensor '" + name + "' of " + what + ": it holds a different network");
    if (it->second.sizes() != target.sizes())
      throw InputError({file, 0}, "tensor '" + name + "' has shape " + c10::str(it->second.sizes()) +
                                      " but " + what + " expects " + c10::str(target.sizes()));
    target.copy_(it->second);
  }
  for (const auto& [name, tensor] : weights)
    if (!targets.count(name))
      throw InputError({file, 0}, "holds tensor '" + name + "', which " + what + " does not have");
}

}  // namespace capsim::workloads::detail
