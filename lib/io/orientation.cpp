#include "dlk/io/orientation.h"
#include "dlk/core/error.h"

#include <fmt/format.h>

#include <cmath>

namespace dlk {

namespace {
// Calls f(old_index, new_index) for every voxel: new index j on the canonical grid maps to old
// index i with i[perm[a]] = flip[a] ? n[perm[a]] - 1 - j[a] : j[a].
template <class F> void for_each_voxel(const Geometry& g, const Reorientation& r, F f) {
  const auto& n = g.size;
  std::array<int64_t, 3> m{{n[size_t(r.perm[0])], n[size_t(r.perm[1])], n[size_t(r.perm[2])]}};
  std::array<int64_t, 3> j{}, i{};
  size_t out = 0;
  for (j[2] = 0; j[2] < m[2]; ++j[2])
    for (j[1] = 0; j[1] < m[1]; ++j[1])
      for (j[0] = 0; j[0] < m[0]; ++j[0], ++out) {
        for (int a = 0; a < 3; ++a) {
          const size_t p = size_t(r.perm[size_t(a)]);
          i[p] = r.flip[size_t(a)] ? n[p] - 1 - j[size_t(a)] : j[size_t(a)];
        }
        f(size_t((i[2] * n[1] + i[1]) * n[0] + i[0]), out);
      }
}
} // namespace

std::string Reorientation::original_code() const {
  // Canonical axis a points to L, P, S; the stored axis perm[a] points there, or the other way.
  static const char pos[3] = {'L', 'P', 'S'}, neg[3] = {'R', 'A', 'I'};
  std::string code(3, '?');
  for (int a = 0; a < 3; ++a) code[size_t(perm[size_t(a)])] = flip[size_t(a)] ? neg[a] : pos[a];
  return code;
}

Reorientation canonical_reorientation(const Geometry& g) {
  // direction is row-major with the axes as columns: the patient component a (L, P, S) of voxel
  // axis c is direction[3a + c]. The most decided pair first, until each is taken once.
  Reorientation r;
  std::array<bool, 3> row_done{{false, false, false}}, col_used{{false, false, false}};
  for (int pass = 0; pass < 3; ++pass) {
    double best = -1;
    int ba = 0, bc = 0;
    for (int a = 0; a < 3; ++a)
      for (int c = 0; c < 3; ++c)
        if (!row_done[size_t(a)] && !col_used[size_t(c)] && std::fabs(g.direction[size_t(3 * a + c)]) > best)
          best = std::fabs(g.direction[size_t(3 * a + c)]), ba = a, bc = c;
    r.perm[size_t(ba)] = bc;
    r.flip[size_t(ba)] = g.direction[size_t(3 * ba + bc)] < 0;
    row_done[size_t(ba)] = col_used[size_t(bc)] = true;
  }
  return r;
}

Geometry reoriented_geometry(const Geometry& g, const Reorientation& r) {
  Geometry o;
  std::array<int64_t, 3> corner{};
  for (int a = 0; a < 3; ++a) {
    const size_t p = size_t(r.perm[size_t(a)]);
    o.size[size_t(a)] = g.size[p];
    o.spacing[size_t(a)] = g.spacing[p];
    for (int k = 0; k < 3; ++k) o.direction[size_t(3 * k + a)] = g.direction[size_t(3 * k) + p] * (r.flip[size_t(a)] ? -1 : 1);
    corner[p] = r.flip[size_t(a)] ? g.size[p] - 1 : 0;
  }
  for (int k = 0; k < 3; ++k) { // the physical position of the old voxel that becomes (0, 0, 0)
    double x = g.origin[size_t(k)];
    for (int c = 0; c < 3; ++c) x += g.direction[size_t(3 * k + c)] * g.spacing[size_t(c)] * double(corner[size_t(c)]);
    o.origin[size_t(k)] = x;
  }
  return o;
}

template <class T> std::vector<T> reorient(const std::vector<T>& v, const Geometry& g, const Reorientation& r) {
  if (int64_t(v.size()) != g.voxels()) throw Error("reorient: the voxels do not fill the grid");
  std::vector<T> out(v.size());
  for_each_voxel(g, r, [&](size_t old_i, size_t new_i) { out[new_i] = v[old_i]; });
  return out;
}

template <class T> std::vector<T> unreorient(const std::vector<T>& v, const Geometry& g, const Reorientation& r) {
  if (int64_t(v.size()) != g.voxels()) throw Error("unreorient: the voxels do not fill the grid");
  std::vector<T> out(v.size());
  for_each_voxel(g, r, [&](size_t old_i, size_t new_i) { out[old_i] = v[new_i]; });
  return out;
}

template std::vector<float> reorient(const std::vector<float>&, const Geometry&, const Reorientation&);
template std::vector<uint16_t> reorient(const std::vector<uint16_t>&, const Geometry&, const Reorientation&);
template std::vector<uint8_t> reorient(const std::vector<uint8_t>&, const Geometry&, const Reorientation&);
template std::vector<float> unreorient(const std::vector<float>&, const Geometry&, const Reorientation&);
template std::vector<uint8_t> unreorient(const std::vector<uint8_t>&, const Geometry&, const Reorientation&);
template std::vector<uint16_t> unreorient(const std::vector<uint16_t>&, const Geometry&, const Reorientation&);

int anatomical_axis(const std::string& name) {
  if (name == "axial") return 2;
  if (name == "coronal") return 1;
  if (name == "sagittal") return 0;
  throw UsageError(fmt::format("--axis {}: axial, coronal or sagittal", name));
}

} // namespace dlk
