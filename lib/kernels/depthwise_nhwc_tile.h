// The launch plan and per-thread maths of the channels-last (NHWC) CUDA depthwise kernels
// (depthwise_cuda_nhwc.cu), written once for nvcc and for the host compiler so that a CPU test
// (tests/unit/test_depthwise_nhwc_tile.cpp) replays every block and thread of a launch against
// the convolution's definition.
//
// In NHWC a pixel's channels are contiguous, so a thread owns CV neighbouring channels (one
// vector load) of one output column, and the lanes of a warp own consecutive channel vectors:
// a warp's loads are one contiguous run. As in the NCHW kernels, a thread computes R outputs D
// rows apart, which share K-1 of their K input rows for dilation D. There is no shared-memory
// tile: neighbouring columns' threads reuse one another's loads through L1, and the channels'
// different weights sit in shared memory (tap-major, one row of CB channels per tap).
#pragma once
#include "depthwise_tile.h" // DLK_HD, DLK_UNROLL

#include <algorithm>
#include <cstdint>

namespace dlk::kernels::nhwc {

constexpr int R = 4;
constexpr int FORWARD_CV = 4, GRAD_CV = 2; // channels a thread: the weight gradient keeps K*K*CV sums

// One launch: grid (gx, gy, gz), blocks of (lanes, cols) threads.
//   lanes  channel vectors a block (CB = lanes*CV channels, a divisor of C), chunks = C / CB
//   cols   output columns a block, one per row of threads
//   th     output rows a block: R*D*groups (each thread runs D*groups sets of R rows)
//   images images a block (forward: 1; weight gradient: it sums over them)
struct Plan {
  int n, c, h, w, k, d, cv;
  int lanes, chunks, cols, groups, th, images;
  unsigned gx, gy, gz;
  DLK_HD int cb() const { return lanes * cv; }
  DLK_HD int threads() const { return lanes * cols; }
};

// Largest divisor of v that is at most cap.
inline int divisor_at_most(int v, int cap) {
  for (int d = std::min(v, cap); d > 1; --d)
    if (v % d == 0) return d;
  return 1;
}

// target_threads: threads a block; target_blocks: enough blocks to fill the GPU several times
// over (the weight gradient splits the batch into image groups to reach it).
inline Plan make_plan(int64_t n, int64_t c, int64_t h, int64_t w, int k, int d, int cv, int target_threads,
                      int target_blocks) {
  Plan p{};
  p.n = int(n), p.c = int(c), p.h = int(h), p.w = int(w), p.k = k, p.d = d, p.cv = cv;
  p.lanes = divisor_at_most(p.c / cv, 32);
  p.chunks = p.c / p.cb();
  p.cols = std::max(1, target_threads / p.lanes);
  p.groups = std::max(1, (32 + R * d - 1) / (R * d)); // about 32 rows a block
  p.th = R * d * p.groups;
  p.gx = unsigned((p.w + p.cols - 1) / p.cols);
  p.gy = unsigned((p.h + p.th - 1) / p.th);
  const int64_t per_image = int64_t(p.gx) * p.gy * p.chunks;
  const int64_t splits = target_blocks <= 0 ? p.n : std::min<int64_t>(p.n, std::max<int64_t>(1, (target_blocks + per_image - 1) / per_image));
  p.images = int((p.n + splits - 1) / splits);
  p.gz = unsigned(int64_t(p.chunks) * ((p.n + p.images - 1) / p.images));
  return p;
}
inline Plan forward_plan(int64_t n, int64_t c, int64_t h, int64_t w, int k, int d) {
  return make_plan(n, c, h, w, k, d, FORWARD_CV, 256, 0); // one image a block
}
inline Plan weight_grad_plan(int64_t n, int64_t c, int64_t h, int64_t w, int k, int d) {
  return make_plan(n, c, h, w, k, d, GRAD_CV, 128, 2048);
}

// What thread (tx, ty) of block (bx, by, bz) owns: images [n0, n1), output column ox (>= W: none),
// channels [c0, c0 + CV) (cl: their offset in the block's CB), rows from y0 (see first_row).
struct Work {
  int n0, n1, ox, c0, cl, y0, chunk;
};
DLK_HD Work thread_work(const Plan& p, int bx, int by, int bz, int tx, int ty) {
  Work t;
  t.chunk = bz % p.chunks;
  t.n0 = (bz / p.chunks) * p.images;
  t.n1 = t.n0 + p.images < p.n ? t.n0 + p.images : p.n;
  t.ox = bx * p.cols + ty;
  t.cl = tx * p.cv;
  t.c0 = t.chunk * p.cb() + t.cl;
  t.y0 = by * p.th;
  return t;
}
// The first of the R rows of set (r, g), r < D, g < groups: rows y0 + g*R*D + r + D*j, j < R,
// cover [y0, y0 + th) once.
DLK_HD int first_row(int y0, int d, int r, int g) { return y0 + g * R * d + r; }

// Tap column v of a thread's R outputs: the R + K - 1 input pixels they read, D rows apart.
// load(iy, ix, v) fills v[0..CV) with the thread's channels of input pixel (iy, ix), zeros outside
// the image.
template <int K, int D, int CV, typename Load>
DLK_HD void load_column(const Load& load, int row0, int ox, int v, float (*col)[CV]) {
  constexpr int P = D * (K - 1) / 2;
  DLK_UNROLL
  for (int m = 0; m < R + K - 1; ++m) load(row0 + D * m - P, ox + D * v - P, col[m]);
}

// acc[j][c] = bias[c] + sum_{u,v} w(u,v)[c] * x(row0 + D(j+u) - P, ox + vD - P)[c], j < R;
// wt points at the thread's channels of tap 0 of the tap-major weights, taps wstride apart.
template <int K, int D, int CV, typename Load>
DLK_HD void forward_outputs(const Load& load, const float* wt, int wstride, int row0, int ox, const float* bias,
                            float (*acc)[CV]) {
  DLK_UNROLL
  for (int j = 0; j < R; ++j)
    DLK_UNROLL
    for (int c = 0; c < CV; ++c) acc[j][c] = bias[c];
  DLK_UNROLL
  for (int v = 0; v < K; ++v) {
    float col[R + K - 1][CV];
    load_column<K, D, CV>(load, row0, ox, v, col);
    DLK_UNROLL
    for (int u = 0; u < K; ++u) {
      float wv[CV];
      DLK_UNROLL
      for (int c = 0; c < CV; ++c) wv[c] = wt[(u * K + v) * wstride + c];
      DLK_UNROLL
      for (int j = 0; j < R; ++j)
        DLK_UNROLL
        for (int c = 0; c < CV; ++c) acc[j][c] = fmaf(wv[c], col[j + u][c], acc[j][c]);
    }
  }
}

// acc[u*K + v][c] += sum_j g[j][c] * x(row0 + D(j+u) - P, ox + vD - P)[c]: the weight gradient's
// share of the thread's R outputs, whose output gradients are g.
template <int K, int D, int CV, typename Load>
DLK_HD void weight_grad_outputs(const Load& load, int row0, int ox, const float (*g)[CV], float (*acc)[CV]) {
  DLK_UNROLL
  for (int v = 0; v < K; ++v) {
    float col[R + K - 1][CV];
    load_column<K, D, CV>(load, row0, ox, v, col);
    DLK_UNROLL
    for (int u = 0; u < K; ++u)
      DLK_UNROLL
      for (int j = 0; j < R; ++j)
        DLK_UNROLL
        for (int c = 0; c < CV; ++c) acc[u * K + v][c] = fmaf(g[j][c], col[j + u][c], acc[u * K + v][c]);
  }
}

} // namespace dlk::kernels::nhwc
