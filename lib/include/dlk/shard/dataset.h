// A dataset directory: dataset.json plus one <case>.dlks shard per case. dataset.json holds
// what every case shares (channels, classes, normalization, label map, axis, dtype) and the
// case list with splits and slice counts; see dlk-shard(5).
#pragma once
#include "dlk/core/json.h"
#include "dlk/shard/shard_meta.h"
#include "dlk/shard/shard_reader.h"

#include <memory>
#include <string>
#include <vector>

namespace dlk {

// Why `name` cannot be a shard of a dataset (it must be "CASE.dlks" or, for a case prepared
// again, "CASE@N.dlks", CASE a valid case id), or "".
std::string shard_name_problem(const std::string& name);

// Why `spacing` is not a dataset's target spacing (null, "auto", or two numbers in mm within
// dlk/io/resampling.h's range), or "".
std::string spacing_problem(const json::Value& spacing);

struct DatasetCase {
  std::string id, split, shard; // shard: file name relative to the dataset directory
  int64_t slices = 0;
  bool has_label = false;
  std::vector<int64_t> label_counts;
  std::string group; // cases of one subject (ACDC's ED and ES of a patient); "": the case alone
  int fold = -1;     // cross-validation fold of a train case (dlk-prep --folds); -1: none
};

struct Dataset {
  std::string name;
  std::vector<std::string> channels, classes;
  json::Value normalization; // the NormalizeSpec as given (per-case values are in the shards)
  json::Value label_map;     // or null
  // "canonical": every shard was reoriented to LPS before slicing, so axis 2 is axial, 1 coronal,
  // 0 sagittal; "stored": sliced along the files' voxel axes (and what older datasets mean).
  std::string orientation = "stored";
  int axis = 2;
  std::string dtype = "float16";
  // In-plane spacing dlk-train resamples slices to: null (none: slices are resized to the model's
  // input), "auto" (the median of the training cases') or [x, y] in mm between columns and rows.
  json::Value spacing;
  std::vector<DatasetCase> cases; // sorted by id
  int folds = 0;                  // cross-validation folds of the train cases (0: none)
  int64_t fold_seed = 0;          // what assigned them

  static constexpr const char* kFileName = "dataset.json";
  static bool exists(const std::string& dir);
  // Whether dir's dataset.json is dlk's: false where there is none, and where the file is valid
  // JSON without dlk's "format" member, as the dataset.json nnU-Net writes into its raw datasets
  // and prediction folders (and the Medical Segmentation Decathlon's) is. A damaged file counts as
  // dlk's, so that load() says what is wrong with it.
  static bool holds_dlk_dataset(const std::string& dir);
  static Dataset load(const std::string& dir); // validates; throws naming the file
  void save(const std::string& dir) const;     // atomically
  json::Value to_json() const;
  static Dataset from_json(const json::Value& v);

  const DatasetCase* find(const std::string& id) const;
  // Adds or (replace = true) replaces a case, keeping the list sorted.
  void put(const DatasetCase& c, bool replace);
  // Empty when `other` can share this dataset; else which field differs and how.
  std::string incompatibility(const Dataset& other) const;
  std::vector<const DatasetCase*> split(const std::string& name) const; // "all" = every case
  // Empty when shard metadata `m` is what this dataset says case `c` is; else what differs.
  std::string shard_mismatch(const DatasetCase& c, const ShardMeta& m) const;
  // Opens case c's shard in dir and checks it against dataset.json (shard_mismatch).
  std::unique_ptr<ShardFile> open_shard(const std::string& dir, const DatasetCase& c) const;
  int64_t total_slices() const;
  // Assigns the train split's cases to `k` folds, a subject (group) whole in one fold: the
  // groups, sorted, are shuffled by a Fisher-Yates driven by mt19937_64(seed) and dealt out in
  // turn, so fold sizes differ by at most one group and the same cases and seed give the same
  // folds on any machine. Other splits get no fold. Throws UsageError if k exceeds the groups.
  void assign_folds(int k, int64_t seed);
  // The shards in dir that this dataset does not list (paths, sorted): what a dlk-prep killed
  // while it committed leaves; nothing reads them.
  std::vector<std::string> unlisted_shards(const std::string& dir) const;
};

} // namespace dlk
