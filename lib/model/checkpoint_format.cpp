#include "dlk/model/checkpoint_format.h"
#include "dlk/core/crc32.h"
#include "dlk/core/error.h"
#include "dlk/core/output_file.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>
#include <set>

namespace dlk {

namespace checkpoint_format {
size_t dtype_size(const std::string& dtype) {
  struct Known {
    const char* name;
    size_t size;
  };
  static constexpr Known kKnown[] = {{"float32", 4}, {"float64", 8}, {"float16", 2}, {"bfloat16", 2},
                                     {"int64", 8},   {"int32", 4},   {"uint8", 1}};
  for (auto& k : kKnown)
    if (dtype == k.name) return k.size;
  return 0;
}
} // namespace checkpoint_format

using namespace checkpoint_format;

namespace {

void put_le(unsigned char* p, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) p[i] = uint8_t(v >> (8 * i));
}
uint32_t get32(const unsigned char* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint64_t get64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t(p[i]) << (8 * i);
  return v;
}

// One table entry, checked against the data region [start, start + region) of the file.
// JSON type errors come back as dlk::Error without the path; the caller adds it.
CheckpointTensorInfo parse_entry(const json::Value& e, const std::string& path, uint64_t start, uint64_t region) {
  CheckpointTensorInfo t;
  t.name = e.at("name").as_string("name");
  auto bad = [&](const std::string& what) { fail(path, fmt::format("tensor {}: {}", t.name, what)); };
  t.dtype = e.at("dtype").as_string("dtype");
  const size_t esize = dtype_size(t.dtype);
  if (esize == 0) bad(fmt::format("unknown tensor type '{}'", t.dtype));

  const json::Array& dims = e.at("shape").as_array("shape");
  if (dims.size() > kMaxRank) bad(fmt::format("{} dimensions (at most {})", dims.size(), kMaxRank));
  for (auto& d : dims) {
    t.shape.push_back(d.as_int("shape")); // integral, |d| <= 2^53
    if (t.shape.back() < 0) bad(fmt::format("negative dimension in shape [{}]", fmt::join(t.shape, ", ")));
  }
  // numel * esize without overflow: a zero dimension makes it 0 whatever the others say, and
  // otherwise no product may pass the data region (which bounds every valid tensor).
  const bool empty = std::find(t.shape.begin(), t.shape.end(), 0) != t.shape.end();
  t.numel = empty ? 0 : 1;
  if (!empty)
    for (int64_t d : t.shape) {
      if (t.numel > region / esize / uint64_t(d))
        bad(fmt::format("shape [{}] of {} needs more bytes than the file holds", fmt::join(t.shape, ", "), t.dtype));
      t.numel *= uint64_t(d);
    }

  const int64_t bytes = e.at("bytes").as_int("bytes");
  if (bytes < 0 || uint64_t(bytes) != t.numel * esize)
    bad(fmt::format("{} bytes disagree with its shape [{}] of {} ({} bytes)", bytes, fmt::join(t.shape, ", "), t.dtype,
                    t.numel * esize));
  t.bytes = uint64_t(bytes);
  const int64_t offset = e.at("offset").as_int("offset");
  if (offset < 0) bad(fmt::format("negative offset {}", offset));
  if (uint64_t(offset) % kAlign != 0) bad(fmt::format("offset {} is not a multiple of {} from the data start", offset, kAlign));
  if (uint64_t(offset) > region || t.bytes > region - uint64_t(offset))
    bad(fmt::format("bytes {}..{} lie beyond the data region ({} bytes; truncated or corrupt checkpoint)", offset,
                    uint64_t(offset) + t.bytes, region));
  t.offset = start + uint64_t(offset);
  const int64_t crc = e.at("crc32").as_int("crc32");
  if (crc < 0 || crc > int64_t(UINT32_MAX)) bad(fmt::format("crc32 {} is not a 32-bit checksum", crc));
  t.crc32 = uint32_t(crc);
  return t;
}

} // namespace

void write_checkpoint(const std::string& path, json::Value meta, const std::vector<CheckpointTensorBytes>& tensors) {
  if (tensors.size() > kMaxTensors)
    fail(path, fmt::format("{} tensors are too many for a checkpoint (at most {})", tensors.size(), kMaxTensors));
  json::Array table;
  uint64_t offset = 0; // from the data start; each tensor begins 64-byte aligned
  for (auto& t : tensors) {
    const size_t esize = dtype_size(t.dtype);
    uint64_t numel = 1;
    for (int64_t d : t.shape) numel *= uint64_t(std::max<int64_t>(d, 0));
    if (esize == 0 || t.shape.size() > kMaxRank || numel * esize != t.bytes)
      fail(path, fmt::format("tensor {}: cannot write {} [{}] as {} bytes", t.name, t.dtype, fmt::join(t.shape, ", "), t.bytes));
    json::Value e;
    e.set("name", t.name);
    e.set("dtype", t.dtype);
    e.set("shape", t.shape);
    e.set("offset", offset);
    e.set("bytes", t.bytes);
    e.set("crc32", int64_t(crc32(t.data, size_t(t.bytes))));
    table.push_back(std::move(e));
    offset = align(offset + t.bytes);
  }
  if (meta.is_null()) meta = json::Value(json::Object{});
  meta.set("format", "dlk-checkpoint");
  meta.set("tensors", json::Value(std::move(table)));
  const std::string m = meta.dump();
  if (m.size() > kMaxMetadataBytes)
    fail(path, fmt::format("{} bytes of checkpoint metadata are too many (at most {})", m.size(), kMaxMetadataBytes));

  unsigned char h[kHeaderBytes] = {};
  std::memcpy(h, kMagic, sizeof kMagic);
  put_le(h + 8, 1, 2);  // major
  put_le(h + 10, 0, 2); // minor
  put_le(h + 16, m.size(), 4);
  put_le(h + 20, crc32(m.data(), m.size(), crc32(h, 20)), 4);
  OutputFile out(path);
  out.write(h, kHeaderBytes);
  out.write(m);
  const unsigned char pad[kAlign] = {};
  const uint64_t start = align(kHeaderBytes + m.size());
  out.write(pad, size_t(start - kHeaderBytes - m.size()));
  uint64_t at = 0;
  for (auto& t : tensors) {
    out.write(t.data, size_t(t.bytes));
    out.write(pad, size_t(align(at + t.bytes) - at - t.bytes));
    at = align(at + t.bytes);
  }
  unsigned char tr[kTrailerBytes] = {'D', 'L', 'K', 'Z'};
  put_le(tr + 8, start + at + kTrailerBytes, 8);
  out.write(tr, kTrailerBytes);
  out.commit();
}

