// A whole dlk-prep run: every case of a layout into a dataset directory or a stream.
#pragma once
#include "dlk/core/json.h"
#include "dlk/core/progress.h"
#include "dlk/prep/layout.h"
#include "dlk/prep/prep_case.h"
#include "dlk/shard/shard_meta.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace dlk {

// A whole dlk-prep run: every case into OUT/<case>.dlks (in parallel) and OUT/dataset.json
// updated, or, with out_dir "-", the shards in case order as one stream on stdout.
// All or nothing: shards are renamed into place and dataset.json rewritten only after
// every case succeeded; on any failure the run's temporaries are removed.
struct PrepRun {
  std::vector<CaseInput> cases;
  PrepOptions options;
  std::string out_dir;
  std::string name;   // dataset name (default: kept, else the directory's name)
  bool force = false; // replace cases already in the dataset
  int threads = 1;
  // Cross-validation folds of the dataset's train cases (0: keep what the dataset has). Once a
  // dataset has folds, every run that adds cases assigns them again over all its train cases.
  int folds = 0;
  int64_t fold_seed = 1234;
  json::Value spacing; // the in-plane spacing dlk-train resamples to (Dataset::spacing)
  ProgressSink progress; // reports the cases done (none: quiet)
};

struct PrepSummary {
  int64_t cases = 0, slices = 0;
  uint64_t bytes = 0, source_bytes = 0;
  double seconds = 0;
};

PrepSummary run_prep(PrepRun run, const std::function<void(const ShardMeta&, uint64_t bytes)>& on_case = {});

} // namespace dlk
