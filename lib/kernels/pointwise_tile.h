// The pointwise kernel's body, written once for every vector width and compiled once per
// instruction set: pointwise_cpu_avx512.cpp and pointwise_cpu_avx2.cpp are built with that set
// enabled (-m flags), where GCC puts the broadcasts into loads and the FMAs read them straight
// away (1.7x the rate of the same code under a target attribute). Everything here has internal
// linkage and calls no out-of-line library template, so no AVX-512 copy of a function can stand
// in for another translation unit's.
//
// MR pixels by 2 vectors of output channels sit in registers while the cin products are summed
// (AVX-512: 12 x 32, 24 zmm accumulators; AVX2: 6 x 16, 12 ymm), reading one packed weight row and
// MR broadcasts a step, straight from the pixels' rows (copying the block transposed first cost
// 10-20% of the rate); a chunk of weight panels (about 256 KB, in L2) is applied to every block of
// a span of pixels (about 1 MB, in L2 too) before the next chunk.
#pragma once
#include "dlk/kernels/pointwise_kernels.h"
#include "cpu_vector.h"

namespace dlk::kernels {
namespace {

using namespace cpu;

template <int L> DLK_INLINE typename Lanes<L>::V splat(float s) { return typename Lanes<L>::V{} + s; }
template <class V> DLK_INLINE V vmax0(V v) { return v > V{} ? v : V{}; }

template <int L, int MR>
DLK_INLINE void run(const float* x, int64_t ldx, int64_t rows, const PointwiseWeights& w, const PointwiseOutput& o) {
  using V = typename Lanes<L>::V;
  constexpr int NR = 2 * L;
  const int K = w.cin, panels = (w.cout + NR - 1) / NR;
  const int64_t fit = 256 * 1024 / (int64_t(K) * NR * 4);
  const int chunk = fit > 1 ? int(fit) : 1;
  // Pixels a pass over the panels: about 1 MB of inputs, so that with many input channels (DLKUNet-L's
  // deep levels, cin up to 3072) a chunk of pixels stays in L2 while every panel passes over it,
  // rather than all the pixels streaming in again for each panel.
  const int64_t fit_rows = 1024 * 1024 / (int64_t(K) * 4) / MR * MR, span = fit_rows > MR ? fit_rows : MR;
  for (int64_t s0 = 0; s0 < rows; s0 += span)
  for (int p0 = 0; p0 < panels; p0 += chunk) {
    const int p1 = p0 + chunk < panels ? p0 + chunk : panels;
    const int64_t s1 = s0 + span < rows ? s0 + span : rows;
    for (int64_t m0 = s0; m0 < s1; m0 += MR) {
      const int mr = rows - m0 < MR ? int(rows - m0) : MR;
      const float* xb = x + m0 * ldx; // rows m0 + r, r < mr (a short block repeats its last row)
      int64_t off[MR];
      for (int r = 0; r < MR; ++r) off[r] = (r < mr ? r : mr - 1) * ldx;
      for (int p = p0; p < p1; ++p) {
        const float* bp = w.panels.data() + int64_t(p) * K * NR;
        V acc[MR][2];
        const V b0 = Lanes<L>::load(w.bias.data() + p * NR), b1 = Lanes<L>::load(w.bias.data() + p * NR + L);
#pragma GCC unroll 16
        for (int r = 0; r < MR; ++r) acc[r][0] = b0, acc[r][1] = b1;
        for (int k = 0; k < K; ++k) {
          const V w0 = Lanes<L>::load(bp + k * NR), w1 = Lanes<L>::load(bp + k * NR + L);
#pragma GCC unroll 16
          for (int r = 0; r < MR; ++r) {
            const V s = splat<L>(xb[off[r] + k]);
            acc[r][0] += s * w0;
            acc[r][1] += s * w1;
          }
        }
        const int n0 = p * NR, cols = w.cout - n0 < NR ? w.cout - n0 : NR;
        for (int r = 0; r < mr; ++r) {
          const int64_t m = m0 + r;
          float* dst;
          if (o.up_width) {
            const int64_t i = m / o.up_width, j = m % o.up_width;
            const int sub = n0 / o.up_channels; // (a, b) = (sub / 2, sub % 2)
            dst = o.y + ((2 * i + sub / 2) * (2 * int64_t(o.up_width)) + 2 * j + sub % 2) * o.ldy + (n0 - sub * o.up_channels);
          } else {
            dst = o.y + m * o.ldy + n0;
          }
          V v0 = acc[r][0], v1 = acc[r][1];
          if (o.relu) v0 = vmax0(v0), v1 = vmax0(v1);
          if (o.gate) {
            const float* g = o.gate + m * o.ldg + n0;
            if (cols == NR) {
              v0 *= Lanes<L>::load(g);
              v1 *= Lanes<L>::load(g + L);
            } else {
              float t[NR] = {};
              for (int c = 0; c < cols; ++c) t[c] = g[c];
              v0 *= Lanes<L>::load(t);
              v1 *= Lanes<L>::load(t + L);
            }
          }
          if (cols == NR) {
            Lanes<L>::store(dst, v0);
            Lanes<L>::store(dst + L, v1);
          } else {
            float t[NR];
            Lanes<L>::store(t, v0);
            Lanes<L>::store(t + L, v1);
            for (int c = 0; c < cols; ++c) dst[c] = t[c];
          }
        }
      }
    }
  }
}

} // namespace
} // namespace dlk::kernels
