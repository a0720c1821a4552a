// The per-stage table of dlk-train --summary: parameters and MACs of DLKUNet.
#pragma once
#include "dlk/model/model.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace dlk {

// The per-stage table of dlk-train --summary, computed from the layers' own shapes:
// parameters, true MACs (conv weight multiply-accumulates) and the paper's convention
// (torchinfo's "mult-adds": (weights + biases) x output pixels for every Conv and
// ConvTranspose, plus BN's parameter count; see the spec, section 4).
struct StageSummary {
  std::string name;
  std::vector<int64_t> output; // C, H, W
  int64_t params = 0, true_macs = 0, paper_macs = 0;
};
std::vector<StageSummary> summarize(const DLKUNet& model, int64_t height, int64_t width);
// The whole network's sums of those (name and output empty).
StageSummary summarize_total(const DLKUNet& model, int64_t height, int64_t width);
std::string format_summary(const DLKUNet& model, int64_t height, int64_t width);

// Params (M) and the paper's FLOPs (G) of a checkpoint's model at its input size.
std::pair<double, double> checkpoint_cost(const std::string& checkpoint);
// The paper's Table 1 for S, M and L at 224x224 (channels, parameters, FLOPs in the paper's
// convention, true MACs) as markdown, csv or latex.
std::string configurations_table(const std::string& format);

} // namespace dlk
