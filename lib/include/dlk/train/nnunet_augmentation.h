// nnU-Net's 2-D training augmentation (dlk-train --augment nnunet), per slice on its device, with
// nnU-Net v2's probabilities and ranges (nnunetv2 nnUNetTrainer.get_training_transforms, the
// transforms of batchgeneratorsv2), in its order:
//   rotation (p 0.2; uniform in +-180 deg, +-15 deg when one side is over 1.5x the other) and
//     scaling (p 0.2; 0.7..1.4, both axes alike), one resampling: bilinear image, nearest label
//     (nnU-Net interpolates each label's mask linearly and keeps the highest), zeros outside;
//   elastic deformation: off in nnU-Net v2 (p_elastic_deform 0); --augment nnunet-elastic adds
//     nnU-Net v1's 2-D one (default_2D_augmentation_params: p 0.2, a uniform(-1, 1) field
//     smoothed with sigma 9..13 px, times alpha 0..200 px);
//   Gaussian noise (p 0.1; variance 0..0.1, one for all channels);
//   Gaussian blur (p 0.2; each channel p 0.5, sigma 0.5..1 px per axis, kernel cut at 6 sigma,
//     reflected borders);
//   multiplicative brightness (p 0.15; per channel 0.75..1.25);
//   contrast (p 0.15; per channel 0.75..1.25 about the mean, clipped to the channel's range);
//   simulated low resolution (p 0.25; each channel p 0.5, nearest-exact down to 0.5..1 of the
//     size, both axes alike, bilinear back up);
//   gamma of the inverted image (p 0.1) and of the image (p 0.3): per channel 0.7..1.5 on the
//     range-normalised channel, mean and SD restored;
//   mirroring of each axis (p 0.5 each).
// Factors "0.75..1.25" are nnU-Net's BGContrast: below 1 or above 1 with p 0.5 each, uniform
// within that side. The scalar draws come from the slice's stream; so do the noise fields, made on
// the host, so that a run's numbers do not depend on its device.
#pragma once
#include <torch/types.h>

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace dlk {

// What one slice drew: every transform at its identity unless drawn.
struct NnunetAugmentation {
  bool spatial = false;
  double rotation = 0, scale = 1; // radians; sampling coordinates scaled by `scale` (> 1: zoom out)
  bool elastic = false;
  double elastic_alpha = 0, elastic_sigma = 0;
  double noise_sd = 0;
  std::vector<std::array<double, 2>> blur_sigma; // per channel [rows, columns]; 0: not blurred
  std::vector<double> brightness, contrast, low_resolution; // per channel; 1: unchanged
  std::vector<double> gamma_inverted, gamma;                  // per channel; 0: not applied
  bool mirror_rows = false, mirror_columns = false;
};

// The draws for a slice of `channels` channels, h x w pixels; `elastic`: --augment nnunet-elastic.
NnunetAugmentation draw_nnunet_augmentation(int64_t channels, int64_t h, int64_t w, bool elastic, std::mt19937_64& rng);
// Applies `a` to image [C, h, w] (float) and label [h, w] (int64, or undefined), on their device;
// `rng` gives the noise fields (Gaussian noise, the elastic field).
std::pair<torch::Tensor, torch::Tensor> apply_nnunet_augmentation(const NnunetAugmentation& a, const torch::Tensor& image,
                                                                  const torch::Tensor& label, std::mt19937_64& rng);

// The smallest slice side each augmentation works on (its kernels' reach), and a UsageError naming
// --augment when the model's input size is below it: nnunet 8 (the blur's reflected border, 6
// pixels), nnunet-elastic 40 (the reflected border of the deformation field's smoothing, 3 sigma
// = 39 pixels). Reflection needs a border narrower than the slice.
int64_t augmentation_min_side(const std::string& mode);
void check_augmentation_size(const std::string& mode, int64_t height, int64_t width);

} // namespace dlk
