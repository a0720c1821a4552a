#include "dlk/export/network_plan.h"

#include "dlk/core/error.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>

namespace dlk {

namespace {

constexpr double kBatchNormEps = 1e-5; // torch::nn::BatchNorm2d's default, which the model uses

class Walk {
public:
  Walk(LayerSink& s, const ModelConfig& c, const NetworkWeights& w) : s_(s), c_(c), w_(w) {}

  std::string network(const std::string& x) {
    const int depth = c_.depth();
    std::vector<std::string> skips{block("stem", c_.in_channels, c_.channels(0), x)};
    for (int i = 1; i <= depth; ++i) {
      const std::string pooled = s_.max_pool(fmt::format("pool{}", i), skips.back());
      skips.push_back(block(fmt::format("enc{}", i), c_.channels(i - 1), c_.channels(i), pooled));
    }
    std::string g = skips.back();
    for (int i = depth - 1; i >= 0; --i) g = decoder(i, g, skips[size_t(i)]);
    return conv("head", g, c_.channels(0), c_.classes, 1);
  }

private:
  const WeightArray& weight(const std::string& name, const std::vector<int64_t>& shape) const {
    auto it = w_.find(name);
    if (it == w_.end()) throw Error(fmt::format("the network has no tensor '{}'", name));
    if (it->second.shape != shape)
      throw Error(fmt::format("tensor '{}' is [{}], the model's configuration wants [{}]", name,
                              fmt::join(it->second.shape, ", "), fmt::join(shape, ", ")));
    return it->second;
  }
  std::string conv(const std::string& m, const std::string& x, int64_t cin, int64_t cout, int64_t k, int64_t groups = 1,
                   int64_t dilation = 1) {
    return s_.conv(m, x, weight(m + ".weight", {cout, cin / groups, k, k}), weight(m + ".bias", {cout}), groups, dilation);
  }
  // The pointwise conv `m` then BN `bn` in eval mode, y = (x - mean) * gamma / sqrt(var + eps) + beta,
  // as one conv; folded in double.
  std::string conv_bn(const std::string& m, const std::string& bn, const std::string& x, int64_t cin, int64_t cout) {
    const auto& w = weight(m + ".weight", {cout, cin, 1, 1}).values;
    const auto& bias = weight(m + ".bias", {cout}).values;
    const auto& gamma = weight(bn + ".weight", {cout}).values;
    const auto& beta = weight(bn + ".bias", {cout}).values;
    const auto& mean = weight(bn + ".running_mean", {cout}).values;
    const auto& var = weight(bn + ".running_var", {cout}).values;
    WeightArray fw{{cout, cin, 1, 1}, std::vector<float>(w.size())}, fb{{cout}, std::vector<float>(size_t(cout))};
    for (size_t o = 0; o < size_t(cout); ++o) {
      const double s = double(gamma[o]) / std::sqrt(double(var[o]) + kBatchNormEps);
      for (size_t i = 0; i < size_t(cin); ++i) fw.values[o * size_t(cin) + i] = float(double(w[o * size_t(cin) + i]) * s);
      fb.values[o] = float((double(bias[o]) - double(mean[o])) * s + double(beta[o]));
    }
    return s_.conv(m, x, fw, fb, 1, 1);
  }
  // EBlock: SepConv-BN-ReLU twice, then the large-kernel attention gate t * pw(dwd(dw(t))).
  std::string block(const std::string& m, int64_t cin, int64_t cout, const std::string& x) {
    const int64_t k = c_.dw_kernel;
    std::string t = conv(m + ".sep1.dw", x, cin, cin, k, cin);
    t = s_.relu(m + ".relu1", conv_bn(m + ".sep1.pw", m + ".bn1", t, cin, cout));
    t = conv(m + ".sep2.dw", t, cout, cout, k, cout);
    t = s_.relu(m + ".relu2", conv_bn(m + ".sep2.pw", m + ".bn2", t, cout, cout));
    std::string a = conv(m + ".lka.dw", t, cout, cout, c_.lka_kernel, cout);
    a = conv(m + ".lka.dwd", a, cout, cout, c_.lka_dilated_kernel, cout, c_.lka_dilation);
    a = conv(m + ".lka.pw", a, cout, cout, 1);
    return s_.mul(m + ".lka", t, a);
  }
  // Decoder level i: upsample the deeper map, concat [skip, up], EBlock. With sizes that are
  // multiples of 2^depth the upsampled map has the skip's size: no padding.
  std::string decoder(int i, const std::string& deep, const std::string& skip) {
    const std::string m = fmt::format("dfb{}", i);
    const int64_t cin = c_.channels(i + 1), cout = c_.channels(i);
    const std::string u = s_.up(m + ".up", deep, weight(m + ".up.weight", {cin, cout, 2, 2}), weight(m + ".up.bias", {cout}));
    return block(m + ".block", 2 * cout, cout, s_.concat(m + ".cat", skip, u));
  }

  LayerSink& s_;
  const ModelConfig& c_;
  const NetworkWeights& w_;
};

} // namespace

std::string model_output_name(ModelOutput o) {
  switch (o) {
  case ModelOutput::Logits: return "logits";
  case ModelOutput::Probabilities: return "probabilities";
  case ModelOutput::Labels: return "labels";
  }
  return "logits";
}

void check_export_networks(const std::vector<ExportNetwork>& nets, ModelOutput output) {
  if (nets.empty()) throw Error("no network to export");
  if (nets.size() > 1 && output == ModelOutput::Logits)
    throw UsageError("an ensemble averages its networks' softmax: --model-output probabilities or labels, not logits");
  for (const auto& n : nets)
    if (n.config.classes != nets[0].config.classes || n.config.in_channels != nets[0].config.in_channels)
      throw Error("an ensemble's networks need the same classes and input channels");
}

std::string emit_network(LayerSink& sink, const ModelConfig& config, const NetworkWeights& weights, const std::string& x) {
  config.validate();
  return Walk(sink, config, weights).network(x);
}

} // namespace dlk
