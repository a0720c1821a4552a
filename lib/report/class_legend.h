// Class colours and the colour legend that panels and overlays share (private to lib/report).
#pragma once
#include "dlk/report/text_raster.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace dlk {

// The colour of label value `label` (>= 1), the same in every figure.
Rgb class_colour(int label);

// Entries (label, name) laid out in rows across `width` pixels: a swatch and the name each.
struct ClassLegend {
  std::vector<std::pair<int, std::string>> entries;
  int64_t entry_w = 0, per_row = 1, height = 0; // height 0: no text to draw, no legend
};
ClassLegend layout_legend(std::vector<std::pair<int, std::string>> entries, const TextRaster& font, int64_t width);
// Draws it with its top-left at (x0, y0) into an RGB image of W x H.
void draw_legend(std::vector<uint8_t>& rgb, int64_t W, int64_t H, int64_t x0, int64_t y0, const ClassLegend& legend,
                 const TextRaster& font);

} // namespace dlk
