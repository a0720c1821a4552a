// dlk-prep --check: verifies shards, shard streams and dataset directories.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace dlk {

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
