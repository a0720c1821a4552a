// The architecture knobs of DLKUNet (S, M, L and the paper's ablations), without torch:
// tools read and compare configurations before they build a model.
#pragma once
#include "dlk/core/json.h"

#include <cstdint>
#include <string>

namespace dlk {

struct ModelConfig {
  std::string variant = "S";       // S, M or L: 2, 3 or 4 pooling stages
  int64_t in_channels = 1;         // 1 for CT, 2 for the shared BraTS data
  int64_t classes = 9;             // output channels, background included
  int64_t base_channels = 96;      // C; level i has C * 2^i (Fig. 9: 64, 96, 128)
  int64_t dw_kernel = 3;           // SepConv depthwise kernel (Table 5: 3, 5, 7)
  int64_t lka_kernel = 5;          // LKA depthwise kernel
  int64_t lka_dilated_kernel = 7;  // LKA dilated depthwise kernel
  int64_t lka_dilation = 3;

  int depth() const; // pooling stages
  int64_t channels(int level) const { return base_channels << level; }
  void validate() const; // throws UsageError naming the bad knob
  json::Value to_json() const;
  static ModelConfig from_json(const json::Value& v);
  // Empty when equal; otherwise "classes 9 vs 4" for the first knob that differs.
  std::string difference(const ModelConfig& other) const;
};

} // namespace dlk
