// Slices of a volume along one of its axes: the shape of a slice and copying one out or back.
#pragma once
#include "dlk/io/volume.h"

#include <array>
#include <cstdint>

namespace dlk {

// Shape of a slice for a given axis: rows and columns are the two other axes, the higher
// one as rows. Slice s of axis 2 is [y][x] at z = s, as numpy's arr[s] of an ITK array.
void slice_shape(const Geometry& g, int axis, int64_t& n_slices, int64_t& height, int64_t& width);
// The spacing between a slice's columns and between its rows (rows and columns as above), in mm.
std::array<double, 2> slice_spacing(const Geometry& g, int axis);
// Copies slice s of `vol` (x fastest) into out[height*width], rows as above.
template <class T>
void extract_slice(const T* vol, const Geometry& g, int axis, int64_t s, T* out) {
  const int64_t nx = g.size[0], ny = g.size[1], nz = g.size[2];
  if (axis == 2) {
    for (int64_t i = 0; i < nx * ny; ++i) out[i] = vol[s * nx * ny + i];
  } else if (axis == 1) {
    for (int64_t z = 0; z < nz; ++z)
      for (int64_t x = 0; x < nx; ++x) out[z * nx + x] = vol[(z * ny + s) * nx + x];
  } else {
    for (int64_t z = 0; z < nz; ++z)
      for (int64_t y = 0; y < ny; ++y) out[z * ny + y] = vol[(z * ny + y) * nx + s];
  }
}

// The inverse: puts slice s (height x width, rows as above) back into `vol`.
template <class T, class U>
void insert_slice(const T* slice, const Geometry& g, int axis, int64_t s, U* vol) {
  const int64_t nx = g.size[0], ny = g.size[1], nz = g.size[2];
  if (axis == 2) {
    for (int64_t i = 0; i < nx * ny; ++i) vol[s * nx * ny + i] = U(slice[i]);
  } else if (axis == 1) {
    for (int64_t z = 0; z < nz; ++z)
      for (int64_t x = 0; x < nx; ++x) vol[(z * ny + s) * nx + x] = U(slice[z * nx + x]);
  } else {
    for (int64_t z = 0; z < nz; ++z)
      for (int64_t y = 0; y < ny; ++y) vol[(z * ny + y) * nx + s] = U(slice[z * ny + y]);
  }
}

} // namespace dlk
