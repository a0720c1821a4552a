// Needs ITK (built only with DLK_WITH_ITK).
#include "dlk/core/error.h"
#include "dlk/io/volume.h"
#include "test_util.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>

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

namespace {
// Patches `bytes` at `offset` of an uncompressed file.
void patch(const std::string& path, size_t offset, const void* bytes, size_t n) {
  std::string b = test::read_bytes(path);
  REQUIRE(b.size() >= offset + n);
  b.replace(offset, n, static_cast<const char*>(bytes), n);
  test::write_bytes(path, b);
}
} // namespace

TEST_CASE("volume io: a spacing of 0 and more than 2^30 voxels are refused, naming the field", "[volume][untrusted]") {
  test::TempDir dir;
  Geometry g = oblique();
  std::vector<float> v(size_t(g.voxels()), 1.0f);
  const std::string nii = dir / "v.nii";
  write_volume(nii, g, v.data(), VoxelType::UInt8);
  REQUIRE_NOTHROW(read_volume(nii));
  // NIfTI-1: pixdim[1] is the float32 at byte 80 (readers replace 0 by 1 mm: a made-up grid).
  const float zero = 0;
  patch(nii, 80, &zero, 4);
  CHECK_THROWS_WITH(read_volume(nii), Catch::Contains("v.nii'") && Catch::Contains("pixdim[1] is 0"));
  // dim[1..3] are the int16s at bytes 42, 44, 46: 2048 x 2048 x 512 = 2^31 voxels of uint8 (2 GiB,
  // under the 16 GiB of data a volume may hold) is refused before anything reads them.
  write_volume(nii, g, v.data(), VoxelType::UInt8);
  const int16_t dims[3] = {2048, 2048, 512};
  patch(nii, 42, dims, sizeof dims);
  CHECK_THROWS_WITH(read_volume(nii), Catch::Contains("2147483648 voxels (2^30 at most)"));
  // MetaImage: ElementSpacing 0.
  test::write_bytes(dir / "s.mha", "ObjectType = Image\nNDims = 3\nDimSize = 2 2 2\nElementSpacing = 1 0 1\n"
                                   "ElementType = MET_UCHAR\nElementDataFile = LOCAL\n" + std::string(8, '\0'));
  CHECK_THROWS_WITH(read_volume(dir / "s.mha"), Catch::Contains("ElementSpacing[1] is 0"));
}

TEST_CASE("volume io: staged volumes appear only when committed, links stay links", "[volume][untrusted]") {
  test::TempDir dir;
  Geometry g = oblique();
  std::vector<float> v(size_t(g.voxels()), 2.0f);
  namespace fs = std::filesystem;
  auto names = [&] {
    std::vector<std::string> out;
    for (auto& e : fs::directory_iterator(dir.path)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  };
  {
    StagedVolume a(dir / "a.nii.gz", g, v.data(), VoxelType::UInt8);
    CHECK_FALSE(fs::exists(dir / "a.nii.gz")); // written under a temporary name only
    CHECK(names().size() == 1);
  }
  CHECK(names().empty()); // never committed: nothing left, the temporary neither
  {
    StagedVolume a(dir / "a.nii.gz", g, v.data(), VoxelType::UInt8);
    StagedVolume b(dir / "b.nii.gz", g, v.data(), VoxelType::UInt8);
    a.commit();
    b.commit();
  }
  CHECK(names() == std::vector<std::string>{"a.nii.gz", "b.nii.gz"});
  CHECK(read_volume(dir / "b.nii.gz").voxels == v);
  // A link in place of the output stays a link; its target receives the volume.
  test::write_bytes(dir / "target.nii.gz", "old");
  fs::create_symlink("target.nii.gz", dir / "link.nii.gz");
  write_volume(dir / "link.nii.gz", g, v.data(), VoxelType::UInt8);
  CHECK(fs::is_symlink(dir / "link.nii.gz"));
  CHECK(read_volume(dir / "target.nii.gz").voxels == v);
  // A directory where a volume goes fails when it is staged, before any other is committed.
  fs::create_directory(dir / "d.nii.gz");
  CHECK_THROWS_WITH(StagedVolume(dir / "d.nii.gz", g, v.data(), VoxelType::UInt8), Catch::Contains("is a directory"));
}
