// A whole dlk-infer run: the cases of volumes, a dataset or a shard stream, segmented and written.
#pragma once
#include "dlk/core/json.h"
#include "dlk/infer/segmenter.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace dlk {

struct InferRun {
  std::vector<std::string> checkpoints; // one, or an ensemble
  std::vector<std::string> images; // one case from these volumes (one per channel)
  std::string case_id;             // its id [the first image's name]
  std::string input;               // or: a volume, a directory of volumes, a dataset, a shard file, "-"
  std::string split = "test";      // of a dataset
  std::string output;              // directory, or "-" for a label shard stream
  // Of the label files: nifti, nrrd, mha, or dicom-seg (a DICOM Segmentation of a DICOM series'
  // case, CASE.dcm); "": the input's format (NIfTI for a DICOM series).
  std::string format;
  int part = 1, parts = 1;         // process the part-th of `parts` equal parts of the case list
  InferOptions options;
};

struct InferStats {
  int64_t cases = 0, slices = 0;
  double seconds = 0, segment_seconds = 0;
  StageSeconds stages;
  double network_busy = 0; // seconds the network's device computed (Segmenter::device_busy_seconds)
  // The network's own rate (slices over the network stage's seconds); end to end approaches it
  // as the other stages are hidden behind it.
  double network_slices_per_s() const { return stages.network > 0 ? double(slices) / stages.network : 0.0; }
  json::Value to_json(const InferRun& run) const;
};

// Segments every case; reading case i+1 and writing case i-1 overlap segmenting case i (and
// within a case, batches overlap as InferOptions::prefetch says).
InferStats run_infer(const InferRun& run, const std::function<void(const std::string&)>& log);

} // namespace dlk
