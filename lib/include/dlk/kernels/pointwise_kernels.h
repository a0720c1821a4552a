// 1x1 convolutions of channels-last (NHWC) pixels on the CPU, without LibTorch: a GEMM of the
// pixels [rows][cin] by the weights [cin][cout], with the bias, a ReLU or the LKA's gate multiply
// applied on the way out, into a destination that need not be dense (a channel range of a wider
// map: the decoder's concatenation, written in place) or into the 2x2 pixel blocks of a
// ConvTranspose(k2, s2). One thread; fp32 throughout.
#pragma once
#include "dlk/kernels/aligned_vector.h"
#include "dlk/kernels/cpu_isa.h"

#include <cstdint>
#include <vector>

namespace dlk::kernels {

// Weights packed for pointwise_cpu: panels of `nr` output channels, each [cin][nr] with zeros past
// cout, so that the inner loop reads one panel row a step, and the bias padded alike.
struct PointwiseWeights {
  int cin = 0, cout = 0, nr = 0;
  CpuIsa isa = CpuIsa::portable;
  AlignedFloats panels; // [ceil(cout / nr)][cin][nr]
  AlignedFloats bias;   // [ceil(cout / nr) * nr]
};
// w is a 1x1 Conv2d's weight, [cout][cin]; b [cout] or null (zeros).
PointwiseWeights pack_pointwise(const float* w, const float* b, int cin, int cout, CpuIsa isa = cpu_isa());
// The output channels a panel holds for `isa` (the ConvTranspose form needs up_channels to be a
// multiple of it).
int pointwise_panel_width(CpuIsa isa);

// Where the rows go and what happens to them on the way.
struct PointwiseOutput {
  float* y = nullptr;
  int64_t ldy = 0;             // floats from one output pixel to the next (>= cout: a channel range)
  bool relu = false;
  const float* gate = nullptr; // y = gate (.) (x W + b), the gate's pixels ldg floats apart
  int64_t ldg = 0;
  // ConvTranspose(k2, s2) as a 1x1 conv to 4 * up_channels outputs ordered (a, b, o): input pixel
  // m = i * up_width + j goes to output pixel (2i + a, 2j + b) of the 2 * up_width-wide map, its
  // channels [0, up_channels). 0: a plain 1x1 convolution.
  int up_width = 0, up_channels = 0;
};

// y[m][n] = act(b[n] + sum_k x[m * ldx + k] * W[k][n]) for pixels m in [0, rows).
void pointwise_cpu(const float* x, int64_t ldx, int64_t rows, const PointwiseWeights& w, const PointwiseOutput& out);

} // namespace dlk::kernels
