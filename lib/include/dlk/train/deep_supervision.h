// Deep supervision (dlk-train --deep-supervision), as nnU-Net does it: a 1x1 head on each of the
// decoder's coarser outputs, each scored against the labels downsampled by nearest neighbour, the
// per-level losses weighted 1/2^level and normalised to sum 1. The heads exist only in training:
// checkpoints keep them under "deep_supervision/" for --resume, and dlk-infer and dlk-export,
// which load the model's own tensors, never see them.
#pragma once
#include "dlk/model/model.h"

#include <torch/nn.h>

#include <string>
#include <vector>

namespace dlk {

// The weights of `levels` supervised levels (level 0: full resolution): 1/2^l normalised to sum 1.
// nnU-Net also gives its coarsest decoder output weight 0; its coarsest is at 1/32 to 1/64 of the
// patch, DLKUNet's at 1/2 (S) to 1/8 (L), well able to carry a shape, so dlk keeps it.
std::vector<double> deep_supervision_weights(int levels);

// Labels [N, H, W] (int64) at h x w by nearest neighbour: what nnU-Net's DownsampleSegForDS does.
torch::Tensor downsample_labels(const torch::Tensor& labels, int64_t h, int64_t w);

// The decoder levels a model can supervise (its decoder outputs: S 2, M 3, L 4).
int supervisable_levels(const ModelConfig& cfg);

// The levels --deep-supervision trains: --supervised-levels K (levels 0..K-1), 0 for every decoder
// level. Checks K against the model and the input size (height x width): a UsageError naming the
// option.
int resolve_deep_supervision(int requested, const ModelConfig& cfg, int64_t height, int64_t width);

struct DeepSupervisionImpl : torch::nn::Module {
  // Heads for levels 1..levels-1 ("head1", ...); level 0 is the model's own head.
  DeepSupervisionImpl(const ModelConfig& cfg, int levels);
  // The logits of every supervised level, level 0 (the model's output) first.
  std::vector<torch::Tensor> forward(DLKUNet& model, const torch::Tensor& x);
  int levels;
  std::vector<double> weights;
  std::vector<torch::nn::Conv2d> heads;
};
TORCH_MODULE(DeepSupervision);

// The name prefix of the heads' tensors in checkpoints.
inline const std::string kDeepSupervisionPrefix = "deep_supervision/";

} // namespace dlk
