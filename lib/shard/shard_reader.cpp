#include "dlk/core/error.h"
#include "shard_format.h"

#include <fmt/format.h>

#include <algorithm>

namespace dlk {

using namespace shard_format;

// ---------------------------------------------------------------- ShardFile

ShardFile::ShardFile(const std::string& path, uint64_t base, uint64_t length)
    : path_(path), file_(std::make_shared<RandomAccessFile>(path)), base_(base), length_(length) {
  if (base_ > file_->size()) raise(where(path_), "shard offset beyond the end of the file");
  if (length_ == 0) length_ = file_->size() - base_;
  load();
}

ShardFile::ShardFile(std::shared_ptr<RandomAccessFile> f, uint64_t base, uint64_t length)
    : path_(f->path()), file_(std::move(f)), base_(base), length_(length) {
  load();
}

ShardFile::~ShardFile() = default;

void ShardFile::load() {
  const std::string w0 = where(path_);
  if (length_ < kHeaderSize + kTrailerSize) raise(w0, "truncated: too short to be a shard");
  unsigned char h[kHeaderSize];
  file_->read_at(base_, h, sizeof h, "shard header");
  const uint32_t meta_len = parse_header(h, w0);
  if (kHeaderSize + uint64_t(meta_len) + kTrailerSize > length_) // before allocating it
    raise(w0, fmt::format("truncated: metadata of {} bytes in a shard of {}", meta_len, length_));
  std::string meta(meta_len, '\0');
  file_->read_at(base_ + kHeaderSize, meta.data(), meta_len, "shard metadata");
  meta_ = parse_metadata(h, meta, w0);
  const std::string w = where(path_, meta_.case_id);

  unsigned char t[kTrailerSize];
  file_->read_at(base_ + length_ - kTrailerSize, t, sizeof t, "shard trailer");
  const Trailer tr = parse_trailer(t, w);
  if (tr.total_bytes != length_)
    raise(w, fmt::format("truncated or extended: trailer says {} bytes, found {}", tr.total_bytes, length_));
  if (int64_t(tr.slices) != meta_.n_slices)
    raise(w, fmt::format("trailer lists {} slices, metadata says {}", tr.slices, meta_.n_slices));
  const uint64_t index_size = kIndexFixedSize + 8 * uint64_t(meta_.n_slices);
  if (tr.index_offset + index_size + kTrailerSize != length_) raise(w, "slice index is not where the trailer says");
  std::vector<unsigned char> idx(index_size);
  file_->read_at(base_ + tr.index_offset, idx.data(), idx.size(), "slice index");
  offsets_ = parse_index(idx, meta_.n_slices, w);
  uint64_t expect = kHeaderSize + meta_len;
  for (size_t i = 0; i < offsets_.size(); ++i) {
    if (offsets_[i] < expect || offsets_[i] + kRecordHeaderSize > tr.index_offset)
      raise(w, fmt::format("slice index: slice {} at an impossible offset {}", i, offsets_[i]));
    expect = offsets_[i] + kRecordHeaderSize;
  }
  if (!offsets_.empty() && offsets_[0] != kHeaderSize + meta_len) raise(w, "slice index: slice 0 misplaced");
  offsets_.push_back(tr.index_offset); // sentinel: the end of the last record
}

Slice ShardFile::read_slice(int64_t i, bool want_image, bool want_label) const {
  const std::string w = where(path_, meta_.case_id);
  if (i < 0 || i >= meta_.n_slices)
    raise(w, fmt::format("slice {} out of range (the case has {})", i, meta_.n_slices));
  const uint64_t off = offsets_[size_t(i)], end = offsets_[size_t(i) + 1];
  unsigned char rh[kRecordHeaderSize];
  file_->read_at(base_ + off, rh, sizeof rh, fmt::format("slice {} record", i));
  const RecordHeader r = parse_record_header(rh, meta_, i, w);
  if (off + kRecordHeaderSize + r.payload() != end)
    raise(w, fmt::format("slice {}: record size disagrees with the slice index", i));
  std::vector<unsigned char> payload(r.payload());
  file_->read_at(base_ + off + kRecordHeaderSize, payload.data(), payload.size(), fmt::format("slice {} payload", i));
  Slice s;
  decode_record(meta_, r, payload.data(), s, want_image, want_label, w);
  return s;
}

std::vector<std::unique_ptr<ShardFile>> ShardFile::open_all(const std::string& path) {
  auto f = std::make_shared<RandomAccessFile>(path);
  std::vector<std::pair<uint64_t, uint64_t>> spans;
  uint64_t end = f->size();
  if (end == 0) raise(where(path), "empty file");
  while (end > 0) {
    if (end < kHeaderSize + kTrailerSize) raise(where(path), fmt::format("truncated: {} stray bytes at the start", end));
    unsigned char t[kTrailerSize];
    f->read_at(end - kTrailerSize, t, sizeof t, "shard trailer");
    const Trailer tr = parse_trailer(t, where(path));
    if (tr.total_bytes > end || tr.total_bytes < kHeaderSize + kTrailerSize)
      raise(where(path), fmt::format("trailer ending at byte {} gives an impossible shard length {}", end, tr.total_bytes));
    spans.emplace_back(end - tr.total_bytes, tr.total_bytes);
    end -= tr.total_bytes;
  }
  std::reverse(spans.begin(), spans.end());
  std::vector<std::unique_ptr<ShardFile>> out;
  std::set<std::string> ids;
  for (auto& [base, len] : spans) {
    out.emplace_back(new ShardFile(f, base, len));
    if (!ids.insert(out.back()->meta().case_id).second)
      raise(where(path), fmt::format("case {} appears twice in the file (shard {})", out.back()->meta().case_id, out.size()));
  }
  return out;
}

bool is_shard_file(const std::string& path) {
  InputStream in(path);
  unsigned char m[sizeof kMagic];
  return in.read(m, sizeof m) == sizeof m && std::memcmp(m, kMagic, sizeof m) == 0;
}

// ---------------------------------------------------------------- ShardStreamReader

ShardStreamReader::ShardStreamReader(InputStream& in) : in_(in) {}
ShardStreamReader::~ShardStreamReader() = default;

bool ShardStreamReader::next_shard() {
  if (in_shard_) skip_rest();
  if (in_.at_eof()) {
    if (shards_ == 0) raise(where(in_.path()), "empty input: no shard");
    return false;
  }
  const std::string w0 = where(in_.path());
  shard_start_ = in_.offset();
  unsigned char h[kHeaderSize];
  in_.read_exact(h, sizeof h, "shard header");
  const uint32_t meta_len = parse_header(h, w0);
  std::string meta(meta_len, '\0');
  in_.read_exact(meta.data(), meta_len, "shard metadata");
  meta_ = parse_metadata(h, meta, w0);
  if (!case_ids_.insert(meta_.case_id).second)
    raise(w0, fmt::format("case {} appears twice in the stream (shard {})", meta_.case_id, shards_ + 1));
  offsets_.clear();
  next_index_ = 0;
  in_shard_ = true;
  ++shards_;
  return true;
}

bool ShardStreamReader::next_slice(Slice& out, bool want_image, bool want_label) {
  if (!in_shard_) return false;
  if (next_index_ == meta_.n_slices) {
    finish_shard();
    return false;
  }
  const std::string w = where(in_.path(), meta_.case_id);
  const int64_t i = next_index_;
  offsets_.push_back(in_.offset() - shard_start_);
  unsigned char rh[kRecordHeaderSize];
  in_.read_exact(rh, sizeof rh, fmt::format("case {} slice {} record", meta_.case_id, i));
  const RecordHeader r = parse_record_header(rh, meta_, i, w);
  thread_local std::vector<unsigned char> payload;
  payload.resize(r.payload());
  in_.read_exact(payload.data(), payload.size(), fmt::format("case {} slice {} payload", meta_.case_id, i));
  decode_record(meta_, r, payload.data(), out, want_image, want_label, w);
  ++next_index_;
  return true;
}

void ShardStreamReader::skip_rest() {
  Slice s;
  while (next_slice(s, false, false)) {
  }
}

void ShardStreamReader::finish_shard() {
  const std::string w = where(in_.path(), meta_.case_id);
  const uint64_t index_offset = in_.offset() - shard_start_;
  std::vector<unsigned char> idx(kIndexFixedSize + 8 * size_t(meta_.n_slices));
  in_.read_exact(idx.data(), idx.size(), fmt::format("case {} slice index", meta_.case_id));
  if (parse_index(idx, meta_.n_slices, w) != offsets_) raise(w, "slice index disagrees with the records");
  unsigned char t[kTrailerSize];
  in_.read_exact(t, sizeof t, fmt::format("case {} trailer", meta_.case_id));
  const Trailer tr = parse_trailer(t, w);
  if (tr.index_offset != index_offset || int64_t(tr.slices) != meta_.n_slices ||
      tr.total_bytes != in_.offset() - shard_start_)
    raise(w, "trailer disagrees with the shard");
  in_shard_ = false;
}

} // namespace dlk
