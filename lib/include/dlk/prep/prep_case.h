// One case of a raw dataset into one shard: read, check, normalize, label-map, slice, write.
#pragma once
#include "dlk/core/output_file.h"
#include "dlk/io/volume.h"
#include "dlk/prep/label_map.h"
#include "dlk/prep/layout.h"
#include "dlk/prep/normalize.h"
#include "dlk/shard/shard_meta.h"

#include <string>
#include <vector>

namespace dlk {

struct PrepOptions {
  std::vector<std::string> channel_names;
  NormalizeSpec normalize;
  LabelMap label_map;
  std::vector<std::string> classes; // may be empty: derived from the map or the labels
  // Reorient every volume to LPS before slicing (recorded in the shard), so that `axis` is
  // anatomical: 2 axial, 1 coronal, 0 sagittal. false: slice the voxel axes as stored.
  bool canonical = true;
  int axis = 2;
  ImageDType dtype = ImageDType::Float16;
  int zstd_level = 3;
  std::string tool = "dlk-prep";
  std::string series; // of a DICOM directory: UID or description (dlk/io/dicom_series.h)
  // --spacing X,Y: [x, y] mm dlk-train will resample slices to (each case's resampled size is
  // checked against the limits here, where the file can still be named); empty: none or auto.
  std::vector<double> resample_to;
};

// Reads a case's image channels, one volume each, on one grid and with finite voxels; throws
// naming the file, the differing geometry field or the first non-finite voxel.
std::vector<Volume> read_channels(const std::vector<std::string>& images, const std::string& series = "");

// Reads, validates and normalizes one case and writes its shard to `out`.
// Throws dlk::Error naming the file and the fault.
ShardMeta prep_case(const CaseInput& c, const PrepOptions& opt, OutputFile& out);

} // namespace dlk
