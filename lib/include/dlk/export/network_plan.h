// DLKUNet's inference graph as a sequence of layers, without LibTorch: what every exporter writes.
// Batch normalisation is folded into the pointwise convolution before it (eval mode: an affine
// map per channel), so a layer is a convolution with bias, a ReLU, the LKA gate's multiply, a
// 2x2 max-pool, the decoder's ConvTranspose(k2, s2) or the skip concatenation. The network is
// the one of dlk/model/model.h; an exporter (ONNX, TorchScript) implements LayerSink.
#pragma once
#include "dlk/model/model_config.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dlk {

// One tensor of a network, in fp32, under its checkpoint name ("stem.sep1.dw.weight").
struct WeightArray {
  std::vector<int64_t> shape;
  std::vector<float> values;
};
using NetworkWeights = std::map<std::string, WeightArray>;

// A network to export: its architecture and every parameter and BN buffer (dlk/model/model.h's
// names).
struct ExportNetwork {
  ModelConfig config;
  NetworkWeights weights;
};

// What an exported model gives: "logits" [N, K, H, W] (one network only), "probabilities"
// (softmax over the classes; an ensemble's mean) or "labels" ([N, H, W] int64, the argmax).
enum class ModelOutput { Logits, Probabilities, Labels };
std::string model_output_name(ModelOutput o);

// Receives the layers in order; each returns the name of the value it made. `name` is the
// layer's module path ("enc1.sep2.pw"), unique within a network.
class LayerSink {
public:
  virtual ~LayerSink() = default;
  // Stride 1, "same" zero padding dilation * (k - 1) / 2, groups == input channels: depthwise.
  virtual std::string conv(const std::string& name, const std::string& x, const WeightArray& w, const WeightArray& b,
                           int64_t groups, int64_t dilation) = 0;
  virtual std::string relu(const std::string& name, const std::string& x) = 0;
  virtual std::string mul(const std::string& name, const std::string& a, const std::string& b) = 0;
  virtual std::string max_pool(const std::string& name, const std::string& x) = 0; // 2x2, stride 2
  // ConvTranspose2d(kernel 2, stride 2), weight [cin, cout, 2, 2].
  virtual std::string up(const std::string& name, const std::string& x, const WeightArray& w, const WeightArray& b) = 0;
  virtual std::string concat(const std::string& name, const std::string& skip, const std::string& up) = 0; // channels
};

// Refuses what no exporter can write: no network; an ensemble with logits (its networks' softmax
// is averaged: dlk::UsageError); networks of other classes or input channels (dlk::Error).
void check_export_networks(const std::vector<ExportNetwork>& networks, ModelOutput output);

// Emits the network for `x` ([N, in_channels, H, W]; H and W multiples of 2^depth) and returns
// the logits' value. A tensor missing or of another shape than `config` wants is a dlk::Error
// naming it.
std::string emit_network(LayerSink& sink, const ModelConfig& config, const NetworkWeights& weights, const std::string& x);

} // namespace dlk
