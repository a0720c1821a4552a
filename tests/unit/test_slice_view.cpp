// Orientation letters and the turning of slices, against views worked out by hand: for each
// grid, which patient direction its voxel axes point to (the direction's columns, LPS), which of
// them a slice's rows and columns run along (slice_shape), and where the convention wants them.
#include "dlk/cli/option_values.h"
#include "dlk/core/error.h"
#include "dlk/report/slice_view.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace dlk;

namespace {
using Dir = std::array<double, 9>; // row-major: column j is the LPS direction of voxel axis j
const Dir kLps{{1, 0, 0, 0, 1, 0, 0, 0, 1}};
const Dir kRas{{-1, 0, 0, 0, -1, 0, 0, 0, 1}}; // a NIfTI with an identity affine, as ITK reads it
std::string letters(const SliceView& v) { return {v.top, v.bottom, v.left, v.right}; } // top, bottom, left, right
} // namespace

TEST_CASE("slice view: the letter of a direction", "[slice_view]") {
  CHECK(direction_letter({{1, 0, 0}}) == 'L');
  CHECK(direction_letter({{-1, 0, 0}}) == 'R');
  CHECK(direction_letter({{0, 1, 0}}) == 'P');
  CHECK(direction_letter({{0, -1, 0}}) == 'A');
  CHECK(direction_letter({{0, 0, 1}}) == 'S');
  CHECK(direction_letter({{0, 0, -1}}) == 'I');
  // Oblique: the largest component decides.
  CHECK(direction_letter({{0.3, -0.9, 0.1}}) == 'A');
  CHECK(direction_letter({{-0.8, 0.6, 0}}) == 'R');
  CHECK(direction_letter({{0.5, 0.1, -0.86}}) == 'I');
}

TEST_CASE("slice view: axial slices of LPS and RAS grids", "[slice_view]") {
  // LPS, axis z: columns run along x (towards L), rows along y (towards P). Radiological wants L
  // on the right and P at the bottom: nothing to do; R on the left, A at the top.
  SliceView v = slice_view(kLps, 2, ViewConvention::Radiological);
  CHECK(v.known);
  CHECK(v.plane == "axial");
  CHECK_FALSE(v.transpose);
  CHECK_FALSE(v.flip_x);
  CHECK_FALSE(v.flip_y);
  CHECK(letters(v) == "APRL");
  // Neurological: the patient's left on the viewer's left, so x is reversed.
  v = slice_view(kLps, 2, ViewConvention::Neurological);
  CHECK(v.flip_x);
  CHECK_FALSE(v.flip_y);
  CHECK(letters(v) == "APLR");
  // RAS: x towards R, y towards A: both reversed for the same picture.
  v = slice_view(kRas, 2, ViewConvention::Radiological);
  CHECK(v.flip_x);
  CHECK(v.flip_y);
  CHECK_FALSE(v.transpose);
  CHECK(letters(v) == "APRL");
  v = slice_view(kRas, 2, ViewConvention::Neurological);
  CHECK_FALSE(v.flip_x); // x already runs towards the patient's right
  CHECK(v.flip_y);
  CHECK(letters(v) == "APLR");
}

TEST_CASE("slice view: coronal and sagittal slices", "[slice_view]") {
  // LPS, axis y (coronal): columns along x (L), rows along z (S). Superior belongs at the top, so
  // the rows are reversed.
  SliceView v = slice_view(kLps, 1, ViewConvention::Radiological);
  CHECK(v.plane == "coronal");
  CHECK_FALSE(v.flip_x);
  CHECK(v.flip_y);
  CHECK(letters(v) == "SIRL");
  CHECK(letters(slice_view(kLps, 1, ViewConvention::Neurological)) == "SILR");
  // LPS, axis x (sagittal): columns along y (P), rows along z (S): anterior on the left already,
  // superior to the top. Both conventions show sagittal slices alike.
  v = slice_view(kLps, 0, ViewConvention::Radiological);
  CHECK(v.plane == "sagittal");
  CHECK_FALSE(v.flip_x);
  CHECK(v.flip_y);
  CHECK(letters(v) == "SIAP");
  CHECK(letters(slice_view(kLps, 0, ViewConvention::Neurological)) == "SIAP");
  // RAS, axis x: columns along y (A): reversed, so that anterior is on the left.
  v = slice_view(kRas, 0, ViewConvention::Radiological);
  CHECK(v.flip_x);
  CHECK(v.flip_y);
  CHECK(letters(v) == "SIAP");
}

