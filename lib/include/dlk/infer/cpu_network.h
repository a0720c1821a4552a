// DLKUNet's inference on a CPU without LibTorch: the network of dlk/model/model.h evaluated with
// dlk's own kernels, channels-last and in fp32, one image at a time on the calling thread.
//  - BN is folded into the pointwise convs at load (network_plan's folding, in double), each
//    ReLU and the LKA's gate multiply happen as the pointwise conv writes its outputs, and the
//    ConvTranspose is a 1x1 conv that writes its 2x2 pixel blocks;
//  - each depthwise conv runs a band of rows at a time, right before the pointwise conv that reads
//    that band, so the band is still in the core's cache; the LKA's 5x5 runs just ahead of its
//    dilated 7x7, the 7x7 just ahead of the 1x1 and the gate;
//  - an encoder level writes its output into the first half of the decoder's concatenation and
//    the ConvTranspose into the second: no copies;
//  - no thread synchronisation at all: dlk-infer gives each core its own slices.
#pragma once
#include "dlk/export/network_plan.h"
#include "dlk/kernels/cpu_isa.h"

#include <memory>

namespace dlk {

class CpuNetwork {
public:
  // A dlk::Error names a tensor missing or misshapen.
  CpuNetwork(const ModelConfig& config, const NetworkWeights& weights, kernels::CpuIsa isa = kernels::cpu_isa());
  ~CpuNetwork();
  CpuNetwork(const CpuNetwork&) = delete;
  CpuNetwork& operator=(const CpuNetwork&) = delete;

  // Whether it runs an h x w input: every pooling must halve it exactly, and the level channels
  // must fill whole kernel panels (DLKUNet's 96 * 2^i do).
  bool supports(int64_t h, int64_t w) const;
  // One image, x [in_channels][h][w] (planes), to logits [h][w][classes] (channels-last). Scratch
  // memory is kept per calling thread for the next image.
  void forward(const float* x, int64_t h, int64_t w, float* logits) const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace dlk
