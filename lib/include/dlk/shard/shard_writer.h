// Writes one shard (man/man5/dlk-shard.5).
#pragma once
#include "dlk/core/output_file.h"
#include "dlk/shard/shard_meta.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace dlk {

// Writes one shard: header and metadata at construction, add() each slice in order,
// finish() writes the index and trailer. Output is byte-identical for identical input.
class ShardWriter {
public:
  ShardWriter(OutputFile& out, ShardMeta meta, int zstd_level = 3);
  ~ShardWriter();
  void add(const float* image, const uint8_t* label); // label may be null when unlabelled
  void finish();

private:
  void put(const void* p, size_t n);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  OutputFile& out_;
  ShardMeta meta_;
  uint64_t offset_ = 0;
  std::vector<uint64_t> record_offsets_;
};

} // namespace dlk
