#include "dlk/metrics/surface_distance.h"
#include "dlk/core/error.h"
#include "dlk/metrics/distance_transform.h"

#include <algorithm>
#include <cmath>

namespace dlk {

std::vector<uint8_t> surface(const std::vector<uint8_t>& mask, const std::array<int64_t, 3>& size) {
  const int64_t nx = size[0], ny = size[1], nz = size[2];
  std::vector<uint8_t> out(mask.size(), 0);
  for (int64_t z = 0; z < nz; ++z)
    for (int64_t y = 0; y < ny; ++y)
      for (int64_t x = 0; x < nx; ++x) {
        const int64_t i = (z * ny + y) * nx + x;
        if (!mask[size_t(i)]) continue;
        // Erosion keeps a voxel only if its six face neighbours are set; outside is background.
        const bool interior = x > 0 && x + 1 < nx && y > 0 && y + 1 < ny && z > 0 && z + 1 < nz &&
                              mask[size_t(i - 1)] && mask[size_t(i + 1)] && mask[size_t(i - nx)] &&
                              mask[size_t(i + nx)] && mask[size_t(i - nx * ny)] && mask[size_t(i + nx * ny)];
        out[size_t(i)] = !interior;
      }
  return out;
}

SurfaceDistances surface_distances(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b,
                                   const std::array<int64_t, 3>& size, const std::array<double, 3>& spacing) {
  // Bounding box of both masks, grown by one voxel (inside the grid) so that the crop's edge
  // erodes as the full volume's would.
  std::array<int64_t, 3> lo{size[0], size[1], size[2]}, hi{-1, -1, -1};
  for (int64_t z = 0, i = 0; z < size[2]; ++z)
    for (int64_t y = 0; y < size[1]; ++y)
      for (int64_t x = 0; x < size[0]; ++x, ++i)
        if (a[size_t(i)] || b[size_t(i)]) {
          const int64_t c[3] = {x, y, z};
          for (int k = 0; k < 3; ++k) {
            lo[size_t(k)] = std::min(lo[size_t(k)], c[k]);
            hi[size_t(k)] = std::max(hi[size_t(k)], c[k]);
          }
        }
  if (hi[0] < 0) throw Error("surface distances of two empty masks");
  std::array<int64_t, 3> box{};
  for (size_t k = 0; k < 3; ++k) {
    lo[k] = std::max<int64_t>(0, lo[k] - 1);
    hi[k] = std::min<int64_t>(size[k] - 1, hi[k] + 1);
    box[k] = hi[k] - lo[k] + 1;
  }
  // Crop; voxels of the grid's outside stay outside the crop, so the surfaces are the same.
  const size_t n = size_t(box[0] * box[1] * box[2]);
  std::vector<uint8_t> ca(n), cb(n);
  for (int64_t z = 0, j = 0; z < box[2]; ++z)
    for (int64_t y = 0; y < box[1]; ++y)
      for (int64_t x = 0; x < box[0]; ++x, ++j) {
        const size_t i = size_t(((z + lo[2]) * size[1] + y + lo[1]) * size[0] + x + lo[0]);
        ca[size_t(j)] = a[i];
        cb[size_t(j)] = b[i];
      }
  // The crop touches the grid's edge only where the box does: there, outside is background in
  // both views. Where the box ends inside the grid, the masks are empty next to it anyway.
  auto sa = surface(ca, box), sb = surface(cb, box);
  if (std::none_of(sa.begin(), sa.end(), [](uint8_t v) { return v; }) ||
      std::none_of(sb.begin(), sb.end(), [](uint8_t v) { return v; }))
    throw Error("surface distances need two non-empty masks");
  const auto da = squared_edt(sb, box, spacing), db = squared_edt(sa, box, spacing);
  SurfaceDistances out;
  for (size_t j = 0; j < n; ++j) {
    if (sa[j]) out.a_to_b.push_back(std::sqrt(da[j]));
    if (sb[j]) out.b_to_a.push_back(std::sqrt(db[j]));
  }
  return out;
}

} // namespace dlk
