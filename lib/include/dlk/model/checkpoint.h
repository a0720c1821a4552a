// The dlk checkpoint: one file with a JSON metadata block and named tensors (weights, buffers,
// later optimizer state), each with a CRC-32. Its own container rather than torch::save, so that
// LibTorch 1.13 and 2.x (and plain numpy, for the Python reference) read each other's files.
// Layout (little-endian): header { magic "\x89DLKC\r\n\x1a", u16 major 1, u16 minor 0, u32 flags 0,
// u32 metadata length, u32 crc32(header[0..20) + metadata) }, the metadata JSON (with a
// "tensors" table: name, dtype, shape, offset, bytes, crc32), zero padding to a multiple of 64,
// the tensor data (each at a 64-byte aligned offset from the data start), and a 16-byte trailer
// { "DLKZ", u32 0, u64 total file size }.
// dlk/model/checkpoint_format.h reads and validates this container without LibTorch; its limits
// (at most 64 MiB of metadata, 65536 tensors, 16 dimensions each) hold for the writer too.
#pragma once
#include "dlk/export/network_plan.h"
#include "dlk/core/json.h"
#include "dlk/model/model.h"
#include "dlk/shard/dataset.h"

#include <torch/types.h>

#include <string>
#include <utility>
#include <vector>

namespace dlk {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

struct Checkpoint {
  json::Value meta; // "model", "classes", "preprocessing", "training", "epoch", "tool", "libtorch", ...
  NamedTensors tensors;
  const torch::Tensor* find(const std::string& name) const;
};

// Writes atomically (temporary name, then rename). Tensors are copied to CPU, contiguous.
void save_checkpoint(const std::string& path, const Checkpoint& ckpt);
// Reads and verifies every checksum; a corrupt or truncated file is a dlk::Error naming it.
// The tensor table is validated as a whole before any tensor is allocated.
Checkpoint load_checkpoint(const std::string& path);

// Model <-> tensors: parameters and buffers under their module paths ("stem.bn1.running_mean").
// Names with a '/' are not the model's: the optimizer's ("optim/state") and, in a semi-supervised
// run's checkpoints, the network that is not the model ("teacher/stem.bn1.running_mean" or
// "student/..."), which `prefix` loads.
NamedTensors model_tensors(const DLKUNet& model);
// The same in fp32 on the host, as the LibTorch-free code takes them (exporters, the CPU network);
// BN's step counter left out.
NetworkWeights network_weights(const DLKUNet& model);
void load_model_tensors(DLKUNet& model, const Checkpoint& ckpt, const std::string& path, const std::string& prefix = "");

// A checkpoint for a model: metadata "model" (every knob), "classes", "in_channels", the
// versions; `extra` keys (preprocessing, training, epoch) are merged in.
Checkpoint make_checkpoint(const DLKUNet& model, const std::vector<std::string>& classes, const json::Value& extra = {});
// What dlk-infer must redo exactly as dlk-prep did for training: the dataset's channels,
// normalization, label map, slicing axis and dtype, and the model's input size.
// `spacing`: the in-plane spacing [x, y] in mm slices are resampled to (empty: resized to the
// input size). "orientation" and "spacing" are written only when used, so that checkpoints that
// use neither read as before.
json::Value preprocessing_json(const Dataset& d, int64_t height, int64_t width, const std::vector<double>& spacing = {});
// A preprocessing record's orientation: "canonical", or "stored" (also when it has none).
std::string preprocessing_orientation(const json::Value& preprocessing);
// Empty when a checkpoint can segment a dataset's cases (same channels, same classes);
// otherwise what differs, e.g. "classes [background, aorta] vs [background, RV, Myo, LV]".
std::string checkpoint_dataset_mismatch(const Checkpoint& ck, const Dataset& d);

// A semi-supervised run's checkpoint (dlk-train --semi) holds two networks: its model, and the
// other under "teacher/" or "student/". Which one its model is: "teacher" or "student"; "" for
// other checkpoints.
std::string checkpoint_network(const Checkpoint& ck);
// Loads `network` ("teacher" or "student") from such a checkpoint into `model`, wherever it is
// held; a checkpoint of another run is an error naming the file.
void load_network(DLKUNet& model, const Checkpoint& ck, const std::string& path, const std::string& network);
// Builds the model a checkpoint describes and loads its weights. With `expect`, a checkpoint
// whose architecture differs (variant, classes, channels, kernels) is an error saying which.
DLKUNet load_model(const std::string& path, const ModelConfig* expect = nullptr, Checkpoint* out = nullptr);

} // namespace dlk
