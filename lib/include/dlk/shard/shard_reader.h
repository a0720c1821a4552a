// Reads shards: one inside a file at random, or a stream of them in order, verifying as it goes.
#pragma once
#include "dlk/core/input_stream.h"
#include "dlk/core/random_access_file.h"
#include "dlk/shard/shard_meta.h"

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace dlk {

struct Slice {
  int64_t index = -1;
  std::vector<float> image;   // channels x height x width, float32 after decoding
  std::vector<uint8_t> label; // height x width; empty when the shard has no label
};


// Random access to one shard inside a file (a file may hold several shards back to back).
class ShardFile {
public:
  // The shard that starts at byte `base` of path and is `length` bytes long
  // (length 0: the rest of the file).
  explicit ShardFile(const std::string& path, uint64_t base = 0, uint64_t length = 0);
  ~ShardFile();
  const ShardMeta& meta() const { return meta_; }
  const std::string& path() const { return path_; }
  uint64_t bytes() const { return length_; }
  // Decodes slice i; want_image / want_label skip the other part.
  Slice read_slice(int64_t i, bool want_image = true, bool want_label = true) const;

  // Every shard in a file, located from its end backwards through the trailers.
  static std::vector<std::unique_ptr<ShardFile>> open_all(const std::string& path);

private:
  std::string path_;
  std::shared_ptr<RandomAccessFile> file_;
  uint64_t base_ = 0, length_ = 0;
  ShardMeta meta_;
  std::vector<uint64_t> offsets_; // record offsets relative to base_
  ShardFile(std::shared_ptr<RandomAccessFile> f, uint64_t base, uint64_t length);
  void load();
};

// Sequential reader for a stream of shards (a file, a pipe, stdin). Everything is
// verified as it goes: record checksums, slice order, the index and the trailer.
class ShardStreamReader {
public:
  explicit ShardStreamReader(InputStream& in);
  ~ShardStreamReader();
  // Starts the next shard; false at a clean end of the stream.
  bool next_shard();
  const ShardMeta& meta() const { return meta_; }
  // Reads the next slice of the current shard; false (after checking the index and
  // trailer) when the shard has no more.
  bool next_slice(Slice& out, bool want_image = true, bool want_label = true);
  // Reads and checks the rest of the current shard.
  void skip_rest();
  int64_t shards_read() const { return shards_; }

private:
  InputStream& in_;
  ShardMeta meta_;
  bool in_shard_ = false;
  uint64_t shard_start_ = 0;
  int64_t next_index_ = 0, shards_ = 0;
  std::vector<uint64_t> offsets_;
  std::set<std::string> case_ids_; // a case twice in one stream would overwrite its own output
  void finish_shard();
};

// How many shards are in a file and whether it is a stream (more than one).
bool is_shard_file(const std::string& path); // by magic

} // namespace dlk