TEST_CASE("slice view: permuted axes are transposed", "[slice_view]") {
  // x towards P, y towards L, z towards S (PLS): axis z is axial, but columns (x) run to P and
  // rows (y) to L, so the slice is transposed; then L is on the right and P at the bottom.
  const Dir pls{{0, 1, 0, 1, 0, 0, 0, 0, 1}};
  SliceView v = slice_view(pls, 2, ViewConvention::Radiological);
  CHECK(v.plane == "axial");
  CHECK(v.transpose);
  CHECK_FALSE(v.flip_x);
  CHECK_FALSE(v.flip_y);
  CHECK(letters(v) == "APRL");
  // x towards I, y towards A, z towards R (IAR): axis z is sagittal (normal along R); columns (x)
  // run to I and rows (y) to A: transposed, columns then run to A (reversed: P on the right) and
  // rows to I (already down).
  const Dir iar{{0, 0, -1, 0, -1, 0, -1, 0, 0}};
  v = slice_view(iar, 2, ViewConvention::Radiological);
  CHECK(v.plane == "sagittal");
  CHECK(v.transpose);
  CHECK(v.flip_x);
  CHECK_FALSE(v.flip_y);
  CHECK(letters(v) == "SIAP");
}

TEST_CASE("slice view: an oblique grid takes the nearest letters", "[slice_view]") {
  // LPS turned 20 degrees about S: x towards (cos, sin, 0), mostly L; y towards (-sin, cos, 0),
  // mostly P. Nothing to turn; the letters are those of the nearest axes.
  const double c = std::cos(20 * M_PI / 180), s = std::sin(20 * M_PI / 180);
  const Dir d{{c, -s, 0, s, c, 0, 0, 0, 1}};
  const SliceView v = slice_view(d, 2, ViewConvention::Radiological);
  CHECK_FALSE(v.transpose);
  CHECK_FALSE(v.flip_x);
  CHECK_FALSE(v.flip_y);
  CHECK(letters(v) == "APRL");
}

TEST_CASE("slice view: no rotation, no letters", "[slice_view]") {
  const SliceView v = slice_view({{0, 0, 0, 0, 0, 0, 0, 0, 0}}, 2, ViewConvention::Radiological);
  CHECK_FALSE(v.known);
  CHECK_FALSE(v.transpose);
  CHECK_FALSE(v.flip_x);
  CHECK_FALSE(v.flip_y);
  CHECK_FALSE(slice_view({{2, 0, 0, 0, 1, 0, 0, 0, 1}}, 2, ViewConvention::Radiological).known); // not unit length
}

TEST_CASE("slice view: show_slice turns the pixels", "[slice_view]") {
  // 2 rows x 3 columns: 1 2 3 / 4 5 6.
  const std::vector<uint8_t> s{1, 2, 3, 4, 5, 6};
  SliceView v;
  int64_t h = 2, w = 3;
  v.flip_x = true;
  CHECK(show_slice(s, h, w, v) == std::vector<uint8_t>{3, 2, 1, 6, 5, 4});
  v.flip_x = false, v.flip_y = true;
  CHECK(show_slice(s, h, w, v) == std::vector<uint8_t>{4, 5, 6, 1, 2, 3});
  // Transposed (1 4 / 2 5 / 3 6), then the columns reversed: 4 1 / 5 2 / 6 3.
  v.flip_y = false, v.transpose = true, v.flip_x = true;
  CHECK(show_slice(s, h, w, v) == std::vector<uint8_t>{4, 1, 5, 2, 6, 3});
  CHECK(h == 3);
  CHECK(w == 2);
}

TEST_CASE("slice view: --view names a convention", "[slice_view]") {
  CHECK(cli::view_option("radiological") == ViewConvention::Radiological);
  CHECK(cli::view_option("neurological") == ViewConvention::Neurological);
  CHECK_THROWS_AS(cli::view_option("Radiological"), UsageError);
  CHECK_THROWS_WITH(cli::view_option("left"), Catch::Contains("--view left"));
}
