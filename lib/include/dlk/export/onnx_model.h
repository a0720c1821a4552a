// DLKUNet as an ONNX model (opset 17), built from a network's weights without LibTorch: batch
// normalisation folded into the pointwise convolutions before it, the decoder's ConvTranspose as
// ONNX's own, batch, height and width dynamic ("batch", "height", "width"; height and width
// multiples of 2^pooling stages). Several networks make an ensemble whose softmax is averaged in
// the graph. The model is checked with ONNX's C++ checker before it is returned.
#pragma once
#include "dlk/export/network_plan.h"

#include <string>
#include <utility>
#include <vector>

namespace dlk {

struct OnnxOptions {
  ModelOutput output = ModelOutput::Logits;
  bool fp16 = false; // weights and arithmetic in fp16; the input and output stay fp32 (cast in the graph)
  std::string producer_version;
  std::vector<std::pair<std::string, std::string>> metadata; // metadata_props, in order
};

// The serialized ModelProto. Throws dlk::Error when a weight is missing or misshapen, and when
// ONNX's checker refuses the model (a bug: say so).
std::string onnx_model_bytes(const std::vector<ExportNetwork>& networks, const OnnxOptions& options);

// The graph's input; its output is named by model_output_name.
inline constexpr const char* kOnnxInputName = "image";

} // namespace dlk
