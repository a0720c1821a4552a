#include "dlk/train/deep_supervision.h"
#include "dlk/core/error.h"

#include <fmt/format.h>

#include <torch/torch.h>

#include <cstdlib>

namespace dlk {

std::vector<double> deep_supervision_weights(int levels) {
  std::vector<double> w;
  double sum = 0;
  for (int l = 0; l < levels; ++l) sum += w.emplace_back(std::ldexp(1.0, -l));
  for (double& x : w) x /= sum;
  return w;
}

torch::Tensor downsample_labels(const torch::Tensor& labels, int64_t h, int64_t w) {
  if (labels.size(1) == h && labels.size(2) == w) return labels;
  namespace F = torch::nn::functional;
  auto o = F::InterpolateFuncOptions().size(std::vector<int64_t>{h, w}).mode(torch::kNearest);
  return F::interpolate(labels.unsqueeze(1).to(torch::kFloat32), o).squeeze(1).to(torch::kInt64);
}

int supervisable_levels(const ModelConfig& cfg) { return cfg.depth(); }

int resolve_deep_supervision(int requested, const ModelConfig& cfg, int64_t height, int64_t width) {
  const int most = supervisable_levels(cfg);
  if (requested < 0 || requested == 1)
    throw UsageError(fmt::format("--supervised-levels: {} (2 or more levels, level 0 included; 0: all)", requested));
  if (requested > most)
    throw UsageError(fmt::format("--supervised-levels: {}, but DLKUNet-{} has {} decoder levels (S 2, M 3, L 4)",
                                 requested, cfg.variant, most));
  const int k = requested == 0 ? most : requested;
  // The coarsest supervised output must still show a shape: at least 4 pixels a side.
  const int64_t h = height >> (k - 1), w = width >> (k - 1);
  if (h < 4 || w < 4)
    throw UsageError(fmt::format("--deep-supervision: at --size {}x{} level {} is {}x{} pixels, too small to supervise "
                                 "(at least 4x4): give --supervised-levels {} or train larger slices",
                                 height, width, k - 1, h, w, std::max(2, k - 1)));
  return k;
}

DeepSupervisionImpl::DeepSupervisionImpl(const ModelConfig& cfg, int levels_)
    : levels(levels_), weights(deep_supervision_weights(levels_)) {
  for (int l = 1; l < levels; ++l)
    heads.push_back(register_module(fmt::format("head{}", l),
                                    torch::nn::Conv2d(torch::nn::Conv2dOptions(cfg.channels(l), cfg.classes, 1).bias(true))));
}

std::vector<torch::Tensor> DeepSupervisionImpl::forward(DLKUNet& model, const torch::Tensor& x) {
  const auto features = model->decode(x); // coarsest first, level 0 last
  const size_t n = features.size();
  std::vector<torch::Tensor> out{model->head(features[n - 1])};
  for (int l = 1; l < levels; ++l) out.push_back(heads[size_t(l - 1)](features[n - 1 - size_t(l)]));
  return out;
}

} // namespace dlk
