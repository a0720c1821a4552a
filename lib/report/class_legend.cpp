#include "class_legend.h"

#include <algorithm>

namespace dlk {

Rgb class_colour(int label) {
  static const Rgb colours[] = {{230, 25, 75}, {60, 180, 75},  {255, 225, 25}, {0, 130, 200},  {245, 130, 48},  {145, 30, 180},
                                {70, 240, 240}, {240, 50, 230}, {210, 245, 60}, {250, 190, 212}, {0, 128, 128}, {170, 110, 40}};
  return colours[(std::max(label, 1) - 1) % 12];
}

ClassLegend layout_legend(std::vector<std::pair<int, std::string>> entries, const TextRaster& font, int64_t width) {
  ClassLegend l;
  l.entries = std::move(entries);
  if (!TextRaster::available() || l.entries.empty()) return l;
  for (auto& e : l.entries) l.entry_w = std::max<int64_t>(l.entry_w, 24 + font.width(e.second) + 24);
  l.per_row = std::max<int64_t>(1, width / std::max<int64_t>(l.entry_w, 1));
  l.height = 30 * ((int64_t(l.entries.size()) + l.per_row - 1) / l.per_row) + 8;
  return l;
}

void draw_legend(std::vector<uint8_t>& rgb, int64_t W, int64_t H, int64_t x0, int64_t y0, const ClassLegend& l,
                 const TextRaster& font) {
  if (!l.height) return;
  for (size_t i = 0; i < l.entries.size(); ++i) {
    const int64_t x = x0 + int64_t(i) % l.per_row * l.entry_w, y = y0 + 8 + int64_t(i) / l.per_row * 30;
    const Rgb col = class_colour(l.entries[i].first);
    for (int64_t yy = y; yy < y + 18 && yy < H; ++yy)
      for (int64_t xx = x; xx < x + 18 && xx < W; ++xx)
        for (int j = 0; j < 3; ++j) rgb[size_t((yy * W + xx) * 3 + j)] = col[size_t(j)];
    font.draw(rgb, W, H, x + 24, y, l.entries[i].second, {0, 0, 0});
  }
}

} // namespace dlk
