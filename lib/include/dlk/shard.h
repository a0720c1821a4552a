// The dlk shard: one case's slices, with its metadata, checksums and an index.
// The byte layout is specified in man/man5/dlk-shard.5; shard_format.h has its constants.
#pragma once
#include "dlk/io.h"
#include "dlk/json.h"
#include "dlk/volume.h"

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace dlk {

enum class ImageDType { Float16, Float32 };

// Case ids name output files (dlk-infer writes CASE.nii.gz), and shards come from other people:
// an id is 1..128 characters of letters, digits, '.', '_', '-' and '+', starting with a letter or
// digit, so it can never leave a directory or hide. Returns why `id` is not one, or "".
std::string case_id_problem(const std::string& id);
const char* dtype_name(ImageDType t);

struct ShardMeta {
  std::string case_id;
  std::string split;                      // train | val | test (as prepared)
  std::vector<std::string> image_sources; // one per channel, as given to dlk-prep
  std::string label_source;               // empty when unlabelled
  std::vector<std::string> channels;      // channel names
  Geometry geometry;                      // of the source volume
  std::string source_pixel_type;
  int axis = 2;                           // slicing axis: 0 = x, 1 = y, 2 = z
  int64_t n_slices = 0, height = 0, width = 0; // slice = height rows x width columns
  ImageDType dtype = ImageDType::Float16;
  bool byte_shuffle = true;               // image bytes stored as planes (better compression)
  bool has_label = false;
  json::Value normalization;              // array, one object per channel (method + parameters)
  json::Value label_map;                  // {"raw": class, ...} or null
  std::vector<std::string> classes;       // class names, index = label value
  std::vector<int64_t> label_counts;      // voxels per class over the whole case
  std::string tool;                       // "dlk-prep 0.1.0"

  int64_t channel_count() const { return int64_t(channels.size()); }
  size_t slice_pixels() const { return size_t(height * width); }

  json::Value to_json() const;
  static ShardMeta from_json(const json::Value& v); // validates; throws dlk::Error
};

// Shape of a slice for a given axis: rows and columns are the two other axes, the higher
// one as rows. Slice s of axis 2 is [y][x] at z = s, as numpy's arr[s] of an ITK array.
void slice_shape(const Geometry& g, int axis, int64_t& n_slices, int64_t& height, int64_t& width);
// Copies slice s of `vol` (x fastest) into out[height*width], rows as above.
template <class T>
void extract_slice(const T* vol, const Geometry& g, int axis, int64_t s, T* out) {
  const int64_t nx = g.size[0], ny = g.size[1], nz = g.size[2];
  if (axis == 2) {
    for (int64_t i = 0; i < nx * ny; ++i) out[i] = vol[s * nx * ny + i];
  } else if (axis == 1) {
    for (int64_t z = 0; z < nz; ++z)
      for (int64_t x = 0; x < nx; ++x) out[z * nx + x] = vol[(z * ny + s) * nx + x];
  } else {
    for (int64_t z = 0; z < nz; ++z)
      for (int64_t y = 0; y < ny; ++y) out[z * ny + y] = vol[(z * ny + y) * nx + s];
  }
}

// The inverse: puts slice s (height x width, rows as above) back into `vol`.
template <class T, class U>
void insert_slice(const T* slice, const Geometry& g, int axis, int64_t s, U* vol) {
  const int64_t nx = g.size[0], ny = g.size[1], nz = g.size[2];
  if (axis == 2) {
    for (int64_t i = 0; i < nx * ny; ++i) vol[s * nx * ny + i] = U(slice[i]);
  } else if (axis == 1) {
    for (int64_t z = 0; z < nz; ++z)
      for (int64_t x = 0; x < nx; ++x) vol[(z * ny + s) * nx + x] = U(slice[z * nx + x]);
  } else {
    for (int64_t z = 0; z < nz; ++z)
      for (int64_t y = 0; y < ny; ++y) vol[(z * ny + y) * nx + s] = U(slice[z * ny + y]);
  }
}

struct Slice {
  int64_t index = -1;
  std::vector<float> image;   // channels x height x width, float32 after decoding
  std::vector<uint8_t> label; // height x width; empty when the shard has no label
};

// Writes one shard: header and metadata at construction, add() each slice in order,
// finish() writes the index and trailer. Output is byte-identical for identical input.
class ShardWriter {
public:
  ShardWriter(OutputFile& out, ShardMeta meta, int zstd_level = 3);
  ~ShardWriter();
  void add(const float* image, const uint8_t* label); // label may be null when unlabelled
  void finish();
  uint64_t bytes() const { return offset_; }

private:
  void put(const void* p, size_t n);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  OutputFile& out_;
  ShardMeta meta_;
  uint64_t offset_ = 0;
  std::vector<uint64_t> record_offsets_;
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
