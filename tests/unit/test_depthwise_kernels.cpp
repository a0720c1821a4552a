// The CPU depthwise kernel against the convolution's definition, written out here term by term
// (zero padding d*(k-1)/2, stride 1), and against a case worked by hand.
#include "dlk/kernels/depthwise_kernels.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

using namespace dlk::kernels;

namespace {
std::vector<float> by_definition(const std::vector<float>& x, const std::vector<float>& w, float b, int H, int W,
                                 int k, int d) {
  const int p = d * (k - 1) / 2;
  std::vector<float> y(size_t(H) * W);
  for (int i = 0; i < H; ++i)
    for (int j = 0; j < W; ++j) {
      double s = b;
      for (int u = 0; u < k; ++u)
        for (int v = 0; v < k; ++v) {
          const int r = i + u * d - p, c = j + v * d - p;
          if (r >= 0 && r < H && c >= 0 && c < W) s += double(w[u * k + v]) * x[size_t(r) * W + c];
        }
      y[size_t(i) * W + j] = float(s);
    }
  return y;
}
} // namespace

namespace {
uint16_t bf16_bits(float f) { // truncation is enough to make test inputs exactly representable
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return uint16_t(u >> 16);
}
float bf16_value(uint16_t v) {
  const uint32_t u = uint32_t(v) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
} // namespace

TEST_CASE("depthwise kernel: 3x3 of ones over a 3x3 plane of ones counts the neighbours", "[kernels]") {
  const std::vector<float> x(9, 1.f), w(9, 1.f);
  std::vector<float> y(9);
  depthwise_plane_cpu(x.data(), w.data(), 0.5f, y.data(), 3, 3, 3, 1);
  // corners see 4 inputs, edge centres 6, the centre 9; plus the bias
  CHECK(y == std::vector<float>{4.5f, 6.5f, 4.5f, 6.5f, 9.5f, 6.5f, 4.5f, 6.5f, 4.5f});
}

TEST_CASE("depthwise kernel: dilation 3 skips two pixels between taps", "[kernels]") {
  // A 1x7 plane with a single 1 at column 3; k=3, d=3: output j takes columns j-3, j, j+3.
  std::vector<float> x(7, 0.f), w{0, 0, 0, 1, 2, 4, 0, 0, 0}, y(7);
  x[3] = 1.f;
  depthwise_plane_cpu(x.data(), w.data(), 0.f, y.data(), 1, 7, 3, 3);
  // y[0] = 4*x[3] (right tap), y[3] = 2*x[3] (centre), y[6] = 1*x[3] (left tap)
  CHECK(y == std::vector<float>{4, 0, 0, 2, 0, 0, 1});
}

TEST_CASE("depthwise kernel: equals the definition on random planes, both code paths", "[kernels]") {
  std::mt19937 rng(7);
  std::normal_distribution<float> n(0.f, 1.f);
  struct Case { int H, W, k, d; };
  // DLKUNet's kernels (3x3, 5x5, 7x7 dilation 3) at its plane sizes, planes narrower than the
  // padding, widths that are not a multiple of the vector width, and 1x1.
  const Case cases[] = {{224, 224, 3, 1}, {56, 56, 5, 1}, {28, 28, 7, 3}, {14, 14, 7, 3}, {7, 7, 7, 3},
                        {1, 1, 3, 1},     {1, 40, 5, 1},  {37, 45, 7, 3}, {9, 71, 3, 2},  {64, 33, 1, 1},
                        {5, 130, 9, 1}};
  for (const auto& c : cases) {
    std::vector<float> x(size_t(c.H) * c.W), w(size_t(c.k) * c.k);
    for (auto& v : x) v = n(rng);
    for (auto& v : w) v = n(rng);
    const float b = n(rng);
    const auto want = by_definition(x, w, b, c.H, c.W, c.k, c.d);
    std::vector<float> fast(x.size(), NAN), portable(x.size(), NAN);
    depthwise_plane_cpu(x.data(), w.data(), b, fast.data(), c.H, c.W, c.k, c.d);
    depthwise_plane_cpu_portable(x.data(), w.data(), b, portable.data(), c.H, c.W, c.k, c.d);
    double worst = 0, worst_p = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      // sums of up to 49 products of N(0,1) values: fp32 rounding stays far below 1e-4 of the scale
      worst = std::max(worst, double(std::fabs(fast[i] - want[i])));
      worst_p = std::max(worst_p, double(std::fabs(portable[i] - want[i])));
    }
    INFO("H=" << c.H << " W=" << c.W << " k=" << c.k << " d=" << c.d << " avx2+fma=" << cpu_has_avx2_fma());
    CHECK(worst < 1e-4);
    CHECK(worst_p < 1e-4);
  }
}


