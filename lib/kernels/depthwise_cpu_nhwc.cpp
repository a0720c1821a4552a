// Depthwise convolution on the CPU for channels-last (NHWC) images. There a pixel's channels are
// contiguous, so each vector holds 8 channels of one pixel, a tap's weights for those channels are
// one vector too, and shifting a tap moves by whole pixels: no horizontal shuffles. Eight output
// pixels of a row share each weight vector. fp32 or bf16 storage, fp32 sums.
// (On a CPU, LibTorch's oneDNN convolutions run two to six times faster channels-last in bf16, so
// dlk-infer runs the network that way; this kernel keeps the dilated convs, which LibTorch still
// sends to a slow loop, in the same layout.)
#include "dlk/kernels/depthwise_kernels.h"
#include "cpu_vector.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace dlk::kernels {
namespace {

using namespace cpu;

// Blocks of 8 channels: the input rows are copied (bf16: converted to fp32) once per block into a
// ring of the 2p+1 rows that an output row reads, dense ([W][8]) and with p zero pixels on either
// side, so that the loads are consecutive (a pixel's 8 channels are 32 bytes of a 4*C-byte pixel in
// the image) and eight outputs share each weight vector without bounds checks.
template <typename T>
DLK_INLINE void rows_blocks(const T* x, const float* wt, const float* b, T* y, int H, int W, int C, int k, int d,
                            int row0, int row1) {
  constexpr int Q = 8; // outputs a weight load
  const int p = d * (k - 1) / 2, C8 = C / 8 * 8, PW = W + 2 * p + Q - 1; // + Q - 1: the last group's overhang
  const int ring = 2 * p + 1;
  thread_local std::vector<float> buf;
  buf.assign(size_t(ring) * PW * 8, 0.f);
  auto slot = [&](int r) { return buf.data() + size_t(r % ring) * PW * 8; };
  for (int c0 = 0; c0 < C8; c0 += 8) {
    int loaded = std::max(0, row0 - p); // rows [.., loaded) are in the ring
    const v8 bias = b ? load8(b + c0) : v8{};
    for (int i = row0; i < row1; ++i) {
      for (; loaded <= std::min(H - 1, i + p); ++loaded) {
        float* br = slot(loaded) + size_t(p) * 8;
        const T* xr = x + int64_t(loaded) * W * C + c0;
        for (int s = 0; s < W; ++s) store8(br + size_t(s) * 8, load8(xr + int64_t(s) * C));
      }
      for (int j = 0; j < W; j += Q) {
        v8 acc[Q];
        for (int q = 0; q < Q; ++q) acc[q] = bias;
        for (int u = 0; u < k; ++u) {
          const int r = i + u * d - p;
          if (r < 0 || r >= H) continue;
          const float* xs = slot(r) + size_t(j) * 8; // padded column j = input column j - p
          for (int v = 0; v < k; ++v, xs += size_t(d) * 8) {
            const v8 wv = load8(wt + (u * k + v) * C + c0);
            for (int q = 0; q < Q; ++q) acc[q] += wv * load8(xs + q * 8);
          }
        }
        for (int q = 0; q < Q && j + q < W; ++q) store8(y + (int64_t(i) * W + j + q) * C + c0, acc[q]);
      }
    }
  }
}

// Output rows [row0, row1) of one image; wt is [k*k][C] (tap-major): blocks of 8 channels as
// above, channels beyond a multiple of 8 one at a time.
template <typename T>
DLK_INLINE void rows(const T* x, const float* wt, const float* b, T* y, int H, int W, int C, int k, int d, int row0,
                     int row1) {
  rows_blocks(x, wt, b, y, H, W, C, k, d, row0, row1);
  const int p = d * (k - 1) / 2;
  for (int c = C / 8 * 8; c < C; ++c)
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
        store1(y + (int64_t(i) * W + j) * C + c, acc);
      }
}

template <typename T>
__attribute__((target("avx2,fma"))) void rows_avx2(const T* x, const float* wt, const float* b, T* y, int H, int W,
                                                    int C, int k, int d, int row0, int row1) {
  rows(x, wt, b, y, H, W, C, k, d, row0, row1);
}

template <typename T>
void rows_best(const T* x, const float* wt, const float* b, T* y, int H, int W, int C, int k, int d, int row0, int row1) {
  if (cpu_has_avx2_fma())
    rows_avx2(x, wt, b, y, H, W, C, k, d, row0, row1);
  else
    rows(x, wt, b, y, H, W, C, k, d, row0, row1);
}

} // namespace

void depthwise_rows_nhwc_cpu(const float* x, const float* wt, const float* b, float* y, int height, int width,
                             int channels, int k, int dilation, int row0, int row1) {
  rows_best(x, wt, b, y, height, width, channels, k, dilation, row0, row1);
}

void depthwise_rows_nhwc_cpu_portable(const float* x, const float* wt, const float* b, float* y, int height, int width,
                                      int channels, int k, int dilation, int row0, int row1) {
  rows(x, wt, b, y, height, width, channels, k, dilation, row0, row1);
}

void depthwise_rows_nhwc_cpu_bf16(const uint16_t* x, const float* wt, const float* b, uint16_t* y, int height,
                                  int width, int channels, int k, int dilation, int row0, int row1) {
  rows_best(x, wt, b, y, height, width, channels, k, dilation, row0, row1);
}

} // namespace dlk::kernels
