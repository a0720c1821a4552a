#include "dlk/report/overlay.h"
#include "dlk/core/error.h"
#include "dlk/io/slices.h"
#include "dlk/report/plots.h"

#include <fmt/format.h>

#include <algorithm>

namespace dlk {

std::string overlay_png(const std::vector<float>& image, const std::vector<uint16_t>& truth, const std::vector<uint16_t>& pred,
                        const std::array<int64_t, 3>& size, int axis, int64_t slice) {
  Geometry g;
  g.size = size;
  int64_t n, h, w;
  slice_shape(g, axis, n, h, w);
  if (slice < 0 || slice >= n) throw UsageError(fmt::format("--slice {}: the volume has {} slices along axis {}", slice, n, axis));
  std::vector<float> img(size_t(h * w));
  std::vector<uint16_t> t(size_t(h * w)), p(size_t(h * w));
  extract_slice(image.data(), g, axis, slice, img.data());
  extract_slice(truth.data(), g, axis, slice, t.data());
  extract_slice(pred.data(), g, axis, slice, p.data());
  // Grey levels from the 1st to the 99th percentile of the slice.
  std::vector<float> sorted = img;
  std::sort(sorted.begin(), sorted.end());
  const float lo = sorted[size_t(0.01 * double(sorted.size() - 1))], hi = sorted[size_t(0.99 * double(sorted.size() - 1))];
  static const uint8_t colours[8][3] = {{230, 25, 75}, {60, 180, 75},  {255, 225, 25}, {0, 130, 200},
                                        {245, 130, 48}, {145, 30, 180}, {70, 240, 240}, {240, 50, 230}};
  const int64_t W = 2 * w + 4; // two panels with a 4-pixel gap
  std::vector<uint8_t> rgb(size_t(W * h * 3), 255);
  auto paint = [&](const std::vector<uint16_t>& lab, int64_t x0) {
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) {
        const size_t i = size_t(y * w + x);
        uint8_t* px = &rgb[size_t((y * W + x0 + x) * 3)];
        const float v = hi > lo ? std::clamp((img[i] - lo) / (hi - lo), 0.0f, 1.0f) : 0.0f;
        px[0] = px[1] = px[2] = uint8_t(v * 255);
        const uint16_t c = lab[i];
        if (c == 0) continue;
        const bool edge = x == 0 || y == 0 || x == w - 1 || y == h - 1 || lab[i - 1] != c || lab[i + 1] != c ||
                          lab[i - size_t(w)] != c || lab[i + size_t(w)] != c;
        if (!edge) continue;
        for (int k = 0; k < 3; ++k) px[k] = colours[(c - 1) % 8][k];
      }
  };
  paint(t, 0);
  paint(p, w + 4);
  // Rows go top to bottom as the slice's rows do (row 0 of the array first).
  return encode_png(rgb, W, h);
}

int64_t busiest_slice(const std::vector<uint16_t>& labels, const std::array<int64_t, 3>& size, int axis) {
  Geometry g;
  g.size = size;
  int64_t n, h, w;
  slice_shape(g, axis, n, h, w);
  std::vector<uint16_t> buf(size_t(h * w));
  int64_t best = -1, slice = -1;
  for (int64_t s = 0; s < n; ++s) {
    extract_slice(labels.data(), g, axis, s, buf.data());
    const int64_t k = std::count_if(buf.begin(), buf.end(), [](uint16_t v) { return v > 0; });
    if (k > best) best = k, slice = s;
  }
  return slice;
}

} // namespace dlk