TEST_CASE("depthwise kernel, bf16: outputs are rounded to nearest, ties to even", "[kernels]") {
  // 1 x 1 kernel, input 1.0 (0x3F80): the output is the weight, rounded to bf16's 8 bits.
  const uint16_t one = 0x3F80;
  uint16_t y = 0;
  float w = 1.0f + 1.0f / 256; // halfway between 0x3F80 and 0x3F81: to the even 0x3F80
  depthwise_plane_cpu_bf16(&one, &w, 0.f, &y, 1, 1, 1, 1);
  CHECK(y == 0x3F80);
  w = 1.0f + 3.0f / 256; // halfway between 0x3F81 and 0x3F82: to the even 0x3F82
  depthwise_plane_cpu_bf16(&one, &w, 0.f, &y, 1, 1, 1, 1);
  CHECK(y == 0x3F82);
  w = 1.0f + 1.0f / 128 + 1.0f / 1024; // just above 0x3F81: 0x3F81
  depthwise_plane_cpu_bf16(&one, &w, 0.f, &y, 1, 1, 1, 1);
  CHECK(y == 0x3F81);
}

TEST_CASE("depthwise kernel, bf16: equals the definition on the same inputs, rounded once", "[kernels]") {
  std::mt19937 rng(3);
  std::normal_distribution<float> n(0.f, 1.f);
  const int H = 29, W = 45, k = 7, d = 3;
  std::vector<uint16_t> xb(size_t(H) * W), yb(xb.size());
  std::vector<float> x(xb.size()), w(size_t(k) * k);
  for (size_t i = 0; i < xb.size(); ++i) {
    xb[i] = bf16_bits(n(rng));
    x[i] = bf16_value(xb[i]);
  }
  for (auto& v : w) v = n(rng);
  const auto want = by_definition(x, w, 0.25f, H, W, k, d);
  depthwise_plane_cpu_bf16(xb.data(), w.data(), 0.25f, yb.data(), H, W, k, d);
  for (size_t i = 0; i < xb.size(); ++i) {
    INFO("output " << i);
    // one rounding to 8 significant bits: half a unit in the last place, 2^(e-8) for a value in
    // [2^e, 2^(e+1)), so at most |value| / 256
    CHECK(std::fabs(bf16_value(yb[i]) - want[i]) <= std::fabs(want[i]) * (1.0 / 256) + 1e-5);
  }
}

TEST_CASE("depthwise kernel, channels-last: equals the definition, fp32 and bf16, row ranges", "[kernels]") {
  std::mt19937 rng(5);
  std::normal_distribution<float> n(0.f, 1.f);
  struct Case { int H, W, C, k, d; };
  // DLKUNet's dilated 7x7 at a multiple of 8 channels (40: blocks of 16 and of 8 where the CPU has
  // AVX-512), channel counts with a remainder, tiny planes
  for (const Case c : {Case{23, 30, 16, 7, 3}, Case{11, 19, 40, 7, 3}, Case{9, 7, 13, 3, 2}, Case{1, 1, 8, 5, 1}, Case{12, 5, 3, 7, 3}}) {
    INFO("H=" << c.H << " W=" << c.W << " C=" << c.C << " k=" << c.k << " d=" << c.d);
    const size_t px = size_t(c.H) * c.W;
    std::vector<float> x(px * c.C), wt(size_t(c.k * c.k) * c.C), b(size_t(c.C)), y(x.size(), NAN);
    for (auto& v : x) v = n(rng);
    for (auto& v : wt) v = n(rng);
    for (auto& v : b) v = n(rng);
    // in two row ranges, as two threads would
    depthwise_rows_nhwc_cpu(x.data(), wt.data(), b.data(), y.data(), c.H, c.W, c.C, c.k, c.d, 0, c.H / 2);
    depthwise_rows_nhwc_cpu(x.data(), wt.data(), b.data(), y.data(), c.H, c.W, c.C, c.k, c.d, c.H / 2, c.H);
    std::vector<float> yp(x.size(), NAN); // the portable path, on all rows
    depthwise_rows_nhwc_cpu_portable(x.data(), wt.data(), b.data(), yp.data(), c.H, c.W, c.C, c.k, c.d, 0, c.H);
    std::vector<uint16_t> xb(x.size()), yb(x.size());
    std::vector<float> xr(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      xb[i] = bf16_bits(x[i]);
      xr[i] = bf16_value(xb[i]);
    }
    depthwise_rows_nhwc_cpu_bf16(xb.data(), wt.data(), b.data(), yb.data(), c.H, c.W, c.C, c.k, c.d, 0, c.H);
    double worst = 0;
    bool bf16_ok = true;
    for (int ch = 0; ch < c.C; ++ch) { // each channel is a plane of its own: the NCHW definition
      std::vector<float> plane(px), plane_r(px), w(size_t(c.k * c.k));
      for (size_t i = 0; i < px; ++i) {
        plane[i] = x[i * c.C + ch];
        plane_r[i] = xr[i * c.C + ch];
      }
      for (int t = 0; t < c.k * c.k; ++t) w[size_t(t)] = wt[size_t(t) * c.C + ch];
      const auto want = by_definition(plane, w, b[size_t(ch)], c.H, c.W, c.k, c.d);
      const auto want_r = by_definition(plane_r, w, b[size_t(ch)], c.H, c.W, c.k, c.d);
      for (size_t i = 0; i < px; ++i) {
        worst = std::max(worst, double(std::fabs(y[i * c.C + ch] - want[i])));
        worst = std::max(worst, double(std::fabs(yp[i * c.C + ch] - want[i])));
        bf16_ok = bf16_ok && std::fabs(bf16_value(yb[i * c.C + ch]) - want_r[i]) <= std::fabs(want_r[i]) / 256 + 1e-5;
      }
    }
    CHECK(worst < 1e-4);
    CHECK(bf16_ok);
  }
}

