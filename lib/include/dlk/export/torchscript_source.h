// DLKUNet as TorchScript source (the graph of dlk/export/network_plan.h: BN folded), with the
// tensors its forward reads as buffers. LibTorch compiles it into a module (torch::jit::Module::define)
// that it saves as a file Python's torch.jit.load runs: no Python at export time.
#pragma once
#include "dlk/export/network_plan.h"

#include <string>
#include <utility>
#include <vector>

namespace dlk {

struct TorchScriptSource {
  std::string code; // "def forward(self, image): ..."
  std::vector<std::pair<std::string, WeightArray>> buffers; // attribute names (identifiers) and values
};

TorchScriptSource torchscript_source(const std::vector<ExportNetwork>& networks, ModelOutput output, bool fp16);

} // namespace dlk
