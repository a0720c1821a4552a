// PNG images.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dlk {

// RGB image -> PNG through libpng (8-bit truecolour, filter 0, stored deflate blocks, as dlk wrote
// them before it used libpng: the same pixels, in files of about the same size).
std::string encode_png(const std::vector<uint8_t>& rgb, int64_t width, int64_t height);

} // namespace dlk