TEST_CASE("depthwise kernel, channels-last bands: every vector form equals the definition", "[kernels]") {
  std::mt19937 rng(9);
  std::normal_distribution<float> n(0.f, 1.f);
  struct Case { int H, W, C, k, d; };
  // Widths with whole tiles of 16 (3x3, 5x5) and of 8 outputs of each of 3 phases (dilated 7x7),
  // smaller tiles and single outputs after them; channels in whole vectors of 16 or 8 only, or
  // neither; a kernel size without a fixed form (9); a plane narrower than the padding.
  for (const Case c : {Case{13, 61, 48, 3, 1}, Case{9, 61, 32, 5, 1}, Case{21, 70, 16, 7, 3}, Case{10, 40, 24, 7, 3},
                       Case{5, 9, 5, 3, 1}, Case{6, 33, 16, 9, 2}, Case{12, 7, 16, 7, 3}}) {
    const size_t px = size_t(c.H) * c.W;
    std::vector<float> x(px * c.C), wt(size_t(c.k * c.k) * c.C), b(size_t(c.C));
    for (auto& v : x) v = n(rng);
    for (auto& v : wt) v = n(rng);
    for (auto& v : b) v = n(rng);
    const int r0 = c.H > 3 ? 2 : 0, r1 = c.H > 3 ? c.H - 1 : c.H; // a band away from both ends
    for (CpuIsa isa : cpu_isas_available()) {
      INFO("H=" << c.H << " W=" << c.W << " C=" << c.C << " k=" << c.k << " d=" << c.d << " " << cpu_isa_name(isa));
      std::vector<float> band(size_t(r1 - r0) * c.W * c.C + 1, NAN);
      depthwise_band_nhwc_cpu(x.data(), wt.data(), b.data(), band.data(), c.H, c.W, c.C, c.k, c.d, r0, r1, isa);
      double worst = 0;
      for (int ch = 0; ch < c.C; ++ch) {
        std::vector<float> plane(px), w(size_t(c.k * c.k));
        for (size_t i = 0; i < px; ++i) plane[i] = x[i * c.C + ch];
        for (int t = 0; t < c.k * c.k; ++t) w[size_t(t)] = wt[size_t(t) * c.C + ch];
        const auto want = by_definition(plane, w, b[size_t(ch)], c.H, c.W, c.k, c.d);
        for (size_t i = size_t(r0) * c.W; i < size_t(r1) * c.W; ++i)
          worst = std::max(worst, double(std::fabs(band[(i - size_t(r0) * c.W) * c.C + ch] - want[i])));
      }
      CHECK(worst < 1e-4);
      CHECK(std::isnan(band.back())); // nothing written past the band
    }
  }
}

namespace {
// dw[u][v] = sum_{i,j} dy[i][j] * x[i + u*d - p][j + v*d - p], by the definition, in double.
std::vector<double> weight_grad_by_definition(const std::vector<float>& x, const std::vector<float>& dy, int H, int W,
                                              int k, int d) {
  const int p = d * (k - 1) / 2;
  std::vector<double> dw(size_t(k) * k, 0.0);
  for (int i = 0; i < H; ++i)
    for (int j = 0; j < W; ++j)
      for (int u = 0; u < k; ++u)
        for (int v = 0; v < k; ++v) {
          const int r = i + u * d - p, c = j + v * d - p;
          if (r >= 0 && r < H && c >= 0 && c < W) dw[size_t(u * k + v)] += double(dy[size_t(i) * W + j]) * x[size_t(r) * W + c];
        }
  return dw;
}
} // namespace

