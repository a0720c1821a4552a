// The weight and bias gradients of a depthwise convolution on the CPU (the input gradient is the
// forward kernel with the taps turned by 180 degrees). LibTorch 1.13's depthwise backward is
// several times slower than its forward (a 7x7 dilation-3 conv over 4x96x224x224: 850 ms NCHW,
// 300 ms channels-last), and DLKUNet has four depthwise convs per block.
// dw[u][v] = sum over pixels of dy(i, j) * x(i + u*d - p, j + v*d - p): for each kernel row u and
// output row i, k dot products of the dy row with the x row shifted by v*d, in vector registers.
#include "dlk/kernels/depthwise_kernels.h"
#include "cpu_vector.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace dlk::kernels {
namespace {

using namespace cpu;

constexpr int MAX_K = 15;

DLK_INLINE float hsum(v8 v) {
  float s = 0.f;
  for (int i = 0; i < 8; ++i) s += v[i];
  return s;
}

// NCHW: one plane. x is copied into rows with p zeros on either side and dy into rows of W8 (a
// multiple of 8) with zeros beyond W, so one vector loop covers the edges: the zeros add nothing.
DLK_INLINE void plane_grad(const float* x, const float* dy, int H, int W, int k, int d, double* dw, double* db) {
  const int p = d * (k - 1) / 2, W8 = (W + 7) & ~7, PW = W8 + 2 * p;
  thread_local std::vector<float> xp, gp;
  xp.assign(size_t(H) * PW, 0.f);
  gp.assign(size_t(H) * W8, 0.f);
  double bias = 0;
  for (int r = 0; r < H; ++r) {
    std::memcpy(xp.data() + size_t(r) * PW + p, x + int64_t(r) * W, sizeof(float) * size_t(W));
    std::memcpy(gp.data() + size_t(r) * W8, dy + int64_t(r) * W, sizeof(float) * size_t(W));
    float s = 0.f;
    for (int c = 0; c < W; ++c) s += dy[int64_t(r) * W + c];
    bias += s;
  }
  *db += bias;
  for (int u = 0; u < k; ++u) {
    v8 a[MAX_K], b[MAX_K]; // two sums per tap: independent FMA chains
    for (int v = 0; v < k; ++v) a[v] = b[v] = v8{};
    const int i0 = std::max(0, p - u * d), i1 = std::min(H, H + p - u * d); // rows whose source row is inside
    for (int i = i0; i < i1; ++i) {
      const float* g = gp.data() + size_t(i) * W8;
      const float* xr = xp.data() + size_t(i + u * d - p) * PW; // xr[j + v*d] = x(row, j + v*d - p)
      int j = 0;
      for (; j + 16 <= W8; j += 16) {
        const v8 g0 = load8(g + j), g1 = load8(g + j + 8);
        for (int v = 0; v < k; ++v) {
          a[v] += g0 * load8(xr + j + v * d);
          b[v] += g1 * load8(xr + j + 8 + v * d);
        }
      }
      for (; j < W8; j += 8) {
        const v8 g0 = load8(g + j);
        for (int v = 0; v < k; ++v) a[v] += g0 * load8(xr + j + v * d);
      }
    }
    for (int v = 0; v < k; ++v) dw[u * k + v] += double(hsum(a[v] + b[v]));
  }
}

// NHWC: channels [c0, c1) of one image, 8 channels a vector. Each block of 8 channels is first
// copied out of the image into dense rows ([W][8], and x with p zero pixels on either side), so
// that the dot products read consecutive vectors (a pixel's 8 channels are 32 bytes of a 4*C-byte
// pixel in the image) and need no bounds checks.
DLK_INLINE void nhwc_grad(const float* x, const float* dy, int H, int W, int C, int k, int d, int c0, int c1,
                          float* dwt, float* db) {
  const int p = d * (k - 1) / 2, PW = W + 2 * p;
  thread_local std::vector<float> xb, gb;
  int c = c0;
  for (; c + 8 <= c1; c += 8) {
    xb.assign(size_t(H) * PW * 8, 0.f);
    gb.resize(size_t(H) * W * 8);
    v8 bias = v8{};
    for (int r = 0; r < H; ++r)
      for (int s = 0; s < W; ++s) {
        const int64_t at = (int64_t(r) * W + s) * C + c;
        store8(xb.data() + (size_t(r) * PW + p + s) * 8, load8(x + at));
        const v8 g = load8(dy + at);
        store8(gb.data() + (size_t(r) * W + s) * 8, g);
        bias += g;
      }
    v8 acc[MAX_K * MAX_K];
    for (int t = 0; t < k * k; ++t) acc[t] = v8{};
    for (int i = 0; i < H; ++i) {
      const float* g = gb.data() + size_t(i) * W * 8;
      for (int u = 0; u < k; ++u) {
        const int r = i + u * d - p;
        if (r < 0 || r >= H) continue;
        const float* xr = xb.data() + size_t(r) * PW * 8; // xr[(j + v*d) * 8] = x(r, j + v*d - p)
        for (int v = 0; v < k; ++v) {
          const float* xs = xr + size_t(v) * d * 8;
          v8 a0 = v8{}, a1 = v8{}, a2 = v8{}, a3 = v8{};
          int j = 0;
          for (; j + 4 <= W; j += 4) {
            a0 += load8(g + j * 8) * load8(xs + j * 8);
            a1 += load8(g + j * 8 + 8) * load8(xs + j * 8 + 8);
            a2 += load8(g + j * 8 + 16) * load8(xs + j * 8 + 16);
            a3 += load8(g + j * 8 + 24) * load8(xs + j * 8 + 24);
          }
          for (; j < W; ++j) a0 += load8(g + j * 8) * load8(xs + j * 8);
          acc[u * k + v] += (a0 + a1) + (a2 + a3);
        }
      }
    }
    for (int t = 0; t < k * k; ++t) store8(dwt + int64_t(t) * C + c, load8(dwt + int64_t(t) * C + c) + acc[t]);
    store8(db + c, load8(db + c) + bias);
  }
  for (; c < c1; ++c) // channels beyond a multiple of 8, one at a time
    for (int i = 0; i < H; ++i)
      for (int j = 0; j < W; ++j) {
        const float g = dy[(int64_t(i) * W + j) * C + c];
        db[c] += g;
        for (int u = 0; u < k; ++u) {
          const int r = i + u * d - p;
          if (r < 0 || r >= H) continue;
          for (int v = 0; v < k; ++v) {
            const int s = j + v * d - p;
            if (s >= 0 && s < W) dwt[int64_t(u * k + v) * C + c] += g * x[(int64_t(r) * W + s) * C + c];
          }
        }
      }
}

__attribute__((target("avx2,fma"))) void plane_grad_avx2(const float* x, const float* dy, int H, int W, int k, int d,
                                                         double* dw, double* db) {
  plane_grad(x, dy, H, W, k, d, dw, db);
}
__attribute__((target("avx2,fma"))) void nhwc_grad_avx2(const float* x, const float* dy, int H, int W, int C, int k,
                                                        int d, int c0, int c1, float* dwt, float* db) {
  nhwc_grad(x, dy, H, W, C, k, d, c0, c1, dwt, db);
}

void check_k(int k) {
  if (k < 1 || k > MAX_K || k % 2 == 0) throw std::invalid_argument("depthwise weight gradient: kernel size must be odd, at most 15");
}

} // namespace

