// Per-slice augmentation and resizing of training and validation slices.
#pragma once
#include <torch/types.h>

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace dlk {

// Per-slice augmentation, drawn from `rng` and applied on the tensors' device:
//   paper:     flip (p 0.5, random axis), then rot90 by 1..3 quarter turns (p 0.5)
//   transunet: p 0.5 rot90 by k in 0..3 then a flip; else p 0.5 rotation by an integer angle in
//              [-20, 19] degrees, nearest neighbour for image and label, zeros outside
//   nnunet, nnunet-elastic: nnU-Net's (nnunet_augmentation.h), after the resizing, at the model size
//   none
// then resizing to height x width (bicubic for the image, nearest for the label; none when height
// is 0). image [C, h, w] float, label [h, w] int64 (or undefined: an unlabelled slice); returns
// the pair at the model size. The random draws do not depend on the label.
std::pair<torch::Tensor, torch::Tensor> augment_slice(const torch::Tensor& image, const torch::Tensor& label,
                                                      const std::string& mode, std::mt19937_64& rng, int64_t height,
                                                      int64_t width);
// Resize only (validation and inference): bicubic image, nearest label (label may be undefined).
std::pair<torch::Tensor, torch::Tensor> resize_slice(const torch::Tensor& image, const torch::Tensor& label,
                                                     int64_t height, int64_t width);
// Resampling from spacing `from` to `to` ([x, y]: mm between columns, between rows): bilinear
// image, nearest label (which may be undefined); the size is the physical extent over `to`, rounded.
std::pair<torch::Tensor, torch::Tensor> resample_slice(const torch::Tensor& image, const torch::Tensor& label,
                                                       const std::array<double, 2>& from, const std::vector<double>& to);
// Cropped or padded with zeros (background) to height x width: at offsets drawn from `rng`, or
// centred without one. Training and validation slices resampled to a spacing fit the model so.
std::pair<torch::Tensor, torch::Tensor> crop_or_pad(const torch::Tensor& image, const torch::Tensor& label, int64_t height,
                                                    int64_t width, std::mt19937_64* rng);
// Rotation by `degrees` about the centre (positive: clockwise as displayed, rows down), nearest
// neighbour, zeros outside (exposed for tests).
torch::Tensor rotate_nearest(const torch::Tensor& chw, double degrees);

// Noise drawn on the host from `rng`, float32 on the CPU, so that it is a pure function of the
// slice's stream whatever the device: uniform on [-1, 1), and Gaussian of standard deviation `sd`
// (zeros when sd is 0), clipped to [-clip sd, clip sd] when clip > 0 (the semi-supervised input
// noise clips at 2; nnU-Net's does not clip).
torch::Tensor uniform_noise(const std::vector<int64_t>& sizes, std::mt19937_64& rng);
torch::Tensor gaussian_noise(const std::vector<int64_t>& sizes, double sd, std::mt19937_64& rng, double clip = 0);

} // namespace dlk
