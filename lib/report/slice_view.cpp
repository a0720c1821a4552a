#include "dlk/report/slice_view.h"
#include "dlk/core/error.h"
#include "dlk/io/volume.h"

#include <fmt/format.h>

#include <cmath>

namespace dlk {

const char* view_convention_name(ViewConvention c) { return c == ViewConvention::Radiological ? "radiological" : "neurological"; }

char direction_letter(const std::array<double, 3>& v) {
  static const char pos[3] = {'L', 'P', 'S'}, neg[3] = {'R', 'A', 'I'};
  size_t k = 0;
  for (size_t a = 1; a < 3; ++a)
    if (std::fabs(v[a]) > std::fabs(v[k])) k = a;
  return v[k] < 0 ? neg[k] : pos[k];
}

SliceView slice_view(const std::array<double, 9>& d, int axis, ViewConvention c) {
  SliceView v;
  if (axis < 0 || axis > 2 || !is_orthonormal(d, 1e-3)) return v;
  auto column = [&](int j) { return std::array<double, 3>{{d[size_t(j)], d[size_t(3 + j)], d[size_t(6 + j)]}}; };
  // The slice's columns run along voxel axis cu, its rows along rv (as slice_shape cuts them).
  const int cu = axis == 0 ? 1 : 0, rv = axis == 2 ? 1 : 2;
  const std::array<double, 3> n = column(axis), du = column(cu), dv = column(rv);
  size_t k = 0; // the patient axis nearest the normal names the plane
  for (size_t a = 1; a < 3; ++a)
    if (std::fabs(n[a]) > std::fabs(n[k])) k = a;
  // What the screen's right and down should point to: an LPS component and its sign.
  const double lr = c == ViewConvention::Radiological ? 1 : -1; // radiological: the patient's left on the right
  size_t rc, dc;
  double rs, ds;
  if (k == 2) v.plane = "axial", rc = 0, rs = lr, dc = 1, ds = 1;         // posterior at the bottom
  else if (k == 1) v.plane = "coronal", rc = 0, rs = lr, dc = 2, ds = -1; // inferior at the bottom
  else v.plane = "sagittal", rc = 1, rs = 1, dc = 2, ds = -1;             // posterior on the right
  // The in-plane axis nearer the wanted horizontal goes across; then each is reversed as needed.
  v.transpose = std::fabs(du[rc]) + std::fabs(dv[dc]) < std::fabs(dv[rc]) + std::fabs(du[dc]);
  std::array<double, 3> right = v.transpose ? dv : du, down = v.transpose ? du : dv;
  v.flip_x = right[rc] * rs < 0;
  v.flip_y = down[dc] * ds < 0;
  for (size_t a = 0; a < 3; ++a) {
    if (v.flip_x) right[a] = -right[a];
    if (v.flip_y) down[a] = -down[a];
  }
  v.right = direction_letter(right);
  v.left = direction_letter({{-right[0], -right[1], -right[2]}});
  v.bottom = direction_letter(down);
  v.top = direction_letter({{-down[0], -down[1], -down[2]}});
  v.known = true;
  return v;
}

template <class T> std::vector<T> show_slice(const std::vector<T>& in, int64_t& h, int64_t& w, const SliceView& v) {
  if (int64_t(in.size()) != h * w) throw Error("show_slice: the pixels do not fill the slice");
  const int64_t H = v.transpose ? w : h, W = v.transpose ? h : w;
  std::vector<T> out(in.size());
  for (int64_t r = 0; r < H; ++r)
    for (int64_t c = 0; c < W; ++c) {
      const int64_t r0 = v.flip_y ? H - 1 - r : r, c0 = v.flip_x ? W - 1 - c : c; // in the transposed slice
      out[size_t(r * W + c)] = v.transpose ? in[size_t(c0 * w + r0)] : in[size_t(r0 * w + c0)];
    }
  h = H, w = W;
  return out;
}

template std::vector<uint8_t> show_slice(const std::vector<uint8_t>&, int64_t&, int64_t&, const SliceView&);
template std::vector<uint16_t> show_slice(const std::vector<uint16_t>&, int64_t&, int64_t&, const SliceView&);
template std::vector<float> show_slice(const std::vector<float>&, int64_t&, int64_t&, const SliceView&);

void draw_edge_letters(std::vector<uint8_t>& rgb, int64_t W, int64_t H, int64_t x0, int64_t y0, int64_t w, int64_t h,
                       const SliceView& v, const TextRaster& font) {
  if (!v.known || !TextRaster::available()) return;
  // A capital's top lies about a fifth of the pixel size below the text box's top, its baseline
  // at about 0.93 of it (DejaVu Sans): the letters' ink is placed 3 pixels inside each edge.
  const int64_t px = font.height(), cap_top = px / 5, base = (px * 93 + 50) / 100, m = 3;
  auto put = [&](char letter, int64_t x, int64_t y) {
    font.draw_outlined(rgb, W, H, x, y, std::string(1, letter), {255, 255, 255}, {0, 0, 0});
  };
  auto wid = [&](char letter) { return int64_t(font.width(std::string(1, letter))); };
  const int64_t mid_y = y0 + h / 2 - (cap_top + base) / 2;
  put(v.top, x0 + (w - wid(v.top)) / 2, y0 + m - cap_top);
  put(v.bottom, x0 + (w - wid(v.bottom)) / 2, y0 + h - m - base);
  put(v.left, x0 + m, mid_y);
  put(v.right, x0 + w - m - wid(v.right), mid_y);
}

std::string view_caption(ViewConvention c, bool known, const TextRaster& font, int64_t width) {
  const std::vector<std::string> options =
      !known ? std::vector<std::string>{"orientation unknown: shown as stored, no letters", "orientation unknown"}
      : c == ViewConvention::Radiological
          ? std::vector<std::string>{"radiological view: the patient's right on the viewer's left", "radiological view: R on the left",
                                     "radiological"}
          : std::vector<std::string>{"neurological view: the patient's left on the viewer's left", "neurological view: L on the left",
                                     "neurological"};
  for (const auto& s : options)
    if (font.width(s) <= width) return s;
  return options.back();
}

} // namespace dlk
