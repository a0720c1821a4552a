// Metrics against values derived by hand and from the spec's golden example (section 2.1).
#include "dlk/metrics/distance_transform.h"
#include "dlk/metrics/metrics.h"
#include "dlk/metrics/surface_distance.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>

using namespace dlk;

namespace {
using Size = std::array<int64_t, 3>;
using Mask = std::vector<uint8_t>;
Mask box(const Size& s, int64_t x0, int64_t x1, int64_t y0, int64_t y1, int64_t z0, int64_t z1) {
  Mask m(size_t(s[0] * s[1] * s[2]), 0);
  for (int64_t z = z0; z < z1; ++z)
    for (int64_t y = y0; y < y1; ++y)
      for (int64_t x = x0; x < x1; ++x) m[size_t((z * s[1] + y) * s[0] + x)] = 1;
  return m;
}
Mask unite(Mask a, const Mask& b) {
  for (size_t i = 0; i < a.size(); ++i) a[i] |= b[i];
  return a;
}
const std::array<double, 3> unit{1, 1, 1};
} // namespace

TEST_CASE("metrics: the spec's golden example (medpy 4.0, MONAI 5.0, HD 11.3137)", "[metrics]") {
  // numpy (1, 40, 40): gt = [10:30, 10:30]; pred = [12:30, 10:36] + [2:4, 2:4] (rows y, columns x).
  const Size s{40, 40, 1};
  Mask gt = box(s, 10, 30, 10, 30, 0, 1);
  Mask pred = unite(box(s, 10, 36, 12, 30, 0, 1), box(s, 2, 4, 2, 4, 0, 1));
  auto d = surface_distances(pred, gt, s, unit);
  CHECK(d.a_to_b.size() == 472); // one slice thick: every voxel is surface
  CHECK(d.b_to_a.size() == 400);
  auto m = score_class(pred, gt, s, unit, ScoreMode::Medpy);
  CHECK(m.hd95 == Approx(4.0).margin(1e-12));
  CHECK(m.hd == Approx(11.3137).epsilon(1e-5)); // sqrt(128): the corner blob to the square
  CHECK(score_class(pred, gt, s, unit, ScoreMode::Monai).hd95 == Approx(5.0).margin(1e-12));
  // Dice by hand: |A n B| = 18 * 20 = 360; |A| = 472, |B| = 400.
  CHECK(m.dsc == Approx(2.0 * 360 / 872).epsilon(1e-15));
  CHECK(m.tp == 360);
  CHECK(m.fp == 112);
  CHECK(m.fn == 40);
}

TEST_CASE("metrics: single voxels and anisotropic spacing", "[metrics]") {
  const Size s{6, 6, 3};
  Mask a = box(s, 0, 1, 0, 1, 0, 1), b = box(s, 3, 4, 4, 5, 2, 3); // (0,0,0) and (3,4,2)
  auto m = score_class(a, b, s, unit, ScoreMode::Medpy);
  CHECK(m.hd95 == Approx(std::sqrt(9.0 + 16 + 4)));
  CHECK(m.hd == Approx(std::sqrt(29.0)));
  CHECK(m.assd == Approx(std::sqrt(29.0)));
  CHECK(m.dsc == 0);
  const std::array<double, 3> sp{0.5, 2.0, 3.0};
  CHECK(score_class(a, b, s, sp, ScoreMode::Medpy).hd == Approx(std::sqrt(1.5 * 1.5 + 8 * 8 + 6 * 6)));
}

TEST_CASE("metrics: a mask touching the border has its face as surface", "[metrics]") {
  const Size s{5, 5, 5};
  Mask full = box(s, 0, 5, 0, 5, 0, 5);
  auto surf = surface(full, s);
  int64_t n = 0;
  for (auto v : surf) n += v;
  CHECK(n == 125 - 27); // the 3x3x3 inside survives erosion
  // A cube in the middle: its 3x3x3 core minus the single interior voxel.
  Mask mid = box(s, 1, 4, 1, 4, 1, 4);
  n = 0;
  for (auto v : surface(mid, s)) n += v;
  CHECK(n == 26);
  // Distances from the full cube's surface to a voxel in the centre: the faces' centres are 2 away,
  // the corners sqrt(12); the centre to the surface: 2. Pooled 95th percentile by hand:
  Mask centre = box(s, 2, 3, 2, 3, 2, 3);
  auto d = surface_distances(full, centre, s, unit);
  REQUIRE(d.a_to_b.size() == 98);
  REQUIRE(d.b_to_a.size() == 1);
  CHECK(d.b_to_a[0] == 2.0);
  CHECK(*std::max_element(d.a_to_b.begin(), d.a_to_b.end()) == Approx(std::sqrt(12.0)));
}

