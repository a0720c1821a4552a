// Which way is which in a figure: a slice turned as a clinical viewer shows it, and the patient
// direction each of its edges points to (orientation letters).
//
// Radiological convention (the default of clinical viewers): axial slices are seen from the feet,
// anterior at the top and the patient's right on the viewer's left; coronal slices from the front,
// superior at the top and the patient's right on the viewer's left; sagittal slices superior at the
// top and anterior on the left. Neurological convention: the same, except that the patient's left
// is on the viewer's left (axial slices seen from the head, coronal ones from behind). Directions
// are ITK's LPS: component 0 towards the patient's left, 1 posterior, 2 superior.
#pragma once
#include "dlk/report/text_raster.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace dlk {

enum class ViewConvention { Radiological, Neurological };

const char* view_convention_name(ViewConvention c);

// The letter of the patient direction nearest to an LPS vector: L or R, P or A, S or I (the
// component of largest magnitude decides; for an oblique direction the dominant axis).
char direction_letter(const std::array<double, 3>& lps);

// How to show a slice cut by slice_shape (rows the higher of the two in-plane voxel axes, columns
// the lower one, row 0 at the top, column 0 on the left): first transposed (rows become columns),
// then the columns reversed (flip_x) and the rows reversed (flip_y). The letters name the patient
// direction each edge of the slice as shown points to.
struct SliceView {
  bool known = false;    // false: the direction is no rotation; shown as cut, without letters
  bool transpose = false;
  bool flip_x = false, flip_y = false;
  std::string plane;     // "axial", "coronal" or "sagittal": the patient axis nearest the normal
  char top = 0, bottom = 0, left = 0, right = 0;
};

// The view of the slices along voxel axis `axis` of a volume whose direction matrix is
// `direction` (row-major, column j the LPS direction of voxel axis j) in convention `c`.
SliceView slice_view(const std::array<double, 9>& direction, int axis, ViewConvention c);

// A slice of h rows by w columns as `v` shows it; h and w become the shown slice's rows and columns.
template <class T> std::vector<T> show_slice(const std::vector<T>& slice, int64_t& h, int64_t& w, const SliceView& v);

// Draws v's letters at the middle of each edge of the w x h image whose top-left is (x0, y0) in an
// RGB image of W x H, white outlined in black so that they read over any grey. Nothing when the
// view is unknown or there is no font.
void draw_edge_letters(std::vector<uint8_t>& rgb, int64_t W, int64_t H, int64_t x0, int64_t y0, int64_t w, int64_t h,
                       const SliceView& v, const TextRaster& font);

// The caption stating the convention ("radiological view: the patient's right on the viewer's
// left"), shortened to fit `width` pixels; for an unknown view, that the letters are missing.
std::string view_caption(ViewConvention c, bool known, const TextRaster& font, int64_t width);

} // namespace dlk
