// Depthwise convolution of one plane on the CPU. LibTorch 1.13 sends depthwise convs to a scalar
// oneDNN reference loop, nearly half of DLKUNet's CPU inference time. Here every output row is
// computed in registers: 32 outputs (four 8-wide vectors) at a time, one load and one FMA per tap
// and vector.
#include "dlk/kernels/depthwise_kernels.h"
#include "cpu_vector.h"

#include <cpuid.h>
#include <algorithm>
#include <cstring>
#include <vector>

namespace dlk::kernels {
namespace {

using namespace cpu;

// One output row from the `nr` input rows it reads (rows[q], padded) and their kernel rows.
DLK_INLINE void row_one(const float* const* rows, const float* const* wrow, int nr, int k, int d, float b,
                        float* o, int W8) {
  int j = 0;
  for (; j + 32 <= W8; j += 32) { // four independent sums hide the FMA latency
    v8 a0 = v8{} + b, a1 = a0, a2 = a0, a3 = a0;
    for (int q = 0; q < nr; ++q) {
      const float* xr = rows[q] + j;
      for (int v = 0; v < k; ++v) {
        const float wv = wrow[q][v];
        const float* s = xr + v * d;
        a0 += wv * load8(s);
        a1 += wv * load8(s + 8);
        a2 += wv * load8(s + 16);
        a3 += wv * load8(s + 24);
      }
    }
    store8(o + j, a0); store8(o + j + 8, a1); store8(o + j + 16, a2); store8(o + j + 24, a3);
  }
  for (; j < W8; j += 8) {
    v8 a0 = v8{} + b;
    for (int q = 0; q < nr; ++q)
      for (int v = 0; v < k; ++v) a0 += wrow[q][v] * load8(rows[q] + j + v * d);
    store8(o + j, a0);
  }
}

// The shared body; inlined into an AVX2/FMA-targeted and a default-targeted function below.
// The file is compiled with -ffp-contract=fast, so `acc + w * x` becomes one FMA where there is one.
// The plane is first copied into rows with p zeros on either side (and the width rounded up to 8),
// so that every output, edges included, is computed by the same vector loop. Input rows outside
// the plane are skipped (they add zero). bf16 (bf16 inference) is converted while the plane is
// copied into the padded rows and while each output row is stored, so it costs no extra pass.
template <typename T>
DLK_INLINE void plane(const T* x, const float* w, float b, T* y, int H, int W, int k, int d) {
  const int p = d * (k - 1) / 2, W8 = (W + 7) & ~7, PW = W8 + 2 * p;
  thread_local std::vector<float> padded, out;
  padded.resize(size_t(H) * PW);
  out.resize(W8);
  for (int r = 0; r < H; ++r) {
    float* pr = padded.data() + size_t(r) * PW;
    std::fill(pr, pr + p, 0.f);
    const T* xr = x + int64_t(r) * W;
    for (int c = 0; c < W; ++c) pr[p + c] = to_float(xr[c]);
    std::fill(pr + p + W, pr + PW, 0.f);
  }
  std::vector<const float*> rows(k), wrow(k);
  for (int i = 0; i < H; ++i) {
    int nr = 0;
    for (int u = 0; u < k; ++u) {
      const int r = i + u * d - p;
      if (r < 0 || r >= H) continue;
      rows[nr] = padded.data() + size_t(r) * PW;
      wrow[nr] = w + u * k;
      ++nr;
    }
    row_one(rows.data(), wrow.data(), nr, k, d, b, out.data(), W8);
    T* yr = y + int64_t(i) * W;
    for (int c = 0; c < W; ++c) store1(yr + c, out[size_t(c)]);
  }
}

template <typename T>
__attribute__((target("avx2,fma"))) void plane_avx2(const T* x, const float* w, float b, T* y, int H, int W, int k,
                                                     int d) {
  plane(x, w, b, y, H, W, k, d);
}

} // namespace

bool cpu_has_avx2_fma() { return cpu_isa_available() >= CpuIsa::avx2; }

namespace {
// The AVX2/FMA code where the CPU has it, the portable code elsewhere.
template <typename T> void plane_best(const T* x, const float* w, float b, T* y, int H, int W, int k, int d) {
  if (cpu_has_avx2_fma())
    plane_avx2(x, w, b, y, H, W, k, d);
  else
    plane(x, w, b, y, H, W, k, d);
}
} // namespace

bool cpu_has_native_bf16() {
  static const bool has = __builtin_cpu_supports("avx512bf16");
  return has;
}

bool cpu_has_amx_bf16() {
  static const bool has = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (d >> 22 & 1u) != 0; // CPUID.(7,0):EDX[22] AMX-BF16
  }();
  return has;
}

void depthwise_plane_cpu_portable(const float* x, const float* w, float b, float* y, int height, int width,
                                  int k, int dilation) {
  plane(x, w, b, y, height, width, k, dilation);
}

void depthwise_plane_cpu_bf16(const uint16_t* x, const float* w, float b, uint16_t* y, int height, int width, int k,
                              int dilation) {
  plane_best(x, w, b, y, height, width, k, dilation);
}

void depthwise_plane_cpu(const float* x, const float* w, float b, float* y, int height, int width, int k,
                         int dilation) {
  plane_best(x, w, b, y, height, width, k, dilation);
}

} // namespace dlk::kernels
