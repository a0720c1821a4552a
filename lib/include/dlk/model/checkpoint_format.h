// The checkpoint container without LibTorch: writes it, and reads and validates the header, the metadata,
// the trailer and the whole tensor table (see dlk/model/checkpoint.h for the layout) before anything
// is allocated for a tensor, so that a crafted file (a CRC-valid table saying [2^40] floats,
// offsets past the end, overlapping tensors) is refused with an error instead of a huge
// allocation. load_checkpoint allocates only what a validated table says; the fuzzer and the
// unit tests use this part alone.
#pragma once
#include "dlk/core/json.h"
#include "dlk/core/random_access_file.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dlk {

namespace checkpoint_format {
inline constexpr unsigned char kMagic[8] = {0x89, 'D', 'L', 'K', 'C', '\r', '\n', 0x1A};
inline constexpr size_t kHeaderBytes = 24, kTrailerBytes = 16;
inline constexpr uint64_t kAlign = 64;                  // tensor offsets, and the data start
inline constexpr uint32_t kMaxMetadataBytes = 64u << 20; // the metadata JSON
inline constexpr size_t kMaxTensors = 1u << 16;         // entries in the "tensors" table
inline constexpr size_t kMaxRank = 16;                  // dimensions of one tensor

inline uint64_t align(uint64_t v) { return (v + kAlign - 1) / kAlign * kAlign; }
// Bytes per element of a dtype name ("float32", "int64", ...); 0 for a name the format lacks.
size_t dtype_size(const std::string& dtype);
} // namespace checkpoint_format

// One entry of the "tensors" table, validated.
struct CheckpointTensorInfo {
  std::string name, dtype; // dtype: one that checkpoint_format::dtype_size knows
  std::vector<int64_t> shape;
  uint64_t numel = 0;
  uint64_t offset = 0; // absolute file offset of the first byte
  uint64_t bytes = 0;  // numel * element size, inside the data region
  uint32_t crc32 = 0;
};

struct CheckpointIndex {
  json::Value meta;                          // the whole metadata object, "tensors" included
  std::vector<CheckpointTensorInfo> tensors; // in the table's order
};

// Reads the header, metadata and trailer of an open checkpoint and validates the tensor
// table: known dtypes, dimensions >= 0 and at most kMaxRank of them, bytes == numel * element
// size without overflow, 64-byte aligned offsets, every tensor inside the data region, no two
// overlapping, no name twice, at most kMaxTensors. Throws dlk::Error naming the file (and the
// tensor, where one is at fault). Allocates nothing larger than the file's own metadata.
CheckpointIndex read_checkpoint_index(const RandomAccessFile& f);

// One tensor to write: its elements, contiguous, little-endian, `bytes` of them at `data`.
struct CheckpointTensorBytes {
  std::string name, dtype;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  uint64_t bytes = 0;
};

// Writes a checkpoint atomically: `meta` (an object, or null) gains "format" and the "tensors"
// table. Refuses (dlk::Error naming the file) what read_checkpoint_index would refuse.
void write_checkpoint(const std::string& path, json::Value meta, const std::vector<CheckpointTensorBytes>& tensors);

// Reads one tensor's bytes (t.bytes of them) into dst and verifies its CRC-32.
void read_checkpoint_tensor(const RandomAccessFile& f, const CheckpointTensorInfo& t, void* dst);

} // namespace dlk
