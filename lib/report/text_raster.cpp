#include "dlk/report/text_raster.h"
#include "dlk/core/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#ifdef DLK_HAVE_FREETYPE
#include <ft2build.h>
#include FT_FREETYPE_H
#endif

namespace dlk {

namespace {
std::string font_path() {
  if (const char* f = std::getenv("DLK_FONT"); f && *f) return f;
  for (const char* p : {"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
                        "/usr/share/fonts/dejavu/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans.ttf"})
    if (std::filesystem::exists(p)) return p;
  return "";
}
} // namespace

#ifdef DLK_HAVE_FREETYPE
struct TextRaster::Impl {
  FT_Library lib = nullptr;
  FT_Face face = nullptr;
  ~Impl() {
    if (face) FT_Done_Face(face);
    if (lib) FT_Done_FreeType(lib);
  }
};

bool TextRaster::available() { return !font_path().empty(); }

TextRaster::TextRaster(int pixel_size) : impl_(std::make_unique<Impl>()), pixel_size_(pixel_size) {
  const std::string path = font_path();
  if (path.empty()) return; // no text (available() is false)
  if (FT_Init_FreeType(&impl_->lib) || FT_New_Face(impl_->lib, path.c_str(), 0, &impl_->face))
    fail(path, "FreeType cannot load this font (DLK_FONT: a TrueType file)");
  FT_Set_Pixel_Sizes(impl_->face, 0, FT_UInt(pixel_size));
}

int TextRaster::width(const std::string& text) const {
  if (!impl_->face) return 0;
  int w = 0;
  for (char c : text)
    if (!FT_Load_Char(impl_->face, FT_ULong(c > 31 && c < 127 ? c : '?'), FT_LOAD_DEFAULT)) w += int(impl_->face->glyph->advance.x >> 6);
  return w;
}

void TextRaster::draw(std::vector<uint8_t>& rgb, int64_t w, int64_t h, int64_t x, int64_t y, const std::string& text, Rgb colour) const {
  if (!impl_->face) return;
  const int64_t baseline = y + (impl_->face->size->metrics.ascender >> 6);
  for (char c : text) {
    if (FT_Load_Char(impl_->face, FT_ULong(c > 31 && c < 127 ? c : '?'), FT_LOAD_RENDER)) continue;
    const FT_GlyphSlot g = impl_->face->glyph;
    for (unsigned r = 0; r < g->bitmap.rows; ++r)
      for (unsigned col = 0; col < g->bitmap.width; ++col) {
        const int64_t px = x + g->bitmap_left + col, py = baseline - g->bitmap_top + r;
        if (px < 0 || py < 0 || px >= w || py >= h) continue;
        const double a = g->bitmap.buffer[r * unsigned(g->bitmap.pitch) + col] / 255.0; // coverage
        uint8_t* p = &rgb[size_t((py * w + px) * 3)];
        for (int k = 0; k < 3; ++k) p[k] = uint8_t(std::lround(p[k] * (1 - a) + colour[size_t(k)] * a));
      }
    x += g->advance.x >> 6;
  }
}
#else
struct TextRaster::Impl {};
bool TextRaster::available() { return false; }
TextRaster::TextRaster(int pixel_size) : pixel_size_(pixel_size) {}
int TextRaster::width(const std::string&) const { return 0; }
void TextRaster::draw(std::vector<uint8_t>&, int64_t, int64_t, int64_t, int64_t, const std::string&, Rgb) const {}
#endif

void TextRaster::draw_outlined(std::vector<uint8_t>& rgb, int64_t w, int64_t h, int64_t x, int64_t y, const std::string& text,
                               Rgb colour, Rgb outline) const {
  for (int dy = -1; dy <= 1; ++dy)
    for (int dx = -1; dx <= 1; ++dx)
      if (dx || dy) draw(rgb, w, h, x + dx, y + dy, text, outline);
  draw(rgb, w, h, x, y, text, colour);
}

TextRaster::~TextRaster() = default;

} // namespace dlk
