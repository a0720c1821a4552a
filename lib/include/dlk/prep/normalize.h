// Intensity normalization of one channel of a volume. The parameters actually used
// (window, mean and std, percentiles and their values) are returned as JSON and stored in
// every shard, so that dlk-infer applies exactly what dlk-prep did.
#pragma once
#include "dlk/core/json.h"

#include <string>
#include <vector>

namespace dlk {

struct NormalizeSpec {
  std::string method = "window"; // window | zscore | minmax | percentile | none
  double window_lo = -125, window_hi = 275;  // window: clip to [lo, hi], map to [0, 1]
  double pct_lo = 0.5, pct_hi = 99.5;        // percentile: clip to these percentiles, map to [0, 1]

  json::Value to_json() const;
  static NormalizeSpec from_json(const json::Value& v);
};

// Normalizes v in place; returns {"method": ..., parameters...}.
json::Value normalize(std::vector<float>& v, const NormalizeSpec& spec);
// Empty when a normalization recorded by normalize() followed `spec` (same method and the same
// window or percentiles); otherwise what differs, e.g. "window [-125, 275] vs [-160, 240]".
std::string normalization_mismatch(const NormalizeSpec& spec, const json::Value& recorded);
// Re-applies a normalization recorded by normalize() (same parameters, not recomputed).
void apply_normalization(std::vector<float>& v, const json::Value& recorded);

// numpy.percentile's default ("linear") of a copy of v; q in [0, 100].
double percentile(std::vector<float> v, double q);

} // namespace dlk
