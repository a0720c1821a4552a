// Exact Euclidean distance transform, separable: one pass of the lower envelope of parabolas
// (Felzenszwalb & Huttenlocher, "Distance Transforms of Sampled Functions", 2012) per axis, each
// in O(n). Anisotropic spacing enters as the scale of each axis's coordinate.
#include "dlk/metrics/distance_transform.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace dlk {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();

// 1-D: d[i] = min_j (f[j] + (s (i - j))^2) for f of length n, in place (through buffers).
void edt_1d(const double* f, double* d, int64_t n, double s, int64_t* v, double* z) {
  int64_t k = 0;
  int64_t first = 0;
  while (first < n && f[first] == kInf) ++first;
  if (first == n) {
    for (int64_t i = 0; i < n; ++i) d[i] = kInf;
    return;
  }
  const double s2 = s * s;
  v[0] = first;
  z[0] = -kInf;
  z[1] = kInf;
  for (int64_t q = first + 1; q < n; ++q) {
    if (f[q] == kInf) continue;
    double x;
    while (true) {
      const int64_t p = v[k];
      // Intersection of the parabolas from p and q, in index units.
      x = ((f[q] + s2 * double(q) * double(q)) - (f[p] + s2 * double(p) * double(p))) / (2 * s2 * double(q - p));
      if (x <= z[k] && k > 0) --k;
      else break;
    }
    if (x <= z[k]) { // k == 0 and q dominates p everywhere
      v[0] = q;
      z[0] = -kInf;
      z[1] = kInf;
      continue;
    }
    ++k;
    v[k] = q;
    z[k] = x;
    z[k + 1] = kInf;
  }
  k = 0;
  for (int64_t q = 0; q < n; ++q) {
    while (z[k + 1] < double(q)) ++k;
    const double dq = s * double(q - v[k]);
    d[q] = f[v[k]] + dq * dq;
  }
}
} // namespace

std::vector<double> squared_edt(const std::vector<uint8_t>& feature, const std::array<int64_t, 3>& size,
                                const std::array<double, 3>& spacing) {
  const int64_t nx = size[0], ny = size[1], nz = size[2];
  std::vector<double> g(feature.size());
  for (size_t i = 0; i < feature.size(); ++i) g[i] = feature[i] ? 0.0 : kInf;
  const int64_t longest = std::max({nx, ny, nz});
  const size_t m = static_cast<size_t>(longest);
  std::vector<double> f(m), d(m), z(m + 1);
  std::vector<int64_t> v(m);
  auto pass = [&](int64_t n, int64_t count, auto index, double s) {
    for (int64_t line = 0; line < count; ++line) {
      for (int64_t i = 0; i < n; ++i) f[size_t(i)] = g[size_t(index(line, i))];
      edt_1d(f.data(), d.data(), n, s, v.data(), z.data());
      for (int64_t i = 0; i < n; ++i) g[size_t(index(line, i))] = d[size_t(i)];
    }
  };
  pass(nx, ny * nz, [&](int64_t l, int64_t i) { return l * nx + i; }, spacing[0]);
  pass(ny, nx * nz, [&](int64_t l, int64_t i) { return (l / nx) * nx * ny + i * nx + l % nx; }, spacing[1]);
  pass(nz, nx * ny, [&](int64_t l, int64_t i) { return i * nx * ny + l; }, spacing[2]);
  return g;
}

} // namespace dlk
