// dlk-export's run: checkpoints in, one deployable model out (ONNX, or TorchScript), written
// atomically (or to stdout), with the checkpoint's preprocessing as the model's metadata.
#pragma once
#include "dlk/export/network_plan.h"

#include <cstdint>
#include <string>
#include <vector>

namespace dlk {

struct ExportOptions {
  std::vector<std::string> checkpoints; // one, or an ensemble
  std::string output;                   // a file, or "-"
  std::string format = "onnx";          // onnx | torchscript
  std::string network;                  // of a semi-supervised checkpoint: teacher | student | "" (its model)
  ModelOutput model_output = ModelOutput::Logits;
  bool fp16 = false;
};

struct ExportSummary {
  uint64_t bytes = 0;
  std::vector<std::string> missing;  // metadata the checkpoint could not give (a bare model)
};

// Loads and checks every checkpoint (a damaged one, or an ensemble member whose classes, channels
// or preprocessing differ, is a dlk::Error naming it), builds the model and writes it.
ExportSummary run_export(const ExportOptions& options);

} // namespace dlk
