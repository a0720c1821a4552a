// PNGs through libpng.
#include "dlk/report/png_encoder.h"
#include "dlk/core/error.h"

#include <fmt/format.h>
#include <png.h>

#include <algorithm>

namespace dlk {

namespace {
void on_png_write(png_structp png, png_bytep data, png_size_t n) {
  static_cast<std::string*>(png_get_io_ptr(png))->append(reinterpret_cast<const char*>(data), n);
}
[[noreturn]] void on_png_error(png_structp png, png_const_charp message) {
  *static_cast<std::string*>(png_get_error_ptr(png)) = message;
  png_longjmp(png, 1);
}
} // namespace

std::string encode_png(const std::vector<uint8_t>& rgb, int64_t w, int64_t h) {
  if (w < 1 || h < 1 || w > 0x7FFFFFFF / 3 || h > 0x7FFFFFFF || rgb.size() != size_t(w * h * 3))
    throw Error(fmt::format("encode_png: a {} x {} RGB image needs {} bytes, not {}", w, h, w * h * 3, rgb.size()));
  // libpng reports errors by longjmp to the setjmp below: everything with a destructor that it
  // may jump over lives before it.
  std::string out, error;
  std::vector<png_bytep> rows(static_cast<size_t>(h));
  for (int64_t y = 0; y < h; ++y) rows[size_t(y)] = const_cast<png_bytep>(rgb.data() + y * w * 3);
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &error, on_png_error, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!png || !info) {
    png_destroy_write_struct(&png, nullptr);
    throw Error("encode_png: out of memory");
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw Error("encode_png: " + error);
  }
  png_set_write_fn(png, &out, on_png_write, nullptr);
  png_set_IHDR(png, info, png_uint_32(w), png_uint_32(h), 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  // As dlk's own encoder wrote them: raw scanlines (filter 0) in stored deflate blocks.
  png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
  png_set_compression_level(png, 0);
  // ... in one IDAT chunk (libpng writes one for each compression buffer it fills).
  const size_t raw = size_t(h) * size_t(w * 3 + 1);
  png_set_compression_buffer_size(png, std::min<size_t>(raw + raw / 65535 * 5 + 64, 0x7FFFFFFF));
  png_set_rows(png, info, rows.data());
  png_write_png(png, info, PNG_TRANSFORM_IDENTITY, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

} // namespace dlk
