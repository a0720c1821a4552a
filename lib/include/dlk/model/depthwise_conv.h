// A depthwise convolution (groups = channels, stride 1, "same" zero padding) as DLKUNet uses it,
// computed by dlk's own kernels where it has them (dlk/kernels/depthwise_kernels.h) and by
// LibTorch's conv2d otherwise, with the same result either way:
//   CUDA    forward and backward (autograd), fp32/bf16/fp16 activations, NCHW or channels-last
//           (the output keeps the input's layout, as conv2d's does); under autocast the
//           activations take the autocast type, as conv2d's would;
//   CPU     training (fp32, every kernel: LibTorch's backward is slow for all of them) and
//           inference (fp32 or bf16, the dilated kernels: LibTorch's forward is slow only there),
//           NCHW or channels-last;
//   else    torch::conv2d.
// The tools run the network NCHW on a GPU (dlk's NCHW CUDA kernels were 1.2-1.3x faster end to end
// than its channels-last ones on an H200: BENCHMARKS.md); a channels-last input on a GPU still gets
// the channels-last kernels. --depthwise torch (use_depthwise_kernels(false)) runs LibTorch's.
#pragma once
#include <torch/types.h>

#include <string>

namespace dlk {

torch::Tensor depthwise_conv2d(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                               int64_t dilation);
// The implementation depthwise_conv2d picks.
enum class DepthwiseBackend { Torch, DlkCuda, DlkCpuAvx2, DlkCpu };
// "torch", "dlk-cuda", "dlk-cpu-avx2", "dlk-cpu": what tools print and tests check.
const char* depthwise_backend_name(DepthwiseBackend b);
// What depthwise_conv2d would run for a tensor on `device` that needs a gradient or not.
DepthwiseBackend select_depthwise_backend(const torch::Device& device, bool needs_grad);
inline std::string depthwise_backend(const torch::Device& device, bool needs_grad) {
  return depthwise_backend_name(select_depthwise_backend(device, needs_grad));
}
// Turns dlk's kernels on (the default) or off, LibTorch's then, for the whole process
// (dlk-train and dlk-infer --depthwise).
void use_depthwise_kernels(bool on);
// Whether a network on `device` runs fastest with channels-last activations: LibTorch's convs
// (cuDNN's, oneDNN's) and dlk's CPU kernels do; dlk's CUDA ones are fastest NCHW.
inline bool depthwise_prefers_channels_last(const torch::Device& device, bool needs_grad) {
  return select_depthwise_backend(device, needs_grad) != DepthwiseBackend::DlkCuda;
}

} // namespace dlk
