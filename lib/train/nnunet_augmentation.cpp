#include "dlk/train/nnunet_augmentation.h"
#include "dlk/train/augment.h"
#include "dlk/core/error.h"

#include <fmt/format.h>

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

namespace dlk {

namespace F = torch::nn::functional;

namespace {
double uniform(std::mt19937_64& rng, double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }
bool chance(std::mt19937_64& rng, double p) { return uniform(rng, 0, 1) < p; }
// nnU-Net's BGContrast: a factor below 1 or above 1 with p 0.5 each, uniform within that side.
double below_or_above_one(std::mt19937_64& rng, double lo, double hi) {
  if (chance(rng, 0.5) && lo < 1) return uniform(rng, lo, 1);
  return uniform(rng, std::max(lo, 1.0), hi);
}

// Gaussian smoothing of x [N, h, w] along rows and columns (sigma in pixels; 0: that axis left as
// it is), reflected borders, the kernel cut at `reach` sigmas.
torch::Tensor gaussian_smooth(const torch::Tensor& x, double sigma_rows, double sigma_columns, double reach) {
  torch::Tensor y = x.unsqueeze(1); // [N, 1, h, w]
  auto pass = [&](double sigma, bool rows) {
    if (!(sigma > 0)) return;
    const int64_t r = std::max<int64_t>(1, int64_t(reach * sigma + 0.5));
    auto t = torch::arange(-r, r + 1, torch::TensorOptions().dtype(torch::kFloat32));
    auto k = torch::exp(-0.5 * (t / sigma).pow(2));
    k = (k / k.sum()).to(x.device());
    const std::vector<int64_t> pad = rows ? std::vector<int64_t>{0, 0, r, r} : std::vector<int64_t>{r, r, 0, 0};
    y = F::pad(y, F::PadFuncOptions(pad).mode(torch::kReflect));
    y = F::conv2d(y, rows ? k.view({1, 1, -1, 1}) : k.view({1, 1, 1, -1}));
  };
  pass(sigma_rows, true);
  pass(sigma_columns, false);
  return y.squeeze(1);
}

// Rotation, scaling and the elastic field in one resampling: output pixel p (centred, in pixels)
// samples the input at centre + scale * R(rotation) p + displacement(p).
std::pair<torch::Tensor, torch::Tensor> spatial(const NnunetAugmentation& a, const torch::Tensor& image,
                                                const torch::Tensor& label, std::mt19937_64& rng) {
  const int64_t h = image.size(1), w = image.size(2);
  const auto opt = torch::TensorOptions().dtype(torch::kFloat32).device(image.device());
  auto py = (torch::arange(h, opt) - double(h - 1) / 2).view({h, 1}).expand({h, w});
  auto px = (torch::arange(w, opt) - double(w - 1) / 2).view({1, w}).expand({h, w});
  const double c = std::cos(a.rotation) * a.scale, s = std::sin(a.rotation) * a.scale;
  auto x = px * c - py * s + double(w - 1) / 2, y = px * s + py * c + double(h - 1) / 2;
  if (a.elastic) {
    auto field = gaussian_smooth(uniform_noise({2, h, w}, rng).to(image.device()), a.elastic_sigma, a.elastic_sigma, 3.0);
    x = x + field[0] * a.elastic_alpha;
    y = y + field[1] * a.elastic_alpha;
  }
  // grid_sample's normalised coordinates (align_corners false): -1 and 1 are the outer pixel edges.
  auto grid = torch::stack({(2 * x + 1) / double(w) - 1, (2 * y + 1) / double(h) - 1}, -1).unsqueeze(0);
  auto o = F::GridSampleFuncOptions().padding_mode(torch::kZeros).align_corners(false);
  auto img = F::grid_sample(image.unsqueeze(0).to(torch::kFloat32), grid, o.mode(torch::kBilinear)).squeeze(0);
  torch::Tensor lab;
  if (label.defined())
    lab = F::grid_sample(label.view({1, 1, h, w}).to(torch::kFloat32), grid, o.mode(torch::kNearest))
              .view({h, w})
              .round()
              .to(torch::kInt64);
  return {img, lab};
}
} // namespace

NnunetAugmentation draw_nnunet_augmentation(int64_t channels, int64_t h, int64_t w, bool elastic, std::mt19937_64& rng) {
  NnunetAugmentation a;
  const size_t n = size_t(channels);
  // nnU-Net 2-D: rotation over the full circle unless the patch is elongated (configure_rotation_dummyDA_mirroring...).
  const double max_angle = double(std::max(h, w)) / double(std::min(h, w)) > 1.5 ? M_PI / 12 : M_PI;
  const bool rotate = chance(rng, 0.2), scale = chance(rng, 0.2);
  if (rotate) a.rotation = uniform(rng, -max_angle, max_angle);
  if (scale) a.scale = uniform(rng, 0.7, 1.4);
  if (elastic && chance(rng, 0.2)) {
    a.elastic = true;
    a.elastic_alpha = uniform(rng, 0, 200);
    a.elastic_sigma = uniform(rng, 9, 13);
  }
  a.spatial = rotate || scale || a.elastic;
  if (chance(rng, 0.1)) a.noise_sd = std::sqrt(uniform(rng, 0, 0.1));
  a.blur_sigma.assign(n, {0, 0});
  if (chance(rng, 0.2))
    for (auto& s : a.blur_sigma)
      if (chance(rng, 0.5)) s = {uniform(rng, 0.5, 1), uniform(rng, 0.5, 1)};
  a.brightness.assign(n, 1);
  if (chance(rng, 0.15))
    for (auto& m : a.brightness) m = below_or_above_one(rng, 0.75, 1.25);
  a.contrast.assign(n, 1);
  if (chance(rng, 0.15))
    for (auto& f : a.contrast) f = below_or_above_one(rng, 0.75, 1.25);
  a.low_resolution.assign(n, 1);
  if (chance(rng, 0.25))
    for (auto& z : a.low_resolution)
      if (chance(rng, 0.5)) z = uniform(rng, 0.5, 1);
  a.gamma_inverted.assign(n, 0);
  if (chance(rng, 0.1))
    for (auto& g : a.gamma_inverted) g = below_or_above_one(rng, 0.7, 1.5);
  a.gamma.assign(n, 0);
  if (chance(rng, 0.3))
    for (auto& g : a.gamma) g = below_or_above_one(rng, 0.7, 1.5);
  a.mirror_rows = chance(rng, 0.5);
  a.mirror_columns = chance(rng, 0.5);
  return a;
}

namespace {
// Gamma on the range-normalised channel, its mean and SD restored (nnU-Net's GammaTransform with
// retain_stats); `invert`: of the negated channel, negated back.
torch::Tensor gamma_channel(torch::Tensor x, double g, bool invert) {
  if (invert) x = -x;
  const auto mean = x.mean(), sd = x.std();
  const auto lo = x.min(), range = x.max() - lo + 1e-7;
  x = ((x - lo) / range).pow(g) * range + lo;
  x = (x - x.mean()) / (x.std() + 1e-8) * sd + mean;
  return invert ? -x : x;
}
} // namespace

std::pair<torch::Tensor, torch::Tensor> apply_nnunet_augmentation(const NnunetAugmentation& a, const torch::Tensor& image,
                                                                  const torch::Tensor& label, std::mt19937_64& rng) {
  torch::Tensor img = image.to(torch::kFloat32), lab = label;
  if (a.spatial) std::tie(img, lab) = spatial(a, img, lab, rng);
  img = img.clone(); // channels are changed in place below
  const int64_t c = img.size(0), h = img.size(1), w = img.size(2);
  if (a.noise_sd > 0) img += gaussian_noise({c, h, w}, a.noise_sd, rng).to(img.device());
  for (int64_t k = 0; k < c; ++k) {
    const size_t i = size_t(k);
    torch::Tensor x = img[k];
    if (a.blur_sigma[i][0] > 0) x = gaussian_smooth(x.unsqueeze(0), a.blur_sigma[i][0], a.blur_sigma[i][1], 6.0).squeeze(0);
    if (a.brightness[i] != 1) x = x * a.brightness[i];
    if (a.contrast[i] != 1) {
      const auto lo = x.min(), hi = x.max(), mean = x.mean();
      x = torch::clamp((x - mean) * a.contrast[i] + mean, lo.item<double>(), hi.item<double>());
    }
    if (a.low_resolution[i] != 1) {
      const int64_t lh = std::max<int64_t>(1, std::llround(double(h) * a.low_resolution[i]));
      const int64_t lw = std::max<int64_t>(1, std::llround(double(w) * a.low_resolution[i]));
      // nearest-exact by hand: LibTorch 1.13's warns about align_corners on every call
      auto pick = [&](int64_t from, int64_t to) { // source index floor((i + 0.5) * from / to)
        auto i = (torch::arange(to, torch::kFloat64) + 0.5) * (double(from) / double(to));
        return torch::clamp_max(i.floor(), double(from - 1)).to(torch::kInt64).to(x.device());
      };
      auto down = x.index_select(0, pick(h, lh)).index_select(1, pick(w, lw)).view({1, 1, lh, lw});
      x = F::interpolate(down, F::InterpolateFuncOptions()
                                   .size(std::vector<int64_t>{h, w})
                                   .mode(torch::kBilinear)
                                   .align_corners(false))
              .view({h, w});
    }
    if (a.gamma_inverted[i] > 0) x = gamma_channel(x, a.gamma_inverted[i], true);
    if (a.gamma[i] > 0) x = gamma_channel(x, a.gamma[i], false);
    img[k].copy_(x);
  }
  auto flip = [&](int axis) { // 0: rows, 1: columns
    img = torch::flip(img, {axis + 1});
    if (lab.defined()) lab = torch::flip(lab, {axis});
  };
  if (a.mirror_rows) flip(0);
  if (a.mirror_columns) flip(1);
  return {img.contiguous(), lab.defined() ? lab.contiguous() : lab};
}

int64_t augmentation_min_side(const std::string& mode) {
  if (mode == "nnunet") return 8; // the blur reflects up to 6 pixels (6 sigma) at each border
  if (mode == "nnunet-elastic") return 40;
  return 1;
}

void check_augmentation_size(const std::string& mode, int64_t height, int64_t width) {
  const int64_t least = augmentation_min_side(mode);
  if (height < least || width < least)
    throw UsageError(fmt::format("--augment {}: --size {}x{} is below the {}x{} pixels its {} needs", mode, height,
                                 width, least, least,
                                 mode == "nnunet-elastic" ? "elastic deformation (a field smoothed over 3 sigma = 39 pixels)"
                                                          : "blur (a reflected border of 6 sigma = 6 pixels)"));
}

} // namespace dlk
