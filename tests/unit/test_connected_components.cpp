// Keep-largest post-processing on volumes drawn by hand.
#include "dlk/metrics/connected_components.h"

#include <catch2/catch.hpp>

using namespace dlk;

namespace {
// A 6 x 5 x 4 grid (x fastest) and a setter.
struct Grid {
  std::array<int64_t, 3> size{{6, 5, 4}};
  std::vector<uint16_t> v = std::vector<uint16_t>(6 * 5 * 4, 0);
  uint16_t& at(int x, int y, int z) { return v[size_t((z * 5 + y) * 6 + x)]; }
};
} // namespace

TEST_CASE("keep largest: a planted island goes, the organ stays", "[postprocess]") {
  Grid g;
  // Class 1: an organ of 2 x 2 x 2 = 8 voxels and an island of 1 voxel apart from it.
  for (int z = 0; z < 2; ++z)
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 2; ++x) g.at(x, y, z) = 1;
  g.at(5, 4, 3) = 1;
  // Class 2: two components of 3 and 2 voxels; class 3: one voxel.
  g.at(3, 0, 0) = g.at(4, 0, 0) = g.at(5, 0, 0) = 2;
  g.at(0, 4, 3) = g.at(1, 4, 3) = 2;
  g.at(3, 3, 1) = 3;
  std::vector<uint16_t> before = g.v;
  auto removed = keep_largest_components(g.v, g.size, {});
  CHECK(removed == std::vector<int64_t>{0, 1, 2, 0});
  CHECK(g.at(5, 4, 3) == 0);                          // the island
  CHECK(g.at(1, 1, 1) == 1);                          // the organ
  CHECK(g.at(4, 0, 0) == 2);                          // class 2's larger part
  CHECK(g.at(0, 4, 3) == 0);                          // its smaller part
  CHECK(g.at(3, 3, 1) == 3);                          // a class of one component keeps it
  // Only the classes asked for.
  g.v = before;
  removed = keep_largest_components(g.v, g.size, {2});
  CHECK(g.at(5, 4, 3) == 1);
  CHECK(g.at(0, 4, 3) == 0);
  CHECK(removed[1] == 0);
  CHECK(removed[2] == 2);
}

TEST_CASE("keep largest: face connectivity, or all 26 neighbours", "[postprocess]") {
  Grid g;
  // Two voxels that touch at an edge only, and a third that touches the second at a face.
  g.at(1, 1, 1) = 1;
  g.at(2, 2, 1) = 1;
  g.at(3, 2, 1) = 1;
  Grid h = g;
  // Face connectivity: {(1,1,1)} and {(2,2,1), (3,2,1)}: the single voxel goes.
  CHECK(keep_largest_components(g.v, g.size, {}) == std::vector<int64_t>{0, 1});
  CHECK(g.at(1, 1, 1) == 0);
  // 26-connectivity: one component of 3.
  CHECK(keep_largest_components(h.v, h.size, {}, true) == std::vector<int64_t>{0, 0});
  CHECK(h.at(1, 1, 1) == 1);
}

TEST_CASE("keep largest: ties keep the first component in memory order", "[postprocess]") {
  Grid g;
  g.at(0, 0, 0) = 1;
  g.at(5, 4, 3) = 1;
  keep_largest_components(g.v, g.size, {});
  CHECK(g.at(0, 0, 0) == 1);
  CHECK(g.at(5, 4, 3) == 0);
}