CheckpointIndex read_checkpoint_index(const RandomAccessFile& f) {
  const std::string& path = f.path();
  unsigned char h[kHeaderBytes];
  f.read_at(0, h, kHeaderBytes, "checkpoint header");
  if (std::memcmp(h, kMagic, sizeof kMagic) != 0) fail(path, "not a dlk checkpoint (bad magic)");
  if (h[8] != 1 || h[9] != 0) fail(path, fmt::format("checkpoint format version {} is not supported", h[8] | h[9] << 8));
  // The metadata's length is checked against the file before its buffer is allocated.
  const uint32_t mlen = get32(h + 16);
  if (mlen == 0 || mlen > kMaxMetadataBytes) fail(path, fmt::format("corrupt checkpoint header (metadata length {})", mlen));
  if (f.size() < kHeaderBytes + kTrailerBytes || mlen > f.size() - kHeaderBytes - kTrailerBytes)
    fail(path, fmt::format("truncated checkpoint ({} bytes, its header announces {} bytes of metadata)", f.size(), mlen));
  std::string m(mlen, '\0');
  f.read_at(kHeaderBytes, m.data(), mlen, "checkpoint metadata");
  if (crc32(m.data(), m.size(), crc32(h, 20)) != get32(h + 20)) fail(path, "checkpoint header or metadata checksum mismatch");
  unsigned char t[kTrailerBytes];
  f.read_at(f.size() - kTrailerBytes, t, kTrailerBytes, "checkpoint trailer");
  if (std::memcmp(t, "DLKZ", 4) != 0 || get64(t + 8) != f.size())
    fail(path, fmt::format("truncated or damaged checkpoint ({} bytes, its trailer is missing or says otherwise)", f.size()));
  // Tensor data lies between the aligned end of the metadata and the trailer.
  const uint64_t start = align(kHeaderBytes + mlen), end = f.size() - kTrailerBytes;
  if (start > end) fail(path, fmt::format("truncated checkpoint ({} bytes, its data would start at {})", f.size(), start));

  CheckpointIndex ix;
  const json::Array* table = nullptr;
  try {
    ix.meta = json::Value::parse(m);
    table = &ix.meta.at("tensors").as_array("tensors");
  } catch (const Error& e) {
    fail_naming(path, e, "checkpoint metadata: ");
  }
  if (table->size() > kMaxTensors)
    fail(path, fmt::format("checkpoint metadata: {} tensors (at most {})", table->size(), kMaxTensors));
  std::set<std::string> names;
  for (size_t i = 0; i < table->size(); ++i) {
    try {
      ix.tensors.push_back(parse_entry((*table)[i], path, start, end - start));
    } catch (const Error& e) { // a JSON type error, or ours (which names the file already)
      const json::Value* name = (*table)[i].find("name");
      const std::string which = name && name->is_string() ? name->as_string() : fmt::format("#{}", i);
      fail_naming(path, e, fmt::format("checkpoint metadata: tensor {}: ", which));
    }
    if (!names.insert(ix.tensors.back().name).second)
      fail(path, fmt::format("tensor {}: listed twice in the checkpoint metadata", ix.tensors.back().name));
  }

  // No two tensors share a byte: by offset (empty ones first), each starts at or after the
  // end of every one before it.
  std::vector<const CheckpointTensorInfo*> by_offset;
  for (auto& x : ix.tensors) by_offset.push_back(&x);
  std::sort(by_offset.begin(), by_offset.end(), [](auto* a, auto* b) {
    return a->offset != b->offset ? a->offset < b->offset : a->bytes < b->bytes;
  });
  const CheckpointTensorInfo* last = nullptr; // the one reaching furthest so far
  for (auto* x : by_offset) {
    if (last && x->bytes > 0 && x->offset < last->offset + last->bytes)
      fail(path, fmt::format("tensor {}: overlaps tensor {} (corrupt checkpoint)", x->name, last->name));
    if (!last || x->offset + x->bytes > last->offset + last->bytes) last = x;
  }
  return ix;
}

void read_checkpoint_tensor(const RandomAccessFile& f, const CheckpointTensorInfo& t, void* dst) {
  f.read_at(t.offset, dst, size_t(t.bytes), "tensor " + t.name);
  if (crc32(dst, size_t(t.bytes)) != t.crc32)
    fail(f.path(), fmt::format("tensor {}: checksum mismatch (corrupt checkpoint)", t.name));
}

} // namespace dlk
