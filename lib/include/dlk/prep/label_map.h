// Raw label values -> class ids. Written "raw:class,raw:class,..." (or one pair per line in
// a file, '#' starts a comment); "*:c" sends every unlisted value to class c. Without "*",
// a value the map does not list is an error, so a surprise label never slips through.
#pragma once
#include "dlk/core/json.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dlk {

struct LabelMap {
  std::map<int64_t, int> pairs;
  std::optional<int> rest; // class for unlisted values ("*")

  bool empty() const { return pairs.empty() && !rest; }
  int max_class() const;
  // TEXT is either a mapping or the path of a file holding one.
  static LabelMap parse(const std::string& text_or_file);
  json::Value to_json() const; // {"8": 1, ..., "*": 0}; null when empty
  static LabelMap from_json(const json::Value& v);
};

// Maps a raw label volume to uint8 class ids and counts voxels per class. Throws naming
// `path`, the value and one voxel (x, y, z) holding it when a value is not an integer,
// not in the map, or (without a map) not below n_classes. n_classes <= 0: no bound.
std::vector<uint8_t> apply_label_map(const std::vector<float>& raw, const LabelMap& map, int n_classes,
                                     const std::string& path, const int64_t size[3],
                                     std::vector<int64_t>& counts);

} // namespace dlk
