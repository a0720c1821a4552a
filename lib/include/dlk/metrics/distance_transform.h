// The exact Euclidean distance transform, as surface distances need it.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

namespace dlk {

// Exact squared Euclidean distance transform (Felzenszwalb-Huttenlocher, separable): for every
// voxel of a size[0] x size[1] x size[2] grid (x fastest), the squared distance in physical units
// to the nearest voxel where `feature` is set (+inf when there is none).
std::vector<double> squared_edt(const std::vector<uint8_t>& feature, const std::array<int64_t, 3>& size,
                                const std::array<double, 3>& spacing);

} // namespace dlk
