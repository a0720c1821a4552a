// dlk-prep's library side: the cases of a raw dataset layout, split lists, turning one case
// into a shard, and verifying shards, streams and dataset directories.
#pragma once
#include "dlk/dataset.h"
#include "dlk/io.h"
#include "dlk/label_map.h"
#include "dlk/normalize.h"
#include "dlk/progress.h"
#include "dlk/shard.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace dlk {

struct CaseInput {
  std::string id;
  std::string group; // what a split list may name instead of the id (ACDC: the patient)
  std::vector<std::string> images; // one per channel
  std::string label;               // empty: unlabelled
  std::string split = "train";
};

// Raw dataset layouts (see dlk-prep(1)):
//  synapse: img/imgNNNN.nii.gz + label/labelNNNN.nii.gz (or RawData/Training/...), ids caseNNNN
//  acdc:    patientNNN/patientNNN_frameFF.nii.gz + _gt, ED/ES from Info.cfg, ids patientNNN_ED/_ES
//  nnunet:  imagesTr/CASE_0000.nii.gz (+_0001...), labelsTr/CASE.nii.gz, imagesTs/ (test), dataset.json
struct Layout {
  std::vector<CaseInput> cases;
  std::vector<std::string> channels; // when the layout says (nnU-Net dataset.json)
  std::vector<std::string> classes;
};
Layout discover_cases(const std::string& layout, const std::string& dir);

// A split list: one "ID SPLIT" per line (SPLIT: train, val or test; '#' comments). IDs are
// matched against a case's id, then its group.
using SplitList = std::map<std::string, std::string>;
SplitList read_split_list(const std::string& path);
// Applies the list: sets each case's split and drops (returning their ids) cases it omits.
std::vector<std::string> apply_split_list(std::vector<CaseInput>& cases, const SplitList& list,
                                          const std::string& path);
bool valid_split_name(const std::string& s);

struct PrepOptions {
  std::vector<std::string> channel_names;
  NormalizeSpec normalize;
  LabelMap label_map;
  std::vector<std::string> classes; // may be empty: derived from the map or the labels
  int axis = 2;
  ImageDType dtype = ImageDType::Float16;
  int zstd_level = 3;
  std::string tool = "dlk-prep";
};

// Reads a case's image channels, one volume each, on one grid and with finite voxels; throws
// naming the file, the differing geometry field or the first non-finite voxel.
std::vector<Volume> read_channels(const std::vector<std::string>& images);

// Reads, validates and normalizes one case and writes its shard to `out`.
// Throws dlk::Error naming the file and the fault.
ShardMeta prep_case(const CaseInput& c, const PrepOptions& opt, OutputFile& out);

struct CheckReport {
  std::string path, case_id, split;
  int64_t slices = 0;
  uint64_t bytes = 0;
  std::string shape, dtype;
  bool has_label = false;
  std::vector<int64_t> counts; // recounted from the decoded labels
  std::vector<std::string> classes;
  std::string error; // empty: ok
};

// Verifies a shard file, a stream of shards (a file or "-"), or a dataset directory:
// checksums, slice order, index and trailer, metadata, label values within the classes,
// label counts against the metadata, and dataset.json against the shards. Calls `report`
// once per case; returns false if anything failed.
bool check_path(const std::string& path, const std::function<void(const CheckReport&)>& report);

} // namespace dlk

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
  ProgressSink progress; // reports the cases done (none: quiet)
};

struct PrepSummary {
  int64_t cases = 0, slices = 0;
  uint64_t bytes = 0, source_bytes = 0;
  double seconds = 0;
};

PrepSummary run_prep(PrepRun run, const std::function<void(const ShardMeta&, uint64_t bytes)>& on_case = {});

} // namespace dlk
