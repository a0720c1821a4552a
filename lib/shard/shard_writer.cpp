#include "dlk/shard/shard_writer.h"
#include "dlk/core/crc32.h"
#include "dlk/core/error.h"
#include "dlk/core/half.h"
#include "shard_format.h"

#include <fmt/format.h>
#include <zstd.h>

namespace dlk {

using namespace shard_format;

struct ShardWriter::Impl {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  std::vector<unsigned char> raw, shuffled, image_frame, label_frame;
  ~Impl() { ZSTD_freeCCtx(cctx); }

  void compress(const void* src, size_t n, std::vector<unsigned char>& dst, const std::string& path) {
    dst.resize(ZSTD_compressBound(n));
    size_t r = ZSTD_compress2(cctx, dst.data(), dst.size(), src, n);
    if (ZSTD_isError(r)) fail(path, std::string("zstd: ") + ZSTD_getErrorName(r));
    dst.resize(r);
  }
};

ShardWriter::ShardWriter(OutputFile& out, ShardMeta meta, int zstd_level)
    : impl_(std::make_unique<Impl>()), out_(out), meta_(std::move(meta)) {
  // Every frame carries its size and a checksum; single-threaded, so output is reproducible.
  ZSTD_CCtx_setParameter(impl_->cctx, ZSTD_c_compressionLevel, zstd_level);
  ZSTD_CCtx_setParameter(impl_->cctx, ZSTD_c_checksumFlag, 1);
  ZSTD_CCtx_setParameter(impl_->cctx, ZSTD_c_contentSizeFlag, 1);

  // Round-trip the metadata through the validating parser: never write what we cannot read.
  const std::string meta_json = meta_.to_json().dump();
  ShardMeta::from_json(json::Value::parse(meta_json));
  if (meta_json.size() > kMaxMetaBytes) fail(out.path(), "metadata too large");

  unsigned char h[kHeaderSize] = {};
  std::memcpy(h, kMagic, sizeof kMagic);
  put_u16(h + 8, kVersionMajor);
  put_u16(h + 10, kVersionMinor);
  put_u32(h + 12, 0); // flags, reserved
  put_u32(h + 16, uint32_t(meta_json.size()));
  put_u32(h + 20, crc32(meta_json.data(), meta_json.size(), crc32(h, 20)));
  put(h, sizeof h);
  put(meta_json.data(), meta_json.size());
}

ShardWriter::~ShardWriter() = default;

void ShardWriter::put(const void* p, size_t n) {
  out_.write(p, n);
  offset_ += n;
}

void ShardWriter::add(const float* image, const uint8_t* label) {
  const int64_t s = int64_t(record_offsets_.size());
  if (s >= meta_.n_slices) fail(out_.path(), fmt::format("more slices than the {} announced", meta_.n_slices));
  if (meta_.has_label != (label != nullptr))
    fail(out_.path(), fmt::format("slice {}: label {}", s, meta_.has_label ? "missing" : "given for an unlabelled shard"));

  Impl& im = *impl_;
  const size_t n = size_t(meta_.channel_count()) * meta_.slice_pixels();
  if ((image != nullptr) != (n > 0)) fail(out_.path(), fmt::format("slice {}: image {}", s, n ? "missing" : "given for a label-only shard"));
  const size_t width = meta_.dtype == ImageDType::Float16 ? 2 : 4;
  im.raw.resize(n * width);
  if (width == 2) {
    floats_to_halves(image, reinterpret_cast<uint16_t*>(im.raw.data()), n); // little-endian host
  } else {
    for (size_t i = 0; i < n; ++i) {
      uint32_t u;
      std::memcpy(&u, &image[i], 4);
      put_u32(im.raw.data() + 4 * i, u);
    }
  }
  const unsigned char* bytes = im.raw.data();
  if (meta_.byte_shuffle) { // plane b = byte b of every element: exponents compress together
    im.shuffled.resize(im.raw.size());
    for (size_t i = 0; i < n; ++i)
      for (size_t b = 0; b < width; ++b) im.shuffled[b * n + i] = im.raw[i * width + b];
    bytes = im.shuffled.data();
  }
  im.image_frame.clear();
  if (n > 0) im.compress(bytes, n * width, im.image_frame, out_.path());
  im.label_frame.clear();
  if (label) im.compress(label, meta_.slice_pixels(), im.label_frame, out_.path());

  uint32_t crc = crc32(im.image_frame.data(), im.image_frame.size());
  crc = crc32(im.label_frame.data(), im.label_frame.size(), crc);
  unsigned char rh[kRecordHeaderSize];
  std::memcpy(rh, kRecordTag, 4);
  put_u32(rh + 4, uint32_t(s));
  put_u32(rh + 8, uint32_t(im.image_frame.size()));
  put_u32(rh + 12, uint32_t(im.label_frame.size()));
  put_u32(rh + 16, crc);
  put_u32(rh + 20, crc32(rh, 20));

  record_offsets_.push_back(offset_);
  put(rh, sizeof rh);
  put(im.image_frame.data(), im.image_frame.size());
  put(im.label_frame.data(), im.label_frame.size());
}

void ShardWriter::finish() {
  if (int64_t(record_offsets_.size()) != meta_.n_slices)
    fail(out_.path(), fmt::format("{} slices written, {} announced", record_offsets_.size(), meta_.n_slices));
  const uint64_t index_offset = offset_;
  std::vector<unsigned char> idx(kIndexFixedSize + 8 * record_offsets_.size());
  std::memcpy(idx.data(), kIndexTag, 4);
  put_u32(idx.data() + 4, uint32_t(record_offsets_.size()));
  for (size_t i = 0; i < record_offsets_.size(); ++i) put_u64(idx.data() + 8 + 8 * i, record_offsets_[i]);
  put_u32(idx.data() + idx.size() - 4, crc32(idx.data(), idx.size() - 4));
  put(idx.data(), idx.size());

  unsigned char t[kTrailerSize] = {};
  std::memcpy(t, kTrailerTag, 4);
  put_u32(t + 4, uint32_t(record_offsets_.size()));
  put_u64(t + 8, index_offset);
  put_u64(t + 16, offset_ + kTrailerSize);
  put_u32(t + 24, 0);
  put_u32(t + 28, crc32(t, 28));
  put(t, sizeof t);
}

} // namespace dlk
