// Byte-level constants and codecs of the dlk shard format, version 1.0. Private to lib/shard;
// man/man5/dlk-shard.5 is the specification this implements. All integers little-endian.
#pragma once
#include "dlk/shard/shard_meta.h"
#include "dlk/shard/shard_reader.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace dlk::shard_format {

// Image bytes are copied to and from memory as they are: the host must be little-endian.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "dlk shards assume a little-endian host");

constexpr unsigned char kMagic[8] = {0x89, 'D', 'L', 'K', 'S', '\r', '\n', 0x1A};
constexpr uint16_t kVersionMajor = 1;
constexpr uint16_t kVersionMinor = 0;

constexpr size_t kHeaderSize = 24;       // magic, version, flags, metadata length, crc
constexpr size_t kRecordHeaderSize = 24; // tag, slice, image bytes, label bytes, payload crc, crc
constexpr size_t kIndexFixedSize = 12;   // tag, count ... crc (+ 8 bytes per slice)
constexpr size_t kTrailerSize = 32;      // tag, count, index offset, total bytes, reserved, crc
constexpr char kRecordTag[5] = "DLKR";
constexpr char kIndexTag[5] = "DLKI";
constexpr char kTrailerTag[5] = "DLKE";

// Limits a reader enforces before allocating anything (a corrupt length never allocates GiB).
constexpr uint32_t kMaxMetaBytes = 16u << 20;
constexpr int64_t kMaxSlices = 1 << 20;
constexpr int64_t kMaxChannels = 64;
constexpr int64_t kMaxSliceSide = 1 << 13;
constexpr uint64_t kMaxSliceBytes = 1ull << 28; // channels x rows x columns x 4: what a reader holds per slice
constexpr int64_t kMaxVoxels = kMaxVolumeVoxels;  // per case: what dlk-infer and dlk-score hold per channel

inline void put_u16(unsigned char* p, uint16_t v) { p[0] = uint8_t(v); p[1] = uint8_t(v >> 8); }
inline void put_u32(unsigned char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (8 * i));
}
inline void put_u64(unsigned char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = uint8_t(v >> (8 * i));
}
inline uint16_t get_u16(const unsigned char* p) { return uint16_t(p[0] | p[1] << 8); }
inline uint32_t get_u32(const unsigned char* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
inline uint64_t get_u64(const unsigned char* p) { return uint64_t(get_u32(p)) | uint64_t(get_u32(p + 4)) << 32; }
inline bool has_tag(const unsigned char* p, const char* tag) { return std::memcmp(p, tag, 4) == 0; }

// Error context: "'file'" or "'file': case X". The functions below take it as `path`
// and throw dlk::Error("<where>: <what>").
std::string where(const std::string& path, const std::string& case_id = {});
[[noreturn]] void raise(const std::string& where, const std::string& what);

// Parses the 24-byte file header; returns the metadata length. Checks magic and version.
uint32_t parse_header(const unsigned char* h, const std::string& path);
// Checks the header crc (over header bytes 0..19 and the metadata) and parses the metadata.
ShardMeta parse_metadata(const unsigned char* h, const std::string& meta, const std::string& path);

struct RecordHeader {
  uint32_t slice = 0, image_bytes = 0, label_bytes = 0, payload_crc = 0;
  size_t payload() const { return size_t(image_bytes) + label_bytes; }
};
RecordHeader parse_record_header(const unsigned char* p, const ShardMeta& m, int64_t expected_slice,
                                 const std::string& path);
// Verifies the payload crc and decodes the wanted parts into out.
void decode_record(const ShardMeta& m, const RecordHeader& rh, const unsigned char* payload,
                   Slice& out, bool want_image, bool want_label, const std::string& path);

struct Trailer {
  uint32_t slices = 0;
  uint64_t index_offset = 0, total_bytes = 0;
};
Trailer parse_trailer(const unsigned char* p, const std::string& path);
// Checks an index block (tag, count, crc) of `n` slices; returns the record offsets.
std::vector<uint64_t> parse_index(const std::vector<unsigned char>& block, int64_t n, const std::string& path);

} // namespace dlk::shard_format
