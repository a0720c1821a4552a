// A slice's intensities as grey levels, as panels and overlays show them (private to lib/report):
// the 1st to the 99th percentile of the slice stretched to 0..255.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

namespace dlk {

inline std::vector<uint8_t> grey_levels(const std::vector<float>& img) {
  std::vector<float> sorted = img;
  std::sort(sorted.begin(), sorted.end());
  const float lo = sorted[size_t(0.01 * double(sorted.size() - 1))], hi = sorted[size_t(0.99 * double(sorted.size() - 1))];
  std::vector<uint8_t> g(img.size());
  for (size_t i = 0; i < img.size(); ++i) g[i] = uint8_t(hi > lo ? std::clamp((img[i] - lo) / (hi - lo), 0.0f, 1.0f) * 255 : 0);
  return g;
}

} // namespace dlk
