// Mask surfaces and the distances between them (HD, HD95, ASSD are taken from these).
#pragma once
#include <array>
#include <cstdint>
#include <vector>

namespace dlk {

// The surface of a mask as medpy and MONAI define it: the voxels of the mask that erosion with
// the face-connected (6-neighbourhood) structure removes, the outside of the grid counting as
// background.
std::vector<uint8_t> surface(const std::vector<uint8_t>& mask, const std::array<int64_t, 3>& size);

// Distances from every surface voxel of A to the surface of B and from B's to A's, computed on
// the bounding box of both masks (plus one voxel), which is exact. Both masks must be non-empty.
struct SurfaceDistances {
  std::vector<double> a_to_b, b_to_a;
};
SurfaceDistances surface_distances(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b,
                                   const std::array<int64_t, 3>& size, const std::array<double, 3>& spacing);

} // namespace dlk
