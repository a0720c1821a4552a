// Reorientation to LPS against positions computed from the geometry by hand.
#include "dlk/cli/option_values.h"
#include "dlk/core/error.h"
#include "dlk/io/orientation.h"
#include "dlk/shard/shard_meta.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace dlk;

namespace {
// The physical position of index (i, j, k) of g: origin + direction * (spacing * index).
std::array<double, 3> position(const Geometry& g, int64_t i, int64_t j, int64_t k) {
  const double idx[3] = {double(i) * g.spacing[0], double(j) * g.spacing[1], double(k) * g.spacing[2]};
  std::array<double, 3> p{};
  for (int r = 0; r < 3; ++r) p[size_t(r)] = g.origin[size_t(r)] + g.direction[size_t(3 * r)] * idx[0] + g.direction[size_t(3 * r + 1)] * idx[1] + g.direction[size_t(3 * r + 2)] * idx[2];
  return p;
}
// A grid of 4 x 3 x 2 voxels whose axes are stored as R (x: towards the right), I (y: down)
// and P (z: back): RIP. Spacings differ per axis so that a wrong permutation shows.
Geometry rip() {
  Geometry g;
  g.size = {{4, 3, 2}};
  g.spacing = {{0.5, 2.0, 3.0}};
  g.origin = {{10, -20, 30}};
  // columns: x -> (-1, 0, 0) (R), y -> (0, 0, -1) (I), z -> (0, 1, 0) (P)
  g.direction = {{-1, 0, 0, 0, 0, 1, 0, -1, 0}};
  return g;
}
} // namespace

TEST_CASE("orientation: RIP to LPS, every voxel where it was", "[orientation]") {
  const Geometry g = rip();
  const Reorientation r = canonical_reorientation(g);
  CHECK(r.original_code() == "RIP");
  // L is stored x reversed, P is stored z, S is stored y reversed.
  CHECK(r.perm == std::array<int, 3>{{0, 2, 1}});
  CHECK(r.flip == std::array<bool, 3>{{true, false, true}});
  const Geometry c = reoriented_geometry(g, r);
  CHECK(c.size == std::array<int64_t, 3>{{4, 2, 3}});
  CHECK(c.spacing == std::array<double, 3>{{0.5, 3.0, 2.0}});
  CHECK(c.direction == std::array<double, 9>{{1, 0, 0, 0, 1, 0, 0, 0, 1}});
  // Voxel values: their own old index, so that each new voxel tells where it came from.
  std::vector<float> v(size_t(g.voxels()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = float(i);
  const std::vector<float> cv = reorient(v, g, r);
  for (int64_t k = 0; k < c.size[2]; ++k)
    for (int64_t j = 0; j < c.size[1]; ++j)
      for (int64_t i = 0; i < c.size[0]; ++i) {
        const int64_t old = int64_t(cv[size_t((k * c.size[1] + j) * c.size[0] + i)]);
        const auto p_new = position(c, i, j, k), p_old = position(g, old % 4, old / 4 % 3, old / 12);
        for (int a = 0; a < 3; ++a) CHECK(p_new[size_t(a)] == Approx(p_old[size_t(a)]));
      }
  CHECK(unreorient(cv, g, r) == v);
}

TEST_CASE("orientation: LPS stays as it is; an oblique scan takes the nearest axes", "[orientation]") {
  Geometry g;
  g.size = {{3, 3, 3}};
  CHECK(canonical_reorientation(g).identity());
  CHECK(canonical_reorientation(g).original_code() == "LPS");
  // Rotated 20 degrees about z, stored as RAS: x nearest R, y nearest A.
  const double c = std::cos(0.35), s = std::sin(0.35);
  g.direction = {{-c, s, 0, -s, -c, 0, 0, 0, 1}};
  const Reorientation r = canonical_reorientation(g);
  CHECK(r.original_code() == "RAS");
  const Geometry o = reoriented_geometry(g, r);
  CHECK(o.direction[0] == Approx(c));
  CHECK(o.direction[4] == Approx(c));
  CHECK(anatomical_axis("axial") == 2);
  CHECK(anatomical_axis("sagittal") == 0);
  CHECK_THROWS_AS(anatomical_axis("z"), UsageError);
}

TEST_CASE("orientation: --axis names, anatomical only for canonical volumes", "[orientation]") {
  CHECK(cli::axis_option("", true) == 2);
  CHECK(cli::axis_option("", false) == 2);
  CHECK(cli::axis_option("axial", true) == 2);
  CHECK(cli::axis_option("coronal", true) == 1);
  CHECK(cli::axis_option("sagittal", true) == 0);
  CHECK(cli::axis_option("x", false) == 0);
  CHECK(cli::axis_option("1", true) == 1);
  CHECK_THROWS_AS(cli::axis_option("coronal", false), UsageError);
  CHECK_THROWS_AS(cli::axis_option("oblique", true), UsageError);
}

TEST_CASE("orientation: a shard records it, reads it back and slices the canonical grid", "[orientation]") {
  ShardMeta m;
  m.case_id = "c";
  m.split = "train";
  m.channels = {"ct"};
  m.image_sources = {"c.nii.gz"};
  m.geometry = rip(); // 4 x 3 x 2 as stored; LPS axes are stored x (flipped), z, y (flipped)
  m.orientation = canonical_reorientation(m.geometry);
  m.axis = 1; // coronal: along P, the stored z (2 voxels)
  m.n_slices = 2;
  m.height = 3; // S: the stored y, 3 voxels
  m.width = 4;  // L: the stored x
  m.source_pixel_type = "int16";
  json::Array norm{json::Value()};
  norm[0].set("method", "none");
  m.normalization = json::Value(norm);
  m.classes = {"background"};
  m.tool = "test";
  const json::Value v = m.to_json();
  CHECK(v.at("orientation").at("stored").as_string() == "RIP");
  ShardMeta back = ShardMeta::from_json(json::Value::parse(v.dump()));
  REQUIRE(back.orientation);
  CHECK(back.orientation->perm == m.orientation->perm);
  CHECK(back.orientation->flip == m.orientation->flip);
  CHECK(back.geometry == m.geometry); // the stored grid itself
  CHECK(back.grid().size == std::array<int64_t, 3>{{4, 2, 3}});

  json::Value bad = v;
  json::Value o = v.at("orientation");
  o.set("axes", std::vector<int64_t>{0, 0, 2});
  bad.set("orientation", o);
  CHECK_THROWS_WITH(ShardMeta::from_json(bad), Catch::Contains("permutation"));
  bad = v;
  bad.set("slices", 3); // as if sliced along the stored y: not the canonical grid's 2
  CHECK_THROWS_AS(ShardMeta::from_json(bad), Error);
}
