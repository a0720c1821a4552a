// Depthwise convolution on the CPU for channels-last (NHWC) images. There a pixel's channels are
// contiguous, so each vector holds 8 channels of one pixel, a tap's weights for those channels are
// one vector too, and shifting a tap moves by whole pixels: no horizontal shuffles. Eight output
// pixels of a row share each weight vector. fp32 or bf16 storage, fp32 sums.
// (On a CPU, LibTorch's oneDNN convolutions run two to six times faster channels-last in bf16, so
// dlk-infer runs the network that way; this kernel keeps the dilated convs, which LibTorch still
// sends to a slow loop, in the same layout.)
#include "dlk/kernels/depthwise_kernels.h"
#include "dlk/kernels/cpu_isa.h"
#include "cpu_vector.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace dlk::kernels {
namespace detail {
void depthwise_rows_avx512(const float* x, const float* wt, const float* b, float* y, int H, int W, int C, int k, int d,
                           int row0, int row1);
void depthwise_rows_avx2(const float* x, const float* wt, const float* b, float* y, int H, int W, int C, int k, int d,
                         int row0, int row1);
} // namespace detail
namespace {

using namespace cpu;

// Blocks of L (8 or 16) channels from channel c_from on, as many as fit: the input rows are
// copied (bf16: converted to fp32) once per block into a ring of the 2p+1 rows that an output row
// reads, dense ([W][L]) and with p zero pixels on either side, so that the loads are consecutive
// (a pixel's L channels are 4L bytes of a 4*C-byte pixel in the image) and eight outputs share
// each weight vector without bounds checks. Returns the first channel not done.
template <int L, typename T>
DLK_INLINE int rows_blocks(const T* x, const float* wt, const float* b, T* y, int H, int W, int C, int k, int d,
                           int row0, int row1, int c_from) {
  using V = typename Lanes<L>::V;
  constexpr int Q = 8; // outputs a weight load
  const int p = d * (k - 1) / 2, c_to = c_from + (C - c_from) / L * L, PW = W + 2 * p + Q - 1; // + Q - 1: the last group's overhang
  const int ring = 2 * p + 1;
  if (c_to == c_from) return c_from;
  thread_local std::vector<float> buf;
  buf.assign(size_t(ring) * PW * L, 0.f);
  auto slot = [&](int r) { return buf.data() + size_t(r % ring) * PW * L; };
  for (int c0 = c_from; c0 < c_to; c0 += L) {
    int loaded = std::max(0, row0 - p); // rows [.., loaded) are in the ring
    const V bias = b ? Lanes<L>::load(b + c0) : V{};
    for (int i = row0; i < row1; ++i) {
      for (; loaded <= std::min(H - 1, i + p); ++loaded) {
        float* br = slot(loaded) + size_t(p) * L;
        const T* xr = x + int64_t(loaded) * W * C + c0;
        for (int s = 0; s < W; ++s) Lanes<L>::store(br + size_t(s) * L, Lanes<L>::load(xr + int64_t(s) * C));
      }
      for (int j = 0; j < W; j += Q) {
        V acc[Q];
        for (int q = 0; q < Q; ++q) acc[q] = bias;
        for (int u = 0; u < k; ++u) {
          const int r = i + u * d - p;
          if (r < 0 || r >= H) continue;
          const float* xs = slot(r) + size_t(j) * L; // padded column j = input column j - p
          for (int v = 0; v < k; ++v, xs += size_t(d) * L) {
            const V wv = Lanes<L>::load(wt + (u * k + v) * C + c0);
            for (int q = 0; q < Q; ++q) acc[q] += wv * Lanes<L>::load(xs + q * L);
          }
        }
        for (int q = 0; q < Q && j + q < W; ++q) Lanes<L>::store(y + (int64_t(i - row0) * W + j + q) * C + c0, acc[q]);
      }
    }
  }
  return c_to;
}

// Output rows [row0, row1) of one image; wt is [k*k][C] (tap-major): blocks of L channels (with
// L = 16 then blocks of 8 for what is left) as above, the channels beyond one at a time.
template <int L, typename T>
DLK_INLINE void rows(const T* x, const float* wt, const float* b, T* y, int H, int W, int C, int k, int d, int row0,
                     int row1) {
  int done = rows_blocks<L>(x, wt, b, y, H, W, C, k, d, row0, row1, 0);
  if (L > 8) done = rows_blocks<8>(x, wt, b, y, H, W, C, k, d, row0, row1, done);
  const int p = d * (k - 1) / 2;
  for (int c = done; c < C; ++c)
    for (int i = row0; i < row1; ++i)
      for (int j = 0; j < W; ++j) {
        float acc = b ? b[c] : 0.f;
        for (int u = 0; u < k; ++u) {
          const int r = i + u * d - p;
          if (r < 0 || r >= H) continue;
          for (int v = 0; v < k; ++v) {
            const int s = j + v * d - p;
            if (s >= 0 && s < W) acc += wt[(u * k + v) * C + c] * to_float(x[(int64_t(r) * W + s) * C + c]);
          }
        }
        store1(y + (int64_t(i - row0) * W + j) * C + c, acc);
      }
}

template <typename T>
__attribute__((target("avx2,fma"))) void rows_avx2(const T* x, const float* wt, const float* b, T* y, int H, int W,
                                                    int C, int k, int d, int row0, int row1) {
  rows<8>(x, wt, b, y, H, W, C, k, d, row0, row1);
}

// 16 channels a vector: half the instructions of the AVX2 form for DLKUNet's 96 to 768 channels.
template <typename T>
__attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma"))) void rows_avx512(const T* x, const float* wt, const float* b,
                                                                               T* y, int H, int W, int C, int k, int d,
                                                                               int row0, int row1) {
  rows<16>(x, wt, b, y, H, W, C, k, d, row0, row1);
}

