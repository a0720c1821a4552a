// A 3-D volume with its physical geometry, as ITK describes it: index (x, y, z) with x
// fastest in memory; spacing and origin in mm, LPS; direction row-major 3x3 (columns are
// the axis directions). 2-D inputs become volumes with one slice along z.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dlk {

// The most voxels a volume (its first three dimensions) or a shard's case may hold: 2^30, checked
// from headers before anything of that size is read (dlk-shard(5), "Limits").
constexpr int64_t kMaxVolumeVoxels = int64_t(1) << 30;

struct Geometry {
  std::array<int64_t, 3> size{{0, 0, 0}};
  std::array<double, 3> spacing{{1, 1, 1}};
  std::array<double, 3> origin{{0, 0, 0}};
  std::array<double, 9> direction{{1, 0, 0, 0, 1, 0, 0, 0, 1}};

  int64_t voxels() const { return size[0] * size[1] * size[2]; }
  bool operator==(const Geometry& o) const {
    return size == o.size && spacing == o.spacing && origin == o.origin && direction == o.direction;
  }
};

struct Volume {
  std::string path;       // where it was read from (for messages)
  std::string pixel_type; // of the file: "int16", "float32", ...
  Geometry geometry;
  std::vector<float> voxels; // x fastest

  size_t index(int64_t x, int64_t y, int64_t z) const {
    return size_t(x + geometry.size[0] * (y + geometry.size[1] * z));
  }
};

// Describes the first field in which b differs from a ("size 512x512x147 vs 512x512x148",
// "spacing ...", "origin ...", "direction ..."); empty when they agree. Spacing, origin and
// direction are compared with a relative/absolute tolerance of `tol`.
std::string geometry_mismatch(const Geometry& a, const Geometry& b, double tol = 1e-4);

// True when the direction matrix is orthonormal within tol.
bool is_orthonormal(const std::array<double, 9>& direction, double tol = 1e-4);

// ITK-backed volume I/O (NIfTI .nii/.nii.gz, NRRD .nrrd/.nhdr, MetaImage .mha/.mhd).
// Available when dlk is built with DLK_WITH_ITK; otherwise they throw dlk::Error.
// read_volume checks the file first (check_volume_file) and the geometry it gets: a damaged,
// truncated or absurd file is a dlk::Error naming it, never zeros, garbage or an abort.
// A directory of DICOM files is read as one of its series (dlk/io/dicom_series.h): `series` is its
// UID or description, or empty when the directory holds one.
Volume read_volume(const std::string& path, const std::string& series = "");
// NIfTI: header fields (dimensions, datatype, vox_offset, finite qform/sform) against the data
// the file holds, gzip streams decompressed to their end (CRC and length checked); MetaImage:
// header fields, the data file (present, not the header itself) and its size or zlib stream.
// Other formats pass. Throws dlk::Error naming the file.
void check_volume_file(const std::string& path);
enum class VoxelType { UInt8, UInt16, Float32 };
// Writes atomically (temporary name with the same extension, then rename), and reads a NIfTI
// back through check_volume_file before the rename: ITK's writers do not report a full disk.
// A PATH that is a symbolic link stays one: its target is replaced (as OutputFile does).
void write_volume(const std::string& path, const Geometry& g, const float* voxels, VoxelType type);

// A volume written and checked under a temporary name, put in place only by commit(): volumes
// that belong together (a case's probability maps and its labels) are all written first, then
// committed together, so that a failure leaves none of them under its final name. Removed by
// the destructor (and on a signal) unless committed.
class StagedVolume {
public:
  StagedVolume(const std::string& path, const Geometry& g, const float* voxels, VoxelType type);
  ~StagedVolume();
  StagedVolume(const StagedVolume&) = delete;
  StagedVolume& operator=(const StagedVolume&) = delete;
  void commit(); // renames the temporary into place (a link's target)
  const std::string& path() const { return path_; }

private:
  void write_and_check(const Geometry& g, const float* voxels, VoxelType type);
  std::string path_, target_, tmp_;
  int slot_ = -1;
  bool committed_ = false;
};

// Case id from a file name: the name without directories and known extensions
// ("img0001.nii.gz" -> "img0001").
std::string strip_volume_extension(const std::string& filename);
// A case's id from its image: the file name without its extensions, or a (DICOM) directory's name.
std::string volume_case_id(const std::string& path);

} // namespace dlk
