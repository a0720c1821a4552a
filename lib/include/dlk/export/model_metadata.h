// What a deployed model must say about itself (ONNX metadata_props; dlk-export(1) documents each
// key): everything a runtime outside dlk needs to feed it a scan and read its answer, taken from
// the checkpoint's own record of how dlk-prep prepared its training data.
#pragma once
#include "dlk/core/json.h"
#include "dlk/export/network_plan.h"

#include <string>
#include <utility>
#include <vector>

namespace dlk {

struct ExportedCheckpoint {
  std::string file;   // as given
  std::string sha256; // of its bytes
};

struct ExportDescription {
  json::Value checkpoint;                  // the (first) checkpoint's metadata
  std::vector<ExportedCheckpoint> sources; // every checkpoint of the model, in order
  std::string network;                     // "teacher", "student" or "" (the one it holds)
  ModelOutput output = ModelOutput::Logits;
  bool fp16 = false;
  std::string format = "onnx";
  // Every network's architecture (an ensemble may mix variants); empty: the checkpoint's alone.
  std::vector<ModelConfig> architectures;
};

// Key/value pairs in a fixed order; structured values are JSON. Keys whose source the checkpoint
// lacks (a bare model without preprocessing) are left out, and `missing` says which.
std::vector<std::pair<std::string, std::string>> model_metadata(const ExportDescription& d,
                                                                std::vector<std::string>* missing = nullptr);

// The version of the metadata's keys and meanings (dlk.metadata_version).
inline constexpr int kModelMetadataVersion = 1;

} // namespace dlk