template <typename T>
void rows_best(const T* x, const float* wt, const float* b, T* y, int H, int W, int C, int k, int d, int row0, int row1,
               CpuIsa isa) {
  if (isa == CpuIsa::avx512)
    rows_avx512(x, wt, b, y, H, W, C, k, d, row0, row1);
  else if (isa == CpuIsa::avx2)
    rows_avx2(x, wt, b, y, H, W, C, k, d, row0, row1);
  else
    rows<8>(x, wt, b, y, H, W, C, k, d, row0, row1);
}

} // namespace

void depthwise_band_nhwc_cpu(const float* x, const float* wt, const float* b, float* y, int height, int width,
                             int channels, int k, int dilation, int row0, int row1, CpuIsa isa) {
  // fp32 in whole vectors: straight from the input (depthwise_rows_tile.h), 2-3x the ring's rate.
  if (isa == CpuIsa::avx512 && channels % 16 == 0)
    return detail::depthwise_rows_avx512(x, wt, b, y, height, width, channels, k, dilation, row0, row1);
  if (isa >= CpuIsa::avx2 && channels % 8 == 0)
    return detail::depthwise_rows_avx2(x, wt, b, y, height, width, channels, k, dilation, row0, row1);
  rows_best(x, wt, b, y, height, width, channels, k, dilation, row0, row1, isa);
}

void depthwise_rows_nhwc_cpu(const float* x, const float* wt, const float* b, float* y, int height, int width,
                             int channels, int k, int dilation, int row0, int row1) {
  depthwise_band_nhwc_cpu(x, wt, b, y + int64_t(row0) * width * channels, height, width, channels, k, dilation, row0, row1);
}

void depthwise_rows_nhwc_cpu_portable(const float* x, const float* wt, const float* b, float* y, int height, int width,
                                      int channels, int k, int dilation, int row0, int row1) {
  rows<8>(x, wt, b, y + int64_t(row0) * width * channels, height, width, channels, k, dilation, row0, row1);
}

void depthwise_rows_nhwc_cpu_bf16(const uint16_t* x, const float* wt, const float* b, uint16_t* y, int height,
                                  int width, int channels, int k, int dilation, int row0, int row1) {
  rows_best(x, wt, b, y + int64_t(row0) * width * channels, height, width, channels, k, dilation, row0, row1, cpu_isa());
}

} // namespace dlk::kernels
