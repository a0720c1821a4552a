// Label volumes for scoring, from any of: a volume file (NIfTI/NRRD/MHA), a directory of them
// (case id = file name without extensions), a dlk-prep dataset (label slices put back on the
// case's grid), a shard file (random access) or a stream of shards ("-", e.g. from dlk-infer -o -).
#pragma once
#include "dlk/io/volume.h"
#include "dlk/prep/label_map.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace dlk {

struct LabelVolume {
  std::string case_id, source;
  Geometry geometry;
  std::vector<uint16_t> labels;     // x fastest
  std::vector<std::string> classes; // when the source names them
};

class LabelVolumes {
public:
  // `split`: for a dataset, which cases ("all" for every one).
  static std::unique_ptr<LabelVolumes> open(const std::string& path, const std::string& split, const LabelMap& map);
  // The one case of `path`: a volume, a shard, a stream's first case, or a one-case dataset;
  // fails naming the path when it holds none or several.
  static LabelVolume load_one(const std::string& path);
  virtual ~LabelVolumes() = default;
  // True when the cases can be looked up by id (files, datasets); streams are read in order.
  virtual bool random_access() const = 0;
  virtual std::vector<std::string> case_ids() const = 0; // random access only
  virtual LabelVolume load(const std::string& case_id) = 0;
  virtual bool next(LabelVolume& out) = 0; // every case in order
  // The class names the source gives (a dataset, a shard file), before any case is read; empty
  // where it gives none (volumes, streams).
  virtual std::vector<std::string> classes() const { return {}; }
};

} // namespace dlk
