#include "dlk/metrics/metrics.h"
#include "dlk/core/error.h"
#include "dlk/metrics/surface_distance.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace dlk {

double percentile_linear(std::vector<double> v, double q) {
  if (v.empty()) return std::nan("");
  const double r = q / 100.0 * double(v.size() - 1);
  const size_t lo = size_t(std::floor(r));
  std::nth_element(v.begin(), v.begin() + long(lo), v.end());
  const double a = v[lo];
  if (lo + 1 >= v.size()) return a;
  const double b = *std::min_element(v.begin() + long(lo) + 1, v.end());
  return a + (r - double(lo)) * (b - a);
}

const char* score_mode_name(ScoreMode m) {
  switch (m) {
  case ScoreMode::TransUNet: return "transunet";
  case ScoreMode::Medpy: return "medpy";
  case ScoreMode::Monai: return "monai";
  case ScoreMode::NnUNet: return "nnunet";
  }
  return "?";
}

double dice_from_counts(int64_t tp, int64_t n_pred, int64_t n_ref) {
  return n_pred + n_ref > 0 ? 2.0 * double(tp) / double(n_pred + n_ref) : std::nan("");
}

ClassScore score_class(const std::vector<uint8_t>& pred, const std::vector<uint8_t>& ref, const std::array<int64_t, 3>& size,
                       const std::array<double, 3>& spacing, ScoreMode mode, bool distances) {
  ClassScore s;
  for (size_t i = 0; i < pred.size(); ++i) {
    const bool p = pred[i], r = ref[i];
    s.tp += p && r;
    s.fp += p && !r;
    s.fn += !p && r;
  }
  s.n_pred = s.tp + s.fp;
  s.n_ref = s.tp + s.fn;
  const double nan = std::nan(""), inf = std::numeric_limits<double>::infinity();
  const bool has_p = s.n_pred > 0, has_r = s.n_ref > 0;
  s.rule = has_p && has_r ? "both" : has_p ? "pred-only" : has_r ? "ref-only" : "both-empty";
  const double dice = dice_from_counts(s.tp, s.n_pred, s.n_ref);
  s.iou = (has_p || has_r) ? double(s.tp) / double(s.tp + s.fp + s.fn) : nan;
  if (has_p && has_r) {
    s.dsc = dice;
    if (distances) {
      auto d = surface_distances(pred, ref, size, spacing);
      std::vector<double> all = d.a_to_b;
      all.insert(all.end(), d.b_to_a.begin(), d.b_to_a.end());
      s.hd = std::max(*std::max_element(d.a_to_b.begin(), d.a_to_b.end()), *std::max_element(d.b_to_a.begin(), d.b_to_a.end()));
      double sum = 0;
      for (double x : all) sum += x;
      s.assd = sum / double(all.size());
      if (mode == ScoreMode::Monai) // the larger of the two directed 95th percentiles
        s.hd95 = std::max(percentile_linear(d.a_to_b, 95), percentile_linear(d.b_to_a, 95));
      else // medpy: one percentile over both directions pooled
        s.hd95 = percentile_linear(all, 95);
    } else {
      s.hd95 = s.hd = s.assd = nan;
    }
    return s;
  }
  switch (mode) {
  case ScoreMode::TransUNet: // calculate_metric_percase: pred only -> (1, 0); pred empty -> (0, 0)
    s.dsc = has_p ? 1.0 : 0.0;
    s.hd95 = s.hd = s.assd = 0.0;
    break;
  case ScoreMode::Medpy: // dc: 0 with one side empty, 1 with both (medpy >= 0.5); distances raise
    s.dsc = (has_p || has_r) ? 0.0 : 1.0;
    s.hd95 = s.hd = s.assd = nan;
    break;
  case ScoreMode::Monai: // DiceMetric(ignore_empty): NaN without reference; distances NaN/inf
    s.dsc = has_r ? 0.0 : nan;
    s.hd95 = s.hd = s.assd = (has_p || has_r) ? inf : nan;
    break;
  case ScoreMode::NnUNet: // Dice and IoU NaN when both are empty, 0 when one is
    s.dsc = (has_p || has_r) ? 0.0 : nan;
    s.hd95 = s.hd = s.assd = nan;
    break;
  }
  return s;
}

} // namespace dlk
