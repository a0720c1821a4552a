// A shard's metadata: the case, its source, geometry, channels, normalization and classes.
// The byte layout is specified in man/man5/dlk-shard.5; lib/shard/shard_format.h has its constants.
#pragma once
#include "dlk/core/json.h"
#include "dlk/io/orientation.h"
#include "dlk/io/volume.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dlk {

enum class ImageDType { Float16, Float32 };

// Case ids name output files (dlk-infer writes CASE.nii.gz), and shards come from other people:
// an id is 1..128 characters of letters, digits, '.', '_', '-' and '+', starting with a letter or
// digit, so it can never leave a directory or hide. Returns why `id` is not one, or "".
std::string case_id_problem(const std::string& id);
// Class and channel names end up in CSV cells, Markdown and HTML tables, LaTeX and terminals, and
// come from other people's shards, datasets and nnU-Net dataset.json files: a name is 1..64
// characters of letters, digits, spaces, '_', '-', '.', '+', '(', ')' and '/', starting with a
// letter or digit and not ending in a space ("kidney_left", "non-enhancing tumor", "RV",
// "prostate/uterus"). Returns why `name` is not one, or ""; `what` names it in the message
// ("class name", "channel name"), which shows the name printably.
std::string class_name_problem(const std::string& name, const char* what = "class name");
// The first problem of a list of such names (each as above; with `distinct`, none twice: class
// names are keys of dlk-score's JSON), or "".
std::string names_problem(const std::vector<std::string>& names, const char* what = "class name", bool distinct = true);
const char* dtype_name(ImageDType t);

struct ShardMeta {
  std::string case_id;
  std::string split;                      // train | val | test (as prepared)
  std::vector<std::string> image_sources; // one per channel, as given to dlk-prep
  std::string label_source;               // empty when unlabelled
  std::vector<std::string> channels;      // channel names
  Geometry geometry;                      // of the source volume, as stored in its file
  // How dlk-prep reoriented the volume to LPS before slicing (dlk-prep --orientation canonical);
  // none: sliced as stored (files written before orientation was recorded, or --orientation stored).
  std::optional<Reorientation> orientation;
  std::string source_pixel_type;
  int axis = 2;                           // slicing axis of grid(): 0 = x, 1 = y, 2 = z
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
  // The grid the slices are cut from: the canonical one when reoriented, else the source's.
  Geometry grid() const { return orientation ? reoriented_geometry(geometry, *orientation) : geometry; }

  json::Value to_json() const;
  static ShardMeta from_json(const json::Value& v); // validates; throws dlk::Error
};

} // namespace dlk
