// Segmentation metrics per case and class: Dice, HD95, HD, ASSD, and nnU-Net's counts, with the
// conventions of TransUNet, medpy, MONAI and nnU-Net (../shared/spec/protocol-and-anchors.md, 2).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace dlk {

// numpy.percentile (linear) of a copy of v; q in [0, 100].
double percentile_linear(std::vector<double> v, double q);

enum class ScoreMode { TransUNet, Medpy, Monai, NnUNet };
const char* score_mode_name(ScoreMode m);

// Dice of voxel counts: 2 tp / (n_pred + n_ref), NaN when prediction and reference are both empty.
double dice_from_counts(int64_t tp, int64_t n_pred, int64_t n_ref);

struct ClassScore {
  double dsc = 0, hd95 = 0, hd = 0, assd = 0, iou = 0;
  int64_t tp = 0, fp = 0, fn = 0, n_pred = 0, n_ref = 0;
  std::string rule; // which rule produced the numbers: "both", "pred-only", "ref-only", "both-empty"
};

// One class of one case: pred and ref are boolean masks on the same grid.
ClassScore score_class(const std::vector<uint8_t>& pred, const std::vector<uint8_t>& ref,
                       const std::array<int64_t, 3>& size, const std::array<double, 3>& spacing, ScoreMode mode,
                       bool distances = true);

} // namespace dlk
