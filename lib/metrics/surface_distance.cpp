#include "dlk/core/error.h"
#include "dlk/metrics/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace dlk {

std::vector<uint8_t> surface(const std::vector<uint8_t>& mask, const std::array<int64_t, 3>& size) {
  const int64_t nx = size[0], ny = size[1], nz = size[2];
  std::vector<uint8_t> out(mask.size(), 0);
  for (int64_t z = 0; z < nz; ++z)
    for (int64_t y = 0; y < ny; ++y)
      for (int64_t x = 0; x < nx; ++x) {
        const int64_t i = (z * ny + y) * nx + x;
        if (!mask[size_t(i)]) continue;
        // Erosion keeps a voxel only if its six face neighbours are set; outside is background.
        const bool interior = x > 0 && x + 1 < nx && y > 0 && y + 1 < ny && z > 0 && z + 1 < nz &&
                              mask[size_t(i - 1)] && mask[size_t(i + 1)] && mask[size_t(i - nx)] &&
                              mask[size_t(i + nx)] && mask[size_t(i - nx * ny)] && mask[size_t(i + nx * ny)];
        out[size_t(i)] = !interior;
      }
  return out;
}

SurfaceDistances surface_distances(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b,
                                   const std::array<int64_t, 3>& size, const std::array<double, 3>& spacing) {
  // Bounding box of both masks, grown by one voxel (inside the grid) so that the crop's edge
  // erodes as the full volume's would.
  std::array<int64_t, 3> lo{size[0], size[1], size[2]}, hi{-1, -1, -1};
  for (int64_t z = 0, i = 0; z < size[2]; ++z)
    for (int64_t y = 0; y < size[1]; ++y)
      for (int64_t x = 0; x < size[0]; ++x, ++i)
        if (a[size_t(i)] || b[size_t(i)]) {
          const int64_t c[3] = {x, y, z};
          for (int k = 0; k < 3; ++k) {
            lo[size_t(k)] = std::min(lo[size_t(k)], c[k]);
            hi[size_t(k)] = std::max(hi[size_t(k)], c[k]);
          }
        }
  if (hi[0] < 0) throw Error("surface distances of two empty masks");
  std::array<int64_t, 3> box{};
  for (size_t k = 0; k < 3; ++k) {
    lo[k] = std::max<int64_t>(0, lo[k] - 1);
    hi[k] = std::min<int64_t>(size[k] - 1, hi[k] + 1);
    box[k] = hi[k] - lo[k] + 1;
  }
  // Crop; voxels of the grid's outside stay outside the crop, so the surfaces are the same.
  const size_t n = size_t(box[0] * box[1] * box[2]);
  std::vector<uint8_t> ca(n), cb(n);
  for (int64_t z = 0, j = 0; z < box[2]; ++z)
    for (int64_t y = 0; y < box[1]; ++y)
      for (int64_t x = 0; x < box[0]; ++x, ++j) {
        const size_t i = size_t(((z + lo[2]) * size[1] + y + lo[1]) * size[0] + x + lo[0]);
        ca[size_t(j)] = a[i];
        cb[size_t(j)] = b[i];
      }
  // The crop touches the grid's edge only where the box does: there, outside is background in
  // both views. Where the box ends inside the grid, the masks are empty next to it anyway.
  auto sa = surface(ca, box), sb = surface(cb, box);
  if (std::none_of(sa.begin(), sa.end(), [](uint8_t v) { return v; }) ||
      std::none_of(sb.begin(), sb.end(), [](uint8_t v) { return v; }))
    throw Error("surface distances need two non-empty masks");
  const auto da = squared_edt(sb, box, spacing), db = squared_edt(sa, box, spacing);
  SurfaceDistances out;
  for (size_t j = 0; j < n; ++j) {
    if (sa[j]) out.a_to_b.push_back(std::sqrt(da[j]));
    if (sb[j]) out.b_to_a.push_back(std::sqrt(db[j]));
  }
  return out;
}

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
