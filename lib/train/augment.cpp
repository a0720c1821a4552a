#include "dlk/train/augment.h"
#include "dlk/train/nnunet_augmentation.h"
#include "dlk/io/resampling.h"
#include "dlk/io/slices.h"
#include "trainer_parts.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace dlk {

namespace F = torch::nn::functional;

torch::Tensor rotate_nearest(const torch::Tensor& chw, double degrees) {
  // Output pixel (x, y) (centred, in pixels) samples the input at R(-a)(x, y). affine_grid's
  // coordinates are normalized per axis (u = x / (W/2)), hence the aspect factors.
  const int64_t h = chw.size(1), w = chw.size(2);
  const double a = degrees * M_PI / 180.0, c = std::cos(a), s = std::sin(a);
  auto theta = torch::tensor({{c, s * double(h) / double(w), 0.0}, {-s * double(w) / double(h), c, 0.0}},
                             torch::TensorOptions().dtype(torch::kFloat32))
                   .unsqueeze(0)
                   .to(chw.device());
  auto x = chw.unsqueeze(0).to(torch::kFloat32);
  auto grid = F::affine_grid(theta, {1, chw.size(0), h, w}, false);
  auto out = F::grid_sample(x, grid, F::GridSampleFuncOptions().mode(torch::kNearest).padding_mode(torch::kZeros).align_corners(false));
  return out.squeeze(0);
}

namespace {
// The image interpolated to height x width (bilinear, or bicubic), the label (if defined) by
// nearest neighbour.
std::pair<torch::Tensor, torch::Tensor> interpolate_pair(const torch::Tensor& image, const torch::Tensor& label,
                                                         int64_t height, int64_t width, bool bilinear) {
  auto o = F::InterpolateFuncOptions().size(std::vector<int64_t>{height, width}).align_corners(false);
  if (bilinear) o.mode(torch::kBilinear);
  else o.mode(torch::kBicubic);
  auto img = F::interpolate(image.unsqueeze(0), o).squeeze(0);
  torch::Tensor lab;
  if (label.defined())
    lab = F::interpolate(label.unsqueeze(0).unsqueeze(0).to(torch::kFloat32),
                         F::InterpolateFuncOptions().size(std::vector<int64_t>{height, width}).mode(torch::kNearest))
              .squeeze(0)
              .squeeze(0)
              .to(torch::kInt64);
  return {img, lab};
}
} // namespace

std::pair<torch::Tensor, torch::Tensor> resize_slice(const torch::Tensor& image, const torch::Tensor& label, int64_t height,
                                                     int64_t width) {
  if (height <= 0 || (image.size(1) == height && image.size(2) == width)) return {image, label};
  return interpolate_pair(image, label, height, width, false);
}

std::pair<torch::Tensor, torch::Tensor> resample_slice(const torch::Tensor& image, const torch::Tensor& label,
                                                       const std::array<double, 2>& from, const std::vector<double>& to) {
  const int64_t h = image.size(1), w = image.size(2);
  const auto [th, tw] = resampled_size(h, w, from, {{to.at(0), to.at(1)}}); // within the limits: checked per shard first
  if (th == h && tw == w) return {image, label};
  return interpolate_pair(image, label, th, tw, true);
}

std::pair<torch::Tensor, torch::Tensor> crop_or_pad(const torch::Tensor& image, const torch::Tensor& label, int64_t height,
                                                    int64_t width, std::mt19937_64* rng) {
  // Per axis: the offset of the window in the slice (a crop) or of the slice in the window (a pad).
  auto offset = [&](int64_t have, int64_t want) -> int64_t {
    const int64_t slack = std::abs(have - want);
    return rng ? int64_t((*rng)() % uint64_t(slack + 1)) : slack / 2;
  };
  const int64_t h = image.size(1), w = image.size(2), oy = offset(h, height), ox = offset(w, width);
  auto img = torch::zeros({image.size(0), height, width}, image.options());
  auto lab = label.defined() ? torch::zeros({height, width}, label.options()) : torch::Tensor();
  // Rows [sy, sy + n) of the slice go to rows [dy, dy + n) of the window; likewise columns.
  const int64_t sy = h > height ? oy : 0, dy = h > height ? 0 : oy, ny = std::min(h, height);
  const int64_t sx = w > width ? ox : 0, dx = w > width ? 0 : ox, nx = std::min(w, width);
  img.narrow(1, dy, ny).narrow(2, dx, nx).copy_(image.narrow(1, sy, ny).narrow(2, sx, nx));
  if (lab.defined()) lab.narrow(0, dy, ny).narrow(1, dx, nx).copy_(label.narrow(0, sy, ny).narrow(1, sx, nx));
  return {img, lab};
}

