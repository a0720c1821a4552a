// Parsing and decoding of the pieces of a shard, shared by the random-access and the
// streaming reader so that both check exactly the same things.
#include "shard_format.h"
#include "dlk/core/crc32.h"
#include "dlk/core/error.h"
#include "dlk/core/half.h"

#include <fmt/format.h>
#include <zstd.h>

namespace dlk::shard_format {

// Fuzzing builds (tests/fuzz) skip the checksum comparisons, so that mutated inputs reach the
// parsers behind them instead of stopping at the first CRC; every other check stays.
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
constexpr bool kVerifyCrc = false;
#else
constexpr bool kVerifyCrc = true;
#endif

[[noreturn]] void raise(const std::string& where, const std::string& what) {
  throw Error(where + ": " + what);
}

std::string where(const std::string& path, const std::string& case_id) {
  std::string w = quoted_path(path);
  if (!case_id.empty()) w += ": case " + case_id;
  return w;
}

namespace {
// One decompression context per thread: readers are used from loader thread pools.
ZSTD_DCtx* dctx() {
  struct Holder {
    ZSTD_DCtx* c = ZSTD_createDCtx();
    ~Holder() { ZSTD_freeDCtx(c); }
  };
  thread_local Holder h;
  return h.c;
}

[[noreturn]] void slice_raise(const std::string& path, int64_t slice, const std::string& what) {
  raise(path, fmt::format("slice {}: {}", slice, what));
}

// Decompresses one frame of exactly `expect` bytes, insisting on a content checksum.
void unzstd(const unsigned char* src, size_t n, std::vector<unsigned char>& dst, size_t expect,
            const char* part, const std::string& path, int64_t slice) {
  // Frame = magic 0xFD2FB528, then the descriptor whose bit 2 is the content-checksum flag
  // (RFC 8878, 3.1.1): read directly, as the stable zstd API does not expose it.
  if (n < 6 || get_u32(src) != 0xFD2FB528u) slice_raise(path, slice, fmt::format("{} is not a zstd frame", part));
  if (!(src[4] & 0x04)) slice_raise(path, slice, fmt::format("{} frame has no checksum", part));
  const unsigned long long content = ZSTD_getFrameContentSize(src, n);
  if (content != expect)
    slice_raise(path, slice, fmt::format("{} frame holds {} bytes, expected {}", part,
                                        content >= ZSTD_CONTENTSIZE_ERROR ? 0 : content, expect));
  dst.resize(expect);
  size_t got = ZSTD_decompressDCtx(dctx(), dst.data(), expect, src, n);
  if (ZSTD_isError(got))
    slice_raise(path, slice, fmt::format("{} frame: {}", part, ZSTD_getErrorName(got)));
  if (got != expect) slice_raise(path, slice, fmt::format("{} frame decoded to {} bytes, expected {}", part, got, expect));
}
} // namespace

uint32_t parse_header(const unsigned char* h, const std::string& path) {
  if (std::memcmp(h, kMagic, sizeof kMagic) != 0) raise(path, "not a dlk shard (bad magic)");
  uint16_t major = get_u16(h + 8), minor = get_u16(h + 10);
  if (major != kVersionMajor)
    raise(path, fmt::format("shard format version {}.{} is not supported (this dlk reads {}.x)", major,
                           minor, kVersionMajor));
  uint32_t len = get_u32(h + 16);
  if (len == 0 || len > kMaxMetaBytes) raise(path, fmt::format("corrupt header: metadata length {}", len));
  return len;
}

ShardMeta parse_metadata(const unsigned char* h, const std::string& meta, const std::string& path) {
  uint32_t crc = crc32(h, 20);
  crc = crc32(meta.data(), meta.size(), crc);
  if (kVerifyCrc && crc != get_u32(h + 20)) raise(path, "header or metadata checksum mismatch (corrupt header)");
  try {
    return ShardMeta::from_json(json::Value::parse(meta));
  } catch (const Error& e) {
    raise(path, e.what());
  }
}

RecordHeader parse_record_header(const unsigned char* p, const ShardMeta& m, int64_t expected,
                                 const std::string& path) {
  if (!has_tag(p, kRecordTag)) slice_raise(path, expected, "bad record tag (corrupt or misplaced record)");
  if (kVerifyCrc && crc32(p, 20) != get_u32(p + 20)) slice_raise(path, expected, "record header checksum mismatch");
  RecordHeader rh;
  rh.slice = get_u32(p + 4);
  rh.image_bytes = get_u32(p + 8);
  rh.label_bytes = get_u32(p + 12);
  rh.payload_crc = get_u32(p + 16);
  if (int64_t(rh.slice) != expected)
    slice_raise(path, expected, fmt::format("record says it is slice {}", rh.slice));
  if (m.has_label != (rh.label_bytes > 0))
    slice_raise(path, expected, m.has_label ? "label missing" : "unexpected label in an unlabelled shard");
  const uint64_t raw = uint64_t(m.channel_count()) * m.slice_pixels() * (m.dtype == ImageDType::Float16 ? 2 : 4);
  if ((rh.image_bytes == 0) != (m.channel_count() == 0)) // label-only shards have no image frame
    slice_raise(path, expected, m.channel_count() ? "image missing" : "unexpected image in a label-only shard");
  if (rh.image_bytes > ZSTD_compressBound(raw) ||
      rh.label_bytes > ZSTD_compressBound(m.slice_pixels()))
    slice_raise(path, expected, "record sizes out of range");
  return rh;
}

void decode_record(const ShardMeta& m, const RecordHeader& rh, const unsigned char* payload, Slice& out,
                   bool want_image, bool want_label, const std::string& path) {
  const int64_t s = rh.slice;
  if (kVerifyCrc && crc32(payload, rh.payload()) != rh.payload_crc) slice_raise(path, s, "payload checksum mismatch");
  out.index = s;
  thread_local std::vector<unsigned char> buf;
  if (want_image && m.channel_count() > 0) {
    const size_t n = size_t(m.channel_count()) * m.slice_pixels();
    const size_t width = m.dtype == ImageDType::Float16 ? 2 : 4;
    unzstd(payload, rh.image_bytes, buf, n * width, "image", path, s);
    // Undo the byte shuffle: plane b holds byte b of every element.
    thread_local std::vector<unsigned char> plain;
    const unsigned char* bytes = buf.data();
    if (m.byte_shuffle) {
      plain.resize(buf.size());
      for (size_t b = 0; b < width; ++b)
        for (size_t i = 0; i < n; ++i) plain[i * width + b] = buf[b * n + i];
      bytes = plain.data();
    }
    out.image.resize(n);
    if (width == 2) {
      thread_local std::vector<uint16_t> halves;
      halves.resize(n);
      std::memcpy(halves.data(), bytes, 2 * n); // little-endian host: the bytes are the values
      halves_to_floats(halves.data(), out.image.data(), n);
    } else {
      for (size_t i = 0; i < n; ++i) {
        uint32_t u = get_u32(bytes + 4 * i);
        std::memcpy(&out.image[i], &u, 4);
      }
    }
  } else {
    out.image.clear();
  }
  if (want_label && m.has_label) {
    std::vector<unsigned char> lab;
    unzstd(payload + rh.image_bytes, rh.label_bytes, lab, m.slice_pixels(), "label", path, s);
    // A label is a class id: one past the classes would index past every per-class table.
    const size_t n_classes = m.classes.size();
    for (size_t i = 0; i < lab.size(); ++i)
      if (lab[i] >= n_classes)
        slice_raise(path, s, fmt::format("label {} at row {}, column {} is not a class id (the shard has {} classes: 0..{})",
                                         lab[i], i / size_t(m.width), i % size_t(m.width), n_classes, n_classes - 1));
    out.label.assign(lab.begin(), lab.end());
  } else {
    out.label.clear();
  }
}

Trailer parse_trailer(const unsigned char* p, const std::string& path) {
  if (!has_tag(p, kTrailerTag)) raise(path, "missing trailer (truncated or corrupt shard)");
  if (kVerifyCrc && crc32(p, 28) != get_u32(p + 28)) raise(path, "trailer checksum mismatch");
  Trailer t;
  t.slices = get_u32(p + 4);
  t.index_offset = get_u64(p + 8);
  t.total_bytes = get_u64(p + 16);
  return t;
}

std::vector<uint64_t> parse_index(const std::vector<unsigned char>& b, int64_t n, const std::string& path) {
  if (b.size() != kIndexFixedSize + 8 * size_t(n) || !has_tag(b.data(), kIndexTag))
    raise(path, "missing or misplaced slice index");
  if (kVerifyCrc && crc32(b.data(), b.size() - 4) != get_u32(b.data() + b.size() - 4)) raise(path, "slice index checksum mismatch");
  if (int64_t(get_u32(b.data() + 4)) != n)
    raise(path, fmt::format("slice index lists {} slices, metadata says {}", get_u32(b.data() + 4), n));
  std::vector<uint64_t> off(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) off[size_t(i)] = get_u64(b.data() + 8 + 8 * size_t(i));
  return off;
}

} // namespace dlk::shard_format
