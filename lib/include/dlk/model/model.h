// DLKUNet in LibTorch, exactly as ../shared/spec/dlkunet-architecture.md describes it:
// EBlock = SepConv-BN-ReLU, SepConv-BN-ReLU, LKA gate; encoder levels with max-pooling;
// decoder levels (DFB) = ConvTranspose(k2, s2) + centred zero-pad + concat[skip, up] + EBlock;
// a 1x1 head. Parameter names ("stem.sep1.dw.weight", ...) are the checkpoint's tensor names
// and those of the Python reference in bench/reference/.
#pragma once
#include "dlk/model/model_config.h"

#include <torch/nn.h>

#include <vector>

namespace dlk {

struct SepConvImpl : torch::nn::Module {
  SepConvImpl(int64_t cin, int64_t cout, int64_t kernel);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d dw{nullptr}, pw{nullptr};
};
TORCH_MODULE(SepConv);

// Large-kernel attention: x * pw(dwd(dw(x))), one 1x1, no residual add.
struct LKAImpl : torch::nn::Module {
  LKAImpl(int64_t c, int64_t kernel, int64_t dilated_kernel, int64_t dilation);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d dw{nullptr}, dwd{nullptr}, pw{nullptr};
};
TORCH_MODULE(LKA);

struct EBlockImpl : torch::nn::Module {
  EBlockImpl(int64_t cin, int64_t cout, const ModelConfig& cfg);
  torch::Tensor forward(const torch::Tensor& x);
  SepConv sep1{nullptr}, sep2{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
  LKA lka{nullptr};
};
TORCH_MODULE(EBlock);

// Decoder level: upsample the deeper map to the skip's size, concatenate [skip, up], EBlock.
struct DFBImpl : torch::nn::Module {
  DFBImpl(int64_t cin, int64_t cout, const ModelConfig& cfg);
  torch::Tensor forward(const torch::Tensor& deep, const torch::Tensor& skip);
  torch::nn::ConvTranspose2d up{nullptr};
  EBlock block{nullptr};
};
TORCH_MODULE(DFB);

struct DLKUNetImpl : torch::nn::Module {
  explicit DLKUNetImpl(const ModelConfig& cfg);
  torch::Tensor forward(const torch::Tensor& x); // [N, in, H, W] -> logits [N, classes, H, W]
  // The decoder's outputs, coarsest first: level D-1 (C * 2^(D-1) channels, H / 2^(D-1)) down to
  // level 0, which the head reads. Deep supervision puts heads of its own on the others.
  std::vector<torch::Tensor> decode(const torch::Tensor& x);
  ModelConfig config;
  EBlock stem{nullptr};
  std::vector<EBlock> encoders; // enc1..encD (after a 2x2 max-pool each)
  std::vector<DFB> decoders;    // dfb for levels D-1 .. 0, in forward order
  torch::nn::Conv2d head{nullptr};
};
TORCH_MODULE(DLKUNet);

int64_t parameter_count(const torch::nn::Module& m);

// x with channels-last strides, also when it has one channel: x.contiguous(ChannelsLast) leaves
// a one-channel NCHW tensor as it is (both layouts describe its memory), its strides then say
// NCHW, and the convs that follow keep NCHW. This input makes the whole network channels-last.
torch::Tensor channels_last_input(const torch::Tensor& x);

} // namespace dlk
