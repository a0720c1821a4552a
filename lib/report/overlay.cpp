#include "dlk/report/overlay.h"
#include "dlk/core/error.h"
#include "dlk/io/slices.h"
#include "dlk/report/png_encoder.h"
#include "dlk/report/text_raster.h"
#include "class_legend.h"
#include "grey_levels.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace dlk {

std::string overlay_png(const std::vector<float>& image, const std::vector<uint16_t>& truth, const std::vector<uint16_t>& pred,
                        const Geometry& grid, int axis, int64_t slice, const std::vector<std::string>& classes, ViewConvention view) {
  int64_t n, h, w;
  slice_shape(grid, axis, n, h, w);
  if (slice < 0 || slice >= n) throw UsageError(fmt::format("--slice {}: the volume has {} slices along axis {}", slice, n, axis));
  std::vector<float> img(size_t(h * w));
  std::vector<uint16_t> t(size_t(h * w)), p(size_t(h * w));
  extract_slice(image.data(), grid, axis, slice, img.data());
  extract_slice(truth.data(), grid, axis, slice, t.data());
  extract_slice(pred.data(), grid, axis, slice, p.data());
  // Turned as the convention shows the patient (from the grid's direction), lettered below.
  const SliceView v = slice_view(grid.direction, axis, view);
  auto shown = [&](const auto& s) {
    int64_t hh = h, ww = w;
    return show_slice(s, hh, ww, v);
  };
  img = shown(img), t = shown(t), p = shown(p);
  if (v.transpose) std::swap(h, w);
  const std::vector<uint8_t> grey = grey_levels(img);
  const TextRaster font(14), letters(int(std::clamp<int64_t>(std::min(h, w) / 8, 10, 14)));
  const int64_t head = TextRaster::available() ? 22 : 0, caption = TextRaster::available() ? 20 : 0;
  std::set<int> labels; // the classes either side shows
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i]) labels.insert(t[i]);
    if (p[i]) labels.insert(p[i]);
  }
  std::vector<std::pair<int, std::string>> present;
  for (int c : labels) present.emplace_back(c, size_t(c) < classes.size() ? classes[size_t(c)] : fmt::format("class {}", c));
  const int64_t W = 2 * w + 4; // two panels with a 4-pixel gap
  const ClassLegend legend = layout_legend(present, font, W);
  const int64_t H = head + h + caption + legend.height;
  std::vector<uint8_t> rgb(size_t(W * H * 3), 255);
  auto paint = [&](const std::vector<uint16_t>& lab, int64_t x0) {
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) {
        const size_t i = size_t(y * w + x);
        uint8_t* px = &rgb[size_t(((head + y) * W + x0 + x) * 3)];
        px[0] = px[1] = px[2] = grey[i];
        const uint16_t c = lab[i];
        if (c == 0) continue;
        const bool edge = x == 0 || y == 0 || x == w - 1 || y == h - 1 || lab[i - 1] != c || lab[i + 1] != c ||
                          lab[i - size_t(w)] != c || lab[i + size_t(w)] != c;
        if (!edge) continue;
        const Rgb col = class_colour(c);
        for (int k = 0; k < 3; ++k) px[k] = col[size_t(k)];
      }
    draw_edge_letters(rgb, W, H, x0, head, w, h, v, letters);
  };
  paint(t, 0);
  paint(p, w + 4);
  font.draw(rgb, W, H, (w - font.width("reference")) / 2, 2, "reference", {0, 0, 0});
  font.draw(rgb, W, H, w + 4 + (w - font.width("prediction")) / 2, 2, "prediction", {0, 0, 0});
  const TextRaster small(12);
  small.draw(rgb, W, H, 2, head + h + 4, view_caption(view, v.known, small, W - 4), {0, 0, 0});
  draw_legend(rgb, W, H, 0, head + h + caption, legend, font);
  return encode_png(rgb, W, H);
}

int64_t busiest_slice(const std::vector<uint16_t>& labels, const std::array<int64_t, 3>& size, int axis, int cls) {
  Geometry g;
  g.size = size;
  int64_t n, h, w;
  slice_shape(g, axis, n, h, w);
  std::vector<uint16_t> buf(size_t(h * w));
  int64_t best = 0, slice = -1;
  for (int64_t s = 0; s < n; ++s) {
    extract_slice(labels.data(), g, axis, s, buf.data());
    const int64_t k = std::count_if(buf.begin(), buf.end(), [&](uint16_t v) { return cls < 0 ? v > 0 : v == cls; });
    if (k > best) best = k, slice = s;
  }
  return slice;
}

} // namespace dlk
