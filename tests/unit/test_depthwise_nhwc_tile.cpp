// A CPU replay of the channels-last CUDA depthwise kernels' launches (lib/kernels/
// depthwise_cuda_nhwc.cu): the kernels' own launch plans, thread-to-work mapping and per-thread
// maths (lib/kernels/depthwise_nhwc_tile.h), run for every block and thread, against the
// convolution's definition written out here: forward, input gradient (the forward with the kernel
// turned 180 degrees, as the op computes it) and weight and bias gradients. The CUDA tests check
// the loads, stores and atomics on a GPU.
#include "depthwise_nhwc_tile.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

using namespace dlk::kernels;

namespace {

using Buf = std::vector<float>;

struct Image4 { // NHWC
  int n, h, w, c;
  Buf v;
  double at(int i, int y, int x, int ch) const {
    return y >= 0 && y < h && x >= 0 && x < w ? double(v[((size_t(i) * h + y) * w + x) * c + ch]) : 0.0;
  }
};

// Calls f(plan, work) for every thread of every block of plan p, as the GPU would.
template <typename F> void each_thread(const nhwc::Plan& p, F&& f) {
  for (unsigned bz = 0; bz < p.gz; ++bz)
    for (unsigned by = 0; by < p.gy; ++by)
      for (unsigned bx = 0; bx < p.gx; ++bx)
        for (int ty = 0; ty < p.cols; ++ty)
          for (int tx = 0; tx < p.lanes; ++tx) f(nhwc::thread_work(p, int(bx), int(by), int(bz), tx, ty));
}

template <int CV> auto loader(const Image4& x, int n, int c0) {
  return [&x, n, c0](int iy, int ix, float* v) {
    for (int c = 0; c < CV; ++c) v[c] = float(x.at(n, iy, ix, c0 + c));
  };
}

// The forward kernel's work: wt tap-major [K*K][C], b [C] or empty. writes counts each output's writes.
template <int K, int D>
Buf replay_forward(const Image4& x, const Buf& wt, const Buf& b, std::vector<int>& writes) {
  constexpr int CV = nhwc::FORWARD_CV;
  const nhwc::Plan p = nhwc::forward_plan(x.n, x.c, x.h, x.w, K, D);
  REQUIRE(p.images == 1);
  Buf y(x.v.size(), NAN);
  writes.assign(x.v.size(), 0);
  each_thread(p, [&](const nhwc::Work& t) {
    if (t.ox >= p.w) return;
    Buf wsh(size_t(K * K) * p.cb()); // the block's shared weights
    for (int tap = 0; tap < K * K; ++tap)
      for (int c = 0; c < p.cb(); ++c) wsh[size_t(tap) * p.cb() + c] = wt[size_t(tap) * x.c + t.chunk * p.cb() + c];
    float bias[CV];
    for (int c = 0; c < CV; ++c) bias[c] = b.empty() ? 0.f : b[size_t(t.c0 + c)];
    const auto load = loader<CV>(x, t.n0, t.c0);
    for (int g = 0; g < p.groups; ++g)
      for (int r = 0; r < D; ++r) {
        const int row0 = nhwc::first_row(t.y0, D, r, g);
        if (row0 >= p.h) break;
        float acc[nhwc::R][CV];
        nhwc::forward_outputs<K, D, CV>(load, wsh.data() + t.cl, p.cb(), row0, t.ox, bias, acc);
        for (int j = 0; j < nhwc::R; ++j) {
          const int oy = row0 + D * j;
          if (oy >= p.h) continue;
          for (int c = 0; c < CV; ++c) {
            const size_t at = ((size_t(t.n0) * p.h + oy) * p.w + t.ox) * p.c + t.c0 + c;
            y[at] = acc[j][c];
            ++writes[at];
          }
        }
      }
  });
  return y;
}

// The weight-gradient kernel's work under plan p: dwt tap-major [K*K][C] and db [C], summed
// over threads as the kernel's shared and global atomics do.
template <int K, int D>
void replay_weight_grad(const nhwc::Plan& p, const Image4& x, const Image4& dy, std::vector<double>& dwt,
                        std::vector<double>& db) {
  constexpr int CV = nhwc::GRAD_CV;
  REQUIRE(p.cv == CV);
  dwt.assign(size_t(K * K) * x.c, 0.0);
  db.assign(size_t(x.c), 0.0);
  each_thread(p, [&](const nhwc::Work& t) {
    if (t.ox >= p.w) return;
    float acc[K * K][CV] = {}, bsum[CV] = {};
    for (int n = t.n0; n < t.n1; ++n) {
      const auto load = loader<CV>(x, n, t.c0);
      for (int g = 0; g < p.groups; ++g)
        for (int r = 0; r < D; ++r) {
          const int row0 = nhwc::first_row(t.y0, D, r, g);
          if (row0 >= p.h) break;
          float gv[nhwc::R][CV];
          for (int j = 0; j < nhwc::R; ++j)
            for (int c = 0; c < CV; ++c) {
              gv[j][c] = float(dy.at(n, row0 + D * j, t.ox, t.c0 + c)); // 0 below the image
              bsum[c] += gv[j][c];
            }
          nhwc::weight_grad_outputs<K, D, CV>(load, row0, t.ox, gv, acc);
        }
    }
    for (int c = 0; c < CV; ++c) {
      for (int tap = 0; tap < K * K; ++tap) dwt[size_t(tap) * x.c + t.c0 + c] += acc[tap][c];
      db[size_t(t.c0 + c)] += bsum[c];
    }
  });
}

template <int K, int D> void check(int N, int C, int H, int W, std::mt19937& rng) {
  std::normal_distribution<float> nd(0.f, 1.f);
  const int P = D * (K - 1) / 2, KK = K * K;
  Image4 x{N, H, W, C, Buf(size_t(N) * H * W * C)}, dy = x;
  for (auto& v : x.v) v = nd(rng);
  for (auto& v : dy.v) v = nd(rng);
  Buf w(size_t(C) * KK), b(static_cast<size_t>(C)); // w [C][K][K] as LibTorch holds it
  for (auto& v : w) v = nd(rng);
  for (auto& v : b) v = nd(rng);
  Buf wt(w.size()), wt_flipped(w.size()); // tap-major, as the op passes them
  for (int c = 0; c < C; ++c)
    for (int tap = 0; tap < KK; ++tap) {
      wt[size_t(tap) * C + c] = w[size_t(c) * KK + tap];
      wt_flipped[size_t(KK - 1 - tap) * C + c] = w[size_t(c) * KK + tap];
    }
  INFO("K=" << K << " D=" << D << " N=" << N << " C=" << C << " H=" << H << " W=" << W);

  std::vector<int> writes, writes_dx;
  const Buf y = replay_forward<K, D>(x, wt, b, writes);
  const Buf dx = replay_forward<K, D>(dy, wt_flipped, {}, writes_dx);
  double err_y = 0, err_dx = 0;
  bool once = true;
  for (int n = 0; n < N; ++n)
    for (int i = 0; i < H; ++i)
      for (int j = 0; j < W; ++j)
        for (int c = 0; c < C; ++c) {
          double want_y = b[size_t(c)], want_dx = 0;
          for (int u = 0; u < K; ++u)
            for (int v = 0; v < K; ++v) {
              const double wv = w[size_t(c) * KK + u * K + v];
              want_y += wv * x.at(n, i + u * D - P, j + v * D - P, c);
              want_dx += wv * dy.at(n, i - u * D + P, j - v * D + P, c); // d y(i', j') / d x(i, j)
            }
          const size_t at = ((size_t(n) * H + i) * W + j) * C + c;
          err_y = std::max(err_y, std::fabs(y[at] - want_y));
          err_dx = std::max(err_dx, std::fabs(dx[at] - want_dx));
          once = once && writes[at] == 1 && writes_dx[at] == 1;
        }
  CHECK(once); // every output computed by exactly one thread
  CHECK(err_y < 1e-4);
  CHECK(err_dx < 1e-4);

  std::vector<double> want_w(w.size(), 0.0), want_b(size_t(C), 0.0);
  for (int n = 0; n < N; ++n)
    for (int i = 0; i < H; ++i)
      for (int j = 0; j < W; ++j)
        for (int c = 0; c < C; ++c) {
          const double g = dy.at(n, i, j, c);
          want_b[size_t(c)] += g;
          for (int u = 0; u < K; ++u)
            for (int v = 0; v < K; ++v) want_w[size_t(c) * KK + u * K + v] += g * x.at(n, i + u * D - P, j + v * D - P, c);
        }
  // The kernel's own plan, then ones that put several images (and a short last group) in a block.
  const nhwc::Plan own = nhwc::weight_grad_plan(N, C, H, W, K, D);
  const int per_image = int(own.gx * own.gy) * own.chunks; // blocks an image
  const nhwc::Plan plans[] = {own, nhwc::make_plan(N, C, H, W, K, D, nhwc::GRAD_CV, 128, 1),
                              nhwc::make_plan(N, C, H, W, K, D, nhwc::GRAD_CV, 128, per_image + 1)};
  for (const auto& p : plans) {
    INFO("images a block " << p.images << ", lanes " << p.lanes << ", chunks " << p.chunks << ", cols " << p.cols);
    std::vector<double> dwt, db;
    replay_weight_grad<K, D>(p, x, dy, dwt, db);
    const double scale = std::sqrt(double(N) * H * W); // fp32 sums of N*H*W products
    double err_w = 0, err_b = 0;
    for (int c = 0; c < C; ++c) {
      for (int tap = 0; tap < KK; ++tap)
        err_w = std::max(err_w, std::fabs(dwt[size_t(tap) * C + c] - want_w[size_t(c) * KK + tap]) / scale);
      err_b = std::max(err_b, std::fabs(db[size_t(c)] - want_b[size_t(c)]) / scale);
    }
    CHECK(err_w < 1e-4);
    CHECK(err_b < 1e-4);
  }
}

template <int K, int D> void check_shapes(std::mt19937& rng) {
  check<K, D>(2, 8, 13, 11, rng);  // small: a block wider than the image
  check<K, D>(3, 12, 37, 29, rng); // 3 channel vectors a block; rows across blocks
  check<K, D>(1, 4, 1, 1, rng);    // one pixel: all taps but the centre in the padding
}

} // namespace

