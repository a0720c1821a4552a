// A CPU replay of the CUDA depthwise kernels' launches (lib/kernels/depthwise_cuda.cu): every
// block's input tile, filled by the kernels' own tile_source, and every thread's outputs, computed
// by the kernels' own per-thread functions (lib/kernels/depthwise_tile.h), against the
// convolution's definition written out here: the forward pass, the input gradient (the forward
// with the kernel turned 180 degrees, as the kernels compute it) and the weight gradient. So the
// tiling, halo, thread-to-row mapping and flip identity are checked in CI; the CUDA tests check
// the rest on a GPU.
#include "depthwise_tile.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

using namespace dlk::kernels;

namespace {

using Plane = std::vector<float>;

template <int K, int D> struct Replay {
  using G = tile::Geometry<K, D>;
  int H, W;
  float tile_[G::SH][G::SW];

  void fill(const Plane& x, int y0, int x0) {
    for (int t = 0; t < G::SH * G::SW; ++t) {
      int r, q, gy, gx;
      tile::tile_source<K, D>(t, y0, x0, r, q, gy, gx);
      tile_[r][q] = gy >= 0 && gy < H && gx >= 0 && gx < W ? x[size_t(gy) * W + gx] : 0.f;
    }
  }
  template <typename F> void each_thread(const Plane& x, F&& f) {
    for (int y0 = 0; y0 < H; y0 += G::TH)
      for (int x0 = 0; x0 < W; x0 += tile::TW) {
        fill(x, y0, x0);
        for (int ty = 0; ty < G::BY; ++ty)
          for (int tx = 0; tx < tile::TW; ++tx) f(y0, x0, tile::first_row<D>(ty), tx);
      }
  }
  // y = conv(x, w) + b, and how many times each output was written
  Plane forward(const Plane& x, const Plane& w, float b, std::vector<int>& writes) {
    Plane y(x.size(), NAN);
    writes.assign(x.size(), 0);
    each_thread(x, [&](int y0, int x0, int base, int tx) {
      float acc[tile::R];
      tile::forward_outputs<K, D, G::SW>(tile_, w.data(), base, tx, b, acc);
      for (int j = 0; j < tile::R; ++j) {
        const int oy = y0 + base + D * j, ox = x0 + tx;
        if (oy < H && ox < W) {
          y[size_t(oy) * W + ox] = acc[j];
          ++writes[size_t(oy) * W + ox];
        }
      }
    });
    return y;
  }
  // dw (K*K) and db, summed over threads as the kernel's warp and atomic sums do
  Plane weight_grad(const Plane& x, const Plane& dy, double& db) {
    std::vector<double> total(K * K, 0.0);
    db = 0;
    each_thread(x, [&](int y0, int x0, int base, int tx) {
      float g[tile::R], acc[K * K] = {};
      for (int j = 0; j < tile::R; ++j) {
        const int oy = y0 + base + D * j, ox = x0 + tx;
        g[j] = oy < H && ox < W ? dy[size_t(oy) * W + ox] : 0.f;
        db += g[j];
      }
      tile::weight_grad_outputs<K, D, G::SW>(tile_, base, tx, g, acc);
      for (int t = 0; t < K * K; ++t) total[size_t(t)] += acc[t];
    });
    return Plane(total.begin(), total.end());
  }
};

template <int K, int D> void check(int H, int W, std::mt19937& rng) {
  std::normal_distribution<float> n(0.f, 1.f);
  const int P = D * (K - 1) / 2;
  Plane x(size_t(H) * W), dy(x.size()), w(K * K);
  for (auto& v : x) v = n(rng);
  for (auto& v : dy) v = n(rng);
  for (auto& v : w) v = n(rng);
  const float b = n(rng);
  auto at = [&](const Plane& p, int i, int j) { return i >= 0 && i < H && j >= 0 && j < W ? double(p[size_t(i) * W + j]) : 0.0; };
  INFO("K=" << K << " D=" << D << " plane " << H << "x" << W);
  Replay<K, D> rp{H, W, {}};

  std::vector<int> writes;
  const Plane y = rp.forward(x, w, b, writes);
  Plane wf(w.rbegin(), w.rend()); // turned by 180 degrees
  std::vector<int> writes_dx;
  const Plane dx = rp.forward(dy, wf, 0.f, writes_dx);
  double db = 0;
  const Plane dw = rp.weight_grad(x, dy, db);

  double err_y = 0, err_dx = 0;
  bool once = true;
  for (int i = 0; i < H; ++i)
    for (int j = 0; j < W; ++j) {
      double want_y = b, want_dx = 0;
      for (int u = 0; u < K; ++u)
        for (int v = 0; v < K; ++v) {
          want_y += w[size_t(u * K + v)] * at(x, i + u * D - P, j + v * D - P);
          // d y[a][c] / d x[i][j] = w[u][v] where i = a + uD - P, j = c + vD - P
          want_dx += w[size_t(u * K + v)] * at(dy, i - u * D + P, j - v * D + P);
        }
      err_y = std::max(err_y, std::fabs(y[size_t(i) * W + j] - want_y));
      err_dx = std::max(err_dx, std::fabs(dx[size_t(i) * W + j] - want_dx));
      once = once && writes[size_t(i) * W + j] == 1;
    }
  CHECK(once); // every output computed by exactly one thread
  CHECK(err_y < 1e-4);
  CHECK(err_dx < 1e-4);
  double err_w = 0, want_db = 0;
  for (float g : dy) want_db += g;
  for (int u = 0; u < K; ++u)
    for (int v = 0; v < K; ++v) {
      double want = 0;
      for (int i = 0; i < H; ++i)
        for (int j = 0; j < W; ++j) want += double(dy[size_t(i) * W + j]) * at(x, i + u * D - P, j + v * D - P);
      // sums of up to H*W products, fp32 per thread: relative to sqrt(H*W), the size of the sum
      err_w = std::max(err_w, std::fabs(dw[size_t(u * K + v)] - want) / std::sqrt(double(H) * W));
    }
  CHECK(err_w < 1e-4);
  CHECK(std::fabs(db - want_db) < 1e-3);
}

} // namespace

TEST_CASE("CUDA depthwise tiling, replayed on the CPU: forward, input and weight gradients equal the definition", "[kernels]") {
  std::mt19937 rng(17);
  // planes that cross tile edges in both directions, planes smaller than a tile or its halo
  for (auto [h, w] : {std::pair{37, 45}, std::pair{7, 9}, std::pair{64, 33}, std::pair{1, 1}, std::pair{80, 70}}) {
    check<3, 1>(h, w, rng);
    check<5, 1>(h, w, rng);
    check<7, 1>(h, w, rng);
    check<7, 3>(h, w, rng);
    check<5, 2>(h, w, rng);
  }
}