TEST_CASE("depthwise weight gradient: a hand case", "[kernels]") {
  // x = 1..9 on a 3x3 plane, dy = 1 at the centre only: dw[u][v] = x[u][v] (the centre's taps), db = 1.
  std::vector<float> x{1, 2, 3, 4, 5, 6, 7, 8, 9}, dy(9, 0.f);
  dy[4] = 1.f;
  std::vector<double> dw(9, 0.0);
  double db = 0;
  depthwise_weight_grad_plane_cpu(x.data(), dy.data(), 3, 3, 3, 1, dw.data(), &db);
  CHECK(dw == std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK(db == 1.0);
  // dy = 1 at the top-left corner: only taps (1..2, 1..2) see the plane, x[0..1][0..1].
  std::fill(dy.begin(), dy.end(), 0.f);
  dy[0] = 1.f;
  std::fill(dw.begin(), dw.end(), 0.0);
  depthwise_weight_grad_plane_cpu(x.data(), dy.data(), 3, 3, 3, 1, dw.data(), &db);
  CHECK(dw == std::vector<double>{0, 0, 0, 0, 1, 2, 0, 4, 5});
}

TEST_CASE("depthwise weight gradient: NCHW planes and channels-last images equal the definition", "[kernels]") {
  std::mt19937 rng(31);
  std::normal_distribution<float> n(0.f, 1.f);
  struct S { int h, w, k, d; };
  for (const S s : {S{37, 45, 3, 1}, S{20, 19, 5, 1}, S{33, 30, 7, 3}, S{9, 11, 5, 2}, S{1, 1, 3, 1}, S{6, 70, 7, 3},
                    S{4, 5, 7, 3}}) {
    INFO("plane " << s.h << "x" << s.w << " k=" << s.k << " d=" << s.d);
    const size_t px = size_t(s.h) * s.w;
    std::vector<float> x(px), dy(px);
    for (auto& v : x) v = n(rng);
    for (auto& v : dy) v = n(rng);
    const auto want = weight_grad_by_definition(x, dy, s.h, s.w, s.k, s.d);
    double want_db = 0;
    for (float g : dy) want_db += g;
    const double scale = std::sqrt(double(px)); // fp32 sums of px products of N(0,1) terms
    for (bool portable : {false, true}) {
      std::vector<double> dw(want.size(), 0.0);
      double db = 0;
      (portable ? depthwise_weight_grad_plane_cpu_portable : depthwise_weight_grad_plane_cpu)(
          x.data(), dy.data(), s.h, s.w, s.k, s.d, dw.data(), &db);
      double err = 0;
      for (size_t t = 0; t < dw.size(); ++t) err = std::max(err, std::fabs(dw[t] - want[t]) / scale);
      CHECK(err < 1e-5);
      CHECK(std::fabs(db - want_db) / scale < 1e-5);
    }
    // The same planes as channel c of a channels-last image with C channels (C not a multiple of
    // 8 included), over a channel range that starts and ends inside.
    for (int C : {8, 19}) {
      std::vector<float> xi(px * C), gi(px * C);
      for (auto& v : xi) v = n(rng);
      for (auto& v : gi) v = n(rng);
      const int c = C - 3;
      for (size_t q = 0; q < px; ++q) {
        xi[q * C + size_t(c)] = x[q];
        gi[q * C + size_t(c)] = dy[q];
      }
      for (bool portable : {false, true}) {
        std::vector<float> dwt(size_t(s.k * s.k) * C, 0.5f), db(size_t(C), 0.25f); // they accumulate
        (portable ? depthwise_weight_grad_nhwc_cpu_portable : depthwise_weight_grad_nhwc_cpu)(
            xi.data(), gi.data(), s.h, s.w, C, s.k, s.d, 1, C, dwt.data(), db.data());
        double err = 0;
        for (int t = 0; t < s.k * s.k; ++t) err = std::max(err, std::fabs(dwt[size_t(t) * C + c] - 0.5 - want[size_t(t)]) / scale);
        CHECK(err < 1e-5);
        CHECK(std::fabs(db[size_t(c)] - 0.25 - want_db) / scale < 1e-5);
        CHECK(dwt[0] == 0.5f); // channel 0 is outside the range
        CHECK(db[0] == 0.25f);
      }
    }
  }
}
