// Needs ITK (built only with DLK_WITH_ITK).
#include "dlk/core/error.h"
#include "dlk/io/volume.h"
#include "test_util.h"

#include <catch2/catch.hpp>

using namespace dlk;

namespace {
Geometry oblique() {
  Geometry g;
  g.size = {5, 4, 3};
  g.spacing = {0.75, 0.5, 2.5};
  g.origin = {-100.5, 32.25, 7};
  // A rotation about z by 30 degrees: orthonormal, not axis-aligned.
  const double c = 0.8660254037844386, s = 0.5;
  g.direction = {c, -s, 0, s, c, 0, 0, 0, 1};
  return g;
}
} // namespace

TEST_CASE("volume io: NIfTI, NRRD and MetaImage keep geometry and voxels", "[volume]") {
  test::TempDir dir;
  Geometry g = oblique();
  std::vector<float> v(size_t(g.voxels()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = float(i % 7) - 1.5f;
  for (const char* ext : {".nii.gz", ".nii", ".nrrd", ".mha"}) {
    INFO(ext);
    const std::string path = dir / (std::string("v") + ext);
    write_volume(path, g, v.data(), VoxelType::Float32);
    Volume r = read_volume(path);
    CHECK(r.geometry.size == g.size);
    CHECK(geometry_mismatch(g, r.geometry, 1e-6).empty());
    CHECK(r.voxels == v);
    CHECK(r.pixel_type == "float32");
  }
  std::vector<float> labels(size_t(g.voxels()), 3.0f);
  write_volume(dir / "l.nii.gz", g, labels.data(), VoxelType::UInt8);
  Volume l = read_volume(dir / "l.nii.gz");
  CHECK(l.pixel_type == "uint8");
  CHECK(l.voxels == labels);
}

TEST_CASE("volume io: unreadable input names the file", "[volume]") {
  test::TempDir dir;
  CHECK_THROWS_WITH(read_volume(dir / "missing.nii.gz"), Catch::Contains("missing.nii.gz") && Catch::Contains("cannot read"));
  test::write_bytes(dir / "junk.nii.gz", "this is not a volume");
  CHECK_THROWS_WITH(read_volume(dir / "junk.nii.gz"), Catch::Contains("'" + (dir / "junk.nii.gz") + "'"));
  Geometry g = oblique();
  std::vector<float> v(size_t(g.voxels()));
  CHECK_THROWS_WITH(write_volume(dir / "x.png", g, v.data(), VoxelType::UInt8), Catch::Contains("cannot write this format"));
}

TEST_CASE("volume io: geometry comparison names the field", "[volume]") {
  Geometry a = oblique(), b = oblique();
  CHECK(geometry_mismatch(a, b).empty());
  b.size[2] = 4;
  CHECK_THAT(geometry_mismatch(a, b), Catch::StartsWith("size 5x4x3 vs 5x4x4"));
  b = oblique();
  b.spacing[0] = 0.8;
  CHECK_THAT(geometry_mismatch(a, b), Catch::StartsWith("spacing"));
  b = oblique();
  b.origin[1] += 1;
  CHECK_THAT(geometry_mismatch(a, b), Catch::StartsWith("origin"));
  b = oblique();
  b.direction = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  CHECK_THAT(geometry_mismatch(a, b), Catch::StartsWith("direction"));
  b = oblique();
  b.origin[0] += 1e-7; // within tolerance
  CHECK(geometry_mismatch(a, b).empty());
  CHECK(is_orthonormal(a.direction));
  CHECK_FALSE(is_orthonormal({1, 0.2, 0, 0, 1, 0, 0, 0, 1}));
}