TEST_CASE("Channels-last CUDA depthwise launches, replayed on the CPU, equal the definition", "[kernels]") {
  std::mt19937 rng(29);
  check_shapes<3, 1>(rng);
  check_shapes<5, 1>(rng);
  check_shapes<7, 1>(rng);
  check_shapes<7, 3>(rng);
  check_shapes<5, 2>(rng);
  // DLKUNet's channel counts: several channel chunks a pixel (C/CV vectors not a divisor of 32)
  check<7, 3>(2, 96, 20, 18, rng);
  check<3, 1>(1, 192, 9, 40, rng);
}

TEST_CASE("Channels-last CUDA depthwise plans cover the channels and fit a launch", "[kernels]") {
  for (int c : {4, 12, 96, 192, 384, 768, 1536}) {
    const auto f = nhwc::forward_plan(24, c, 224, 224, 7, 3);
    CHECK(f.cb() * f.chunks == c);
    CHECK(f.lanes <= 32);
    CHECK(f.threads() <= 256);
    const auto g = nhwc::weight_grad_plan(24, c, 224, 224, 7, 3);
    CHECK(g.cb() * g.chunks == c);
    CHECK(g.threads() <= 128);
    CHECK(g.gz <= 65535u);
    CHECK(int64_t(g.gz / unsigned(g.chunks)) * g.images >= 24); // every image in some group
  }
}