std::pair<torch::Tensor, torch::Tensor> augment_slice(const torch::Tensor& image, const torch::Tensor& label,
                                                      const std::string& mode, std::mt19937_64& rng, int64_t height,
                                                      int64_t width) {
  std::uniform_real_distribution<double> u(0, 1);
  torch::Tensor img = image, lab = label;
  auto rot90 = [&](int k) {
    if (k % 4 == 0) return;
    img = torch::rot90(img, k, {1, 2});
    if (lab.defined()) lab = torch::rot90(lab, k, {0, 1});
  };
  auto flip = [&](int axis) { // axis 0: rows, 1: columns
    img = torch::flip(img, {axis + 1});
    if (lab.defined()) lab = torch::flip(lab, {axis});
  };
  if (mode == "paper") {
    if (u(rng) < 0.5) flip(int(rng() % 2));
    if (u(rng) < 0.5) rot90(1 + int(rng() % 3));
  } else if (mode == "transunet") {
    if (u(rng) > 0.5) {
      rot90(int(rng() % 4));
      flip(int(rng() % 2));
    } else if (u(rng) > 0.5) {
      const int angle = -20 + int(rng() % 40); // integer degrees in [-20, 19]
      img = rotate_nearest(img, angle);
      if (lab.defined())
        lab = rotate_nearest(lab.unsqueeze(0).to(torch::kFloat32), angle).squeeze(0).round().to(torch::kInt64);
    }
  } else if (mode == "nnunet" || mode == "nnunet-elastic") { // at the model's size, as nnU-Net augments its patches
    auto r = resize_slice(img, lab, height, width);
    const auto a = draw_nnunet_augmentation(r.first.size(0), r.first.size(1), r.first.size(2), mode == "nnunet-elastic", rng);
    return apply_nnunet_augmentation(a, r.first, r.second, rng);
  } else if (mode != "none") {
    throw std::invalid_argument("unknown augmentation " + mode);
  }
  return resize_slice(img.contiguous(), lab.defined() ? lab.contiguous() : lab, height, width);
}

std::pair<torch::Tensor, torch::Tensor> training_slice(const LoadedSlice& in, const ShardMeta& m, const TrainOptions& o,
                                                       const std::vector<double>& spacing, const torch::Device& dev,
                                                       std::mt19937_64& rng) {
  auto r = std::make_pair(in.image.to(dev, /*non_blocking=*/true), in.label.defined() ? in.label.to(dev, true) : in.label);
  if (spacing.empty()) return augment_slice(r.first, r.second, o.augment, rng, o.height, o.width);
  r = resample_slice(r.first, r.second, slice_spacing(m.grid(), m.axis), spacing); // a window at the target spacing
  if (o.augment.rfind("nnunet", 0) == 0) { // nnU-Net augments the patch, at the model's size
    r = crop_or_pad(r.first, r.second, o.height, o.width, &rng);
    return augment_slice(r.first, r.second, o.augment, rng, 0, 0);
  }
  r = augment_slice(r.first, r.second, o.augment, rng, 0, 0);
  return crop_or_pad(r.first, r.second, o.height, o.width, &rng);
}

torch::Tensor uniform_noise(const std::vector<int64_t>& sizes, std::mt19937_64& rng) {
  auto t = torch::empty(sizes, torch::kFloat32);
  float* p = t.data_ptr<float>();
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = u(rng);
  return t;
}

torch::Tensor gaussian_noise(const std::vector<int64_t>& sizes, double sd, std::mt19937_64& rng, double clip) {
  if (!(sd > 0)) return torch::zeros(sizes, torch::kFloat32); // the distribution needs sd > 0
  auto t = torch::empty(sizes, torch::kFloat32);
  float* p = t.data_ptr<float>();
  std::normal_distribution<float> n(0.0f, float(sd));
  if (clip > 0) {
    const float lim = float(clip * sd);
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = std::clamp(n(rng), -lim, lim);
  } else {
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = n(rng);
  }
  return t;
}

} // namespace dlk
