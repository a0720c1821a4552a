// The per-thread maths of the CUDA depthwise kernels (depthwise_cuda.cu), written once for nvcc
// and for the host compiler, so that a CPU test (tests/unit/test_depthwise_tile.cpp) can replay
// every block and thread of a launch and check the tiling against the convolution's definition.
//
// A block computes a TW x TH output tile of one plane from a copy of the input tile with its halo
// of P = D(K-1)/2. Each thread computes R outputs of one column, D rows apart, so that for
// dilation D they share K-1 of their K input rows: (R+K-1)*K loads feed R*K*K FMAs. Rows of
// threads: G groups of D residues (BY = D*G rows of threads, TH = R*BY).
#pragma once

#ifdef __CUDACC__
#define DLK_HD __host__ __device__ __forceinline__
#define DLK_UNROLL _Pragma("unroll")
#else
#include <cmath> // fmaf
#define DLK_HD inline
#define DLK_UNROLL
#endif

namespace dlk::kernels::tile {

constexpr int TW = 32, R = 4;

template <int K, int D> struct Geometry {
  static constexpr int P = D * (K - 1) / 2;
  static constexpr int BY = D * ((8 + D - 1) / D); // 8, 8, 9, ... rows of threads
  static constexpr int TH = R * BY;
  static constexpr int SH = TH + 2 * P, SW = TW + 2 * P; // the input tile with its halo
};

// Element t of the input tile is tile[r][q], input pixel (gy, gx) of the plane (zero outside it).
template <int K, int D> DLK_HD void tile_source(int t, int y0, int x0, int& r, int& q, int& gy, int& gx) {
  using G = Geometry<K, D>;
  r = t / G::SW;
  q = t - r * G::SW;
  gy = y0 + r - G::P;
  gx = x0 + q - G::P;
}

// The first of the R output rows (in the tile) of the threads in row ty; the others follow D apart.
template <int D> DLK_HD int first_row(int ty) { return (ty / D) * D * R + ty % D; }

// Column v of the taps of a thread's R outputs: the R + K - 1 tile rows they read, D apart.
template <int K, int D, int SW> DLK_HD void load_column(const float (*tile)[SW], int base, int tx, int v, float* col) {
  DLK_UNROLL
  for (int m = 0; m < R + K - 1; ++m) col[m] = tile[base + D * m][tx + v * D];
}

// acc[j] = bias + sum_{u,v} w[u][v] * tile[base + D(j+u)][tx + vD], j < R: outputs at tile row
// base + Dj, column tx.
template <int K, int D, int SW>
DLK_HD void forward_outputs(const float (*tile)[SW], const float* wk, int base, int tx, float bias, float* acc) {
  DLK_UNROLL
  for (int j = 0; j < R; ++j) acc[j] = bias;
  DLK_UNROLL
  for (int v = 0; v < K; ++v) {
    float col[R + K - 1];
    load_column<K, D, SW>(tile, base, tx, v, col);
    DLK_UNROLL
    for (int u = 0; u < K; ++u) {
      const float wv = wk[u * K + v];
      DLK_UNROLL
      for (int j = 0; j < R; ++j) acc[j] = fmaf(wv, col[j + u], acc[j]);
    }
  }
}

// acc[u*K + v] += sum_j g[j] * tile[base + D(j+u)][tx + vD]: the weight gradient's share of the
// thread's R outputs, whose output gradients are g.
template <int K, int D, int SW>
DLK_HD void weight_grad_outputs(const float (*tile)[SW], int base, int tx, const float* g, float* acc) {
  DLK_UNROLL
  for (int v = 0; v < K; ++v) {
    float col[R + K - 1];
    load_column<K, D, SW>(tile, base, tx, v, col);
    DLK_UNROLL
    for (int u = 0; u < K; ++u)
      DLK_UNROLL
      for (int j = 0; j < R; ++j) acc[u * K + v] = fmaf(g[j], col[j + u], acc[u * K + v]);
  }
}

} // namespace dlk::kernels::tile
