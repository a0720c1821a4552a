// The channels-last depthwise convolution's body for whole vectors of channels (C a multiple of L),
// fp32, written once for every vector width and compiled once per instruction set
// (depthwise_cpu_avx512.cpp, depthwise_cpu_avx2.cpp, built with that set enabled, as
// pointwise_tile.h explains). It reads the input where it lies, Q outputs of a row at a time, each
// input vector loaded once for all the outputs that use it; only the columns within the padding of
// the border take the per-pixel path that checks each tap.
#pragma once
#include "cpu_vector.h"

#include <cstdint>
#include <type_traits>

namespace dlk::kernels {
namespace {

using namespace cpu;

// Q outputs d pixels apart (one phase of a dilated conv, neighbours for d = 1): output q's tap v
// reads input q + v of the phase, so each of the Q + K - 1 inputs of a tap row is loaded once and
// used by every output that needs it, with the row's K weight vectors held in registers.
// The addresses advance by a pointer step rather than as base + t * stride: with the strides known
// only at run time, GCC would keep each of the Q + K - 1 offsets in a register of its own.
template <int L, int Q, int K>
DLK_INLINE void taps_fixed(const float* xs, float* ys, const float* wt, typename Lanes<L>::V bias, int u0, int u1, int d,
                           int C, int64_t row) {
  using V = typename Lanes<L>::V;
  const int64_t step = int64_t(d) * C; // from one input of the phase to the next
  V acc[Q];
#pragma GCC unroll 16
  for (int q = 0; q < Q; ++q) acc[q] = bias;
  const float* xu = xs + u0 * d * row;
  const float* wu = wt + u0 * K * C;
  for (int u = u0; u < u1; ++u, xu += d * row) {
    V w[K];
#pragma GCC unroll 16
    for (int v = 0; v < K; ++v, wu += C) w[v] = Lanes<L>::load(wu);
    const float* xp = xu;
#pragma GCC unroll 32
    for (int t = 0; t < Q + K - 1; ++t, xp += step) {
      const V x = Lanes<L>::load(xp);
#pragma GCC unroll 16
      for (int q = 0; q < Q; ++q)
        if (t - q >= 0 && t - q < K) acc[q] += w[t - q] * x;
    }
  }
#pragma GCC unroll 16
  for (int q = 0; q < Q; ++q, ys += step) Lanes<L>::store(ys, acc[q]);
}

// The same for any kernel size: each tap's weights loaded once for the Q outputs.
template <int L, int Q>
DLK_INLINE void taps_any(const float* xs, float* ys, const float* wt, typename Lanes<L>::V bias, int u0, int u1, int k,
                         int d, int C, int64_t row) {
  using V = typename Lanes<L>::V;
  V acc[Q];
#pragma GCC unroll 16
  for (int q = 0; q < Q; ++q) acc[q] = bias;
  for (int u = u0; u < u1; ++u)
    for (int v = 0; v < k; ++v) {
      const V wv = Lanes<L>::load(wt + (u * k + v) * C);
      const float* xv = xs + u * d * row + int64_t(v) * d * C;
#pragma GCC unroll 16
      for (int q = 0; q < Q; ++q) acc[q] += wv * Lanes<L>::load(xv + int64_t(q) * d * C);
    }
#pragma GCC unroll 16
  for (int q = 0; q < Q; ++q) Lanes<L>::store(ys + int64_t(q) * d * C, acc[q]);
}

// Output rows [row0, row1) into y (which holds just those rows); K the kernel size, or 0 for any
// (k). Interior tiles of Q outputs, then of 4, then single outputs; the border pixels alone check
// their taps.
template <int L, int Q, int K>
DLK_INLINE void rows_kernel(const float* x, const float* wt, const float* b, float* y, int H, int W, int C, int k, int d,
                            int row0, int row1) {
  using V = typename Lanes<L>::V;
  const int p = d * (k - 1) / 2;
  const int64_t row = int64_t(W) * C;
  for (int i = row0; i < row1; ++i) {
    int u0 = 0, u1 = k; // the taps' rows inside the image
    while (i + u0 * d - p < 0) ++u0;
    while (u1 > u0 && i + (u1 - 1) * d - p >= H) --u1;
    const float* xr = x + int64_t(i - p) * row; // tap row u at xr + u*d*row
    float* yr = y + int64_t(i - row0) * row;
    // Pixel blocks outside, channel vectors inside: the loads of a block walk its pixels' channels
    // in order (C*4 contiguous bytes a pixel), which the prefetchers follow.
    auto edge = [&](int j) { // one pixel near a side: the taps' columns inside the image only
      int v0 = 0, v1 = k;
      while (j + v0 * d - p < 0) ++v0;
      while (v1 > v0 && j + (v1 - 1) * d - p >= W) --v1;
      for (int c0 = 0; c0 < C; c0 += L) {
        V acc = b ? Lanes<L>::load(b + c0) : V{};
        for (int u = u0; u < u1; ++u) {
          const float* xs = xr + u * d * row + int64_t(j - p) * C + c0;
          for (int v = v0; v < v1; ++v) acc += Lanes<L>::load(wt + (u * k + v) * C + c0) * Lanes<L>::load(xs + int64_t(v) * d * C);
        }
        Lanes<L>::store(yr + int64_t(j) * C + c0, acc);
      }
    };
    // Tiles of n outputs of each of the d phases: the outputs j + r + d*q, q < n, read inputs of one
    // phase.
    auto tiles = [&](auto n, int& j, int hi) {
      constexpr int N = decltype(n)::value;
      for (; j + d * N <= hi; j += d * N)
        for (int c0 = 0; c0 < C; c0 += L) {
          const V bias = b ? Lanes<L>::load(b + c0) : V{};
          for (int r = 0; r < d; ++r) {
            const float* xs = xr + int64_t(j + r - p) * C + c0;
            float* ys = yr + int64_t(j + r) * C + c0;
            if constexpr (K > 0) taps_fixed<L, N, K>(xs, ys, wt + c0, bias, u0, u1, d, C, row);
            else taps_any<L, N>(xs, ys, wt + c0, bias, u0, u1, k, d, C, row);
          }
        }
    };
    const int lo = p < W ? p : W, hi = W - p > lo ? W - p : lo; // [lo, hi): every tap inside
    int j = 0;
    for (; j < lo; ++j) edge(j);
    tiles(std::integral_constant<int, Q>(), j, hi);
    tiles(std::integral_constant<int, 4>(), j, hi);
    tiles(std::integral_constant<int, 1>(), j, hi);
    for (; j < W; ++j) edge(j);
  }
}

// Q_SMALL outputs a tile for 3x3 and 5x5 kernels, Q_LARGE for 7x7: what the registers hold beside
// the K weight vectors.
template <int L, int Q_SMALL, int Q_LARGE>
DLK_INLINE void depthwise_rows_vectors(const float* x, const float* wt, const float* b, float* y, int H, int W, int C, int k,
                                       int d, int row0, int row1) {
  switch (k) { // DLKUNet's kernels: 3 (5, 7 in the ablations), the LKA's 5 and 7
  case 3: return rows_kernel<L, Q_SMALL, 3>(x, wt, b, y, H, W, C, k, d, row0, row1);
  case 5: return rows_kernel<L, Q_SMALL, 5>(x, wt, b, y, H, W, C, k, d, row0, row1);
  case 7: return rows_kernel<L, Q_LARGE, 7>(x, wt, b, y, H, W, C, k, d, row0, row1);
  default: return rows_kernel<L, 8, 0>(x, wt, b, y, H, W, C, k, d, row0, row1);
  }
}

} // namespace
} // namespace dlk::kernels
