// Orientation: how a volume's voxel axes lie in the patient, and the permutation and flips that
// bring them to one canonical orientation, LPS (voxel axis x towards the patient's left, y to the
// posterior, z to the superior: ITK's identity direction), so that a scan stored in another order
// or sense is sliced alike. Every voxel keeps its physical position; the inverse puts labels back
// on the original grid.
#pragma once
#include "dlk/io/volume.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace dlk {

// Canonical axis a is the volume's axis perm[a], reversed when flip[a].
struct Reorientation {
  std::array<int, 3> perm{{0, 1, 2}};
  std::array<bool, 3> flip{{false, false, false}};
  bool identity() const { return perm == std::array<int, 3>{{0, 1, 2}} && flip == std::array<bool, 3>{{false, false, false}}; }
  // ITK's three-letter code of the volume's axes as stored ("LPS", "RAS", "PIR", ...).
  std::string original_code() const;
};

// The reorientation that makes `g`'s direction closest to the identity: canonical axis L, P, S
// takes the voxel axis whose direction is most nearly along it (an oblique scan: the nearest).
Reorientation canonical_reorientation(const Geometry& g);

// The canonical grid of `g` under `r`: size and spacing permuted, direction columns permuted and
// negated where flipped, origin the physical position of the voxel that becomes (0, 0, 0).
Geometry reoriented_geometry(const Geometry& g, const Reorientation& r);

// Voxels of a grid `g` (x fastest) in canonical order, and back again.
template <class T> std::vector<T> reorient(const std::vector<T>& voxels, const Geometry& g, const Reorientation& r);
template <class T> std::vector<T> unreorient(const std::vector<T>& canonical, const Geometry& g, const Reorientation& r);

// The anatomical slicing axis of canonical volumes: axial z, coronal y, sagittal x; throws
// UsageError naming --axis otherwise.
int anatomical_axis(const std::string& name);


} // namespace dlk