TEST_CASE("metrics: empty masks under each mode's rules", "[metrics]") {
  const Size s{4, 4, 4};
  Mask empty(64, 0), some = box(s, 1, 3, 1, 3, 1, 3);
  struct Row {
    ScoreMode mode;
    const Mask *pred, *ref;
    double dsc, hd95;
    const char* rule;
  };
  const double nan = std::nan(""), inf = INFINITY;
  for (Row r : {Row{ScoreMode::TransUNet, &some, &empty, 1, 0, "pred-only"}, Row{ScoreMode::TransUNet, &empty, &some, 0, 0, "ref-only"},
                Row{ScoreMode::TransUNet, &empty, &empty, 0, 0, "both-empty"}, Row{ScoreMode::Medpy, &some, &empty, 0, nan, "pred-only"},
                Row{ScoreMode::Medpy, &empty, &empty, 1, nan, "both-empty"}, Row{ScoreMode::Monai, &some, &empty, nan, inf, "pred-only"},
                Row{ScoreMode::Monai, &empty, &some, 0, inf, "ref-only"}, Row{ScoreMode::Monai, &empty, &empty, nan, nan, "both-empty"},
                Row{ScoreMode::NnUNet, &empty, &empty, nan, nan, "both-empty"}, Row{ScoreMode::NnUNet, &some, &empty, 0, nan, "pred-only"}}) {
    auto m = score_class(*r.pred, *r.ref, s, unit, r.mode);
    INFO(score_mode_name(r.mode) << " " << r.rule);
    CHECK(m.rule == r.rule);
    if (std::isnan(r.dsc)) CHECK(std::isnan(m.dsc));
    else CHECK(m.dsc == r.dsc);
    if (std::isnan(r.hd95)) CHECK(std::isnan(m.hd95));
    else CHECK(m.hd95 == r.hd95);
  }
}

TEST_CASE("metrics: the distance transform equals brute force", "[metrics]") {
  std::mt19937 rng(5);
  for (int t = 0; t < 20; ++t) {
    const Size s{int64_t(1 + rng() % 9), int64_t(1 + rng() % 8), int64_t(1 + rng() % 7)};
    const std::array<double, 3> sp{0.5 + (rng() % 10) / 4.0, 0.5 + (rng() % 10) / 4.0, 0.5 + (rng() % 10) / 4.0};
    Mask f(size_t(s[0] * s[1] * s[2]));
    for (auto& v : f) v = rng() % 9 == 0;
    auto d = squared_edt(f, s, sp);
    for (int64_t i = 0; i < int64_t(f.size()); ++i) {
      double best = INFINITY;
      for (int64_t j = 0; j < int64_t(f.size()); ++j) {
        if (!f[size_t(j)]) continue;
        const double dx = sp[0] * double(i % s[0] - j % s[0]), dy = sp[1] * double((i / s[0]) % s[1] - (j / s[0]) % s[1]),
                     dz = sp[2] * double(i / (s[0] * s[1]) - j / (s[0] * s[1]));
        best = std::min(best, dx * dx + dy * dy + dz * dz);
      }
      if (std::isinf(best)) REQUIRE(std::isinf(d[size_t(i)]));
      else REQUIRE(d[size_t(i)] == Approx(best).epsilon(1e-12));
    }
  }
}

TEST_CASE("metrics: numpy's linear percentile", "[metrics]") {
  CHECK(percentile_linear({1, 2, 3, 4}, 95) == Approx(3.85)); // rank 2.85
  CHECK(percentile_linear({5}, 95) == 5);
  CHECK(percentile_linear({3, 1, 2}, 50) == 2);
}