void depthwise_weight_grad_plane_cpu(const float* x, const float* dy, int height, int width, int k, int dilation,
                                     double* dw, double* db) {
  check_k(k);
  if (cpu_has_avx2_fma())
    plane_grad_avx2(x, dy, height, width, k, dilation, dw, db);
  else
    plane_grad(x, dy, height, width, k, dilation, dw, db);
}

void depthwise_weight_grad_plane_cpu_portable(const float* x, const float* dy, int height, int width, int k,
                                              int dilation, double* dw, double* db) {
  check_k(k);
  plane_grad(x, dy, height, width, k, dilation, dw, db);
}

void depthwise_weight_grad_nhwc_cpu_portable(const float* x, const float* dy, int height, int width, int channels,
                                             int k, int dilation, int c0, int c1, float* dwt, float* db) {
  check_k(k);
  nhwc_grad(x, dy, height, width, channels, k, dilation, c0, c1, dwt, db);
}

void depthwise_weight_grad_nhwc_cpu(const float* x, const float* dy, int height, int width, int channels, int k,
                                    int dilation, int c0, int c1, float* dwt, float* db) {
  check_k(k);
  if (cpu_has_avx2_fma())
    nhwc_grad_avx2(x, dy, height, width, channels, k, dilation, c0, c1, dwt, db);
  else
    nhwc_grad(x, dy, height, width, channels, k, dilation, c0, c1, dwt, db);
}

} // namespace dlk::kernels
