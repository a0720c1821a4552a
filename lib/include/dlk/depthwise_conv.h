// A depthwise convolution (groups = channels, stride 1, "same" zero padding) as DLKUNet uses it,
// computed by dlk's own kernels where it has them (dlk/depthwise_kernels.h) and by LibTorch's
// conv2d otherwise, with the same result either way:
//   CUDA    forward and backward (autograd), fp32/bf16/fp16 activations, NCHW; under autocast the
//           activations take the autocast type, as conv2d's would;
//   CPU     inference (no gradient needed), fp32, dilated kernels (LibTorch's are slow only there);
//   else    torch::conv2d.
// DLK_KERNELS=torch in the environment turns dlk's kernels off (for comparisons).
#pragma once
#include <torch/types.h>

#include <string>

namespace dlk {

torch::Tensor depthwise_conv2d(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                               int64_t dilation);
// What depthwise_conv2d would run for a tensor on `device` that needs a gradient or not:
// "dlk-cuda", "dlk-cpu-avx2", "dlk-cpu" or "torch". Tools print it; tests check it.
std::string depthwise_backend(const torch::Device& device, bool needs_grad);
// Turns dlk's kernels on or off for the whole process (the default: on unless DLK_KERNELS=torch).
void use_depthwise_kernels(bool on);
// Whether LibTorch's conv2d would be used anyway (so channels-last is no cost to the depthwise convs).
inline bool depthwise_uses_torch(const torch::Device& device, bool needs_grad) {
  return depthwise_backend(device, needs_grad) == "torch";
}

} // namespace dlk
