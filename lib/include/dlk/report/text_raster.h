// Text drawn into RGB images (panel headers, class legends, orientation letters) with FreeType and a TrueType font:
// $DLK_FONT, else DejaVu Sans where Debian, Fedora and Arch put it. Built without FreeType,
// dlk draws no text (available() says so).
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dlk {

using Rgb = std::array<uint8_t, 3>;

class TextRaster {
public:
  // Without a font (or FreeType) it draws nothing; fails naming a font file it cannot load.
  explicit TextRaster(int pixel_size);
  ~TextRaster();
  static bool available(); // built with FreeType and a font found
  int width(const std::string& text) const; // pixels the text advances
  int height() const { return pixel_size_; }
  // Draws `text` with its top-left at (x, y) into an RGB image of `w` columns; what falls outside
  // is cut. ASCII only: other bytes draw as '?'.
  void draw(std::vector<uint8_t>& rgb, int64_t w, int64_t h, int64_t x, int64_t y, const std::string& text, Rgb colour) const;
  // The same in `colour` over a one-pixel outline in `outline`: legible over any background.
  void draw_outlined(std::vector<uint8_t>& rgb, int64_t w, int64_t h, int64_t x, int64_t y, const std::string& text, Rgb colour,
                     Rgb outline) const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int pixel_size_;
};

} // namespace dlk
