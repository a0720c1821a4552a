#include "dlk/prep/normalize.h"
#include "dlk/core/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <sstream>

namespace dlk {

json::Value NormalizeSpec::to_json() const {
  json::Value v;
  v.set("method", method);
  if (method == "window") v.set("window", std::vector<double>{window_lo, window_hi});
  if (method == "percentile") v.set("percentiles", std::vector<double>{pct_lo, pct_hi});
  return v;
}

std::string normalization_mismatch(const NormalizeSpec& spec, const json::Value& recorded) {
  NormalizeSpec got;
  try {
    got = NormalizeSpec::from_json(recorded);
  } catch (const Error& e) {
    return std::string("unreadable record (") + e.what() + ")";
  }
  if (got.method != spec.method) return fmt::format("method '{}' vs '{}'", got.method, spec.method);
  if (spec.method == "window" && (got.window_lo != spec.window_lo || got.window_hi != spec.window_hi))
    return fmt::format("window [{}, {}] vs [{}, {}]", got.window_lo, got.window_hi, spec.window_lo, spec.window_hi);
  if (spec.method == "percentile" && (got.pct_lo != spec.pct_lo || got.pct_hi != spec.pct_hi))
    return fmt::format("percentiles [{}, {}] vs [{}, {}]", got.pct_lo, got.pct_hi, spec.pct_lo, spec.pct_hi);
  return {};
}

NormalizeSpec NormalizeSpec::from_json(const json::Value& v) {
  NormalizeSpec s;
  s.method = v.at("method").as_string("normalization.method");
  if (auto w = v.find("window")) {
    auto p = w->as_numbers("normalization.window");
    if (p.size() != 2) throw Error("normalization.window needs two numbers");
    s.window_lo = p[0];
    s.window_hi = p[1];
  }
  if (auto w = v.find("percentiles")) {
    auto p = w->as_numbers("normalization.percentiles");
    if (p.size() != 2) throw Error("normalization.percentiles needs two numbers");
    s.pct_lo = p[0];
    s.pct_hi = p[1];
  }
  return s;
}

double percentile(std::vector<float> v, double q) {
  if (v.empty()) throw Error("percentile of an empty volume");
  const double r = q / 100.0 * double(v.size() - 1);
  const size_t lo = size_t(std::floor(r));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  std::nth_element(v.begin(), v.begin() + long(lo), v.end());
  const double a = v[lo];
  double b = a;
  if (hi != lo) b = *std::min_element(v.begin() + long(lo) + 1, v.end());
  return a + (r - double(lo)) * (b - a);
}

// (x - lo) / (hi - lo) after clipping to [lo, hi]; a flat volume maps to 0.
static void clip_scale(std::vector<float>& v, double lo, double hi) {
  const double span = hi - lo;
  for (float& x : v) {
    double c = std::min(std::max(double(x), lo), hi);
    x = span > 0 ? float((c - lo) / span) : 0.0f;
  }
}

// Computes the parameters from the volume, records them, then applies the recording:
// dlk-infer later applies the same recording, so both paths share one implementation.
json::Value normalize(std::vector<float>& v, const NormalizeSpec& spec) {
  json::Value rec;
  rec.set("method", spec.method);
  if (spec.method == "window") {
    rec.set("window", std::vector<double>{spec.window_lo, spec.window_hi});
  } else if (spec.method == "minmax") {
    auto [mn, mx] = std::minmax_element(v.begin(), v.end());
    rec.set("min", v.empty() ? 0.0 : double(*mn));
    rec.set("max", v.empty() ? 0.0 : double(*mx));
  } else if (spec.method == "percentile") {
    rec.set("percentiles", std::vector<double>{spec.pct_lo, spec.pct_hi});
    rec.set("values", std::vector<double>{percentile(v, spec.pct_lo), percentile(v, spec.pct_hi)});
  } else if (spec.method == "zscore") {
    // Two passes in double: the mean first, then the variance around it (numerically stable).
    double sum = 0;
    for (float x : v) sum += x;
    const double mean = v.empty() ? 0 : sum / double(v.size());
    double ss = 0;
    for (float x : v) ss += (x - mean) * (x - mean);
    rec.set("mean", mean);
    rec.set("std", v.empty() ? 0.0 : std::sqrt(ss / double(v.size())));
  } else if (spec.method != "none") {
    throw UsageError("unknown normalization '" + spec.method + "'");
  }
  apply_normalization(v, rec);
  return rec;
}

void apply_normalization(std::vector<float>& v, const json::Value& r) {
  const std::string& m = r.at("method").as_string("normalization.method");
  auto pair = [&](const char* key) {
    auto p = r.at(key).as_numbers(key);
    if (p.size() != 2) throw Error(fmt::format("normalization.{} needs two numbers", key));
    return p;
  };
  if (m == "window") {
    auto w = pair("window");
    clip_scale(v, w[0], w[1]);
  } else if (m == "minmax") {
    clip_scale(v, r.at("min").as_number("min"), r.at("max").as_number("max"));
  } else if (m == "percentile") {
    auto w = pair("values");
    clip_scale(v, w[0], w[1]);
  } else if (m == "zscore") {
    const double mean = r.at("mean").as_number("mean"), sd = r.at("std").as_number("std");
    const double inv = sd > 0 ? 1.0 / sd : 0.0;
    for (float& x : v) x = float((x - mean) * inv);
  } else if (m != "none") {
    throw Error("unknown normalization method '" + m + "'");
  }
}

} // namespace dlk
