// Validation during training: the mean Dice per class over the val split's cases.
#include "dlk/io/slices.h"
#include "dlk/metrics/metrics.h"
#include "dlk/model/torch_compat.h"
#include "dlk/train/augment.h"
#include "trainer_parts.h"

#include <cmath>

namespace dlk {

namespace {

// Slices [from, to) of a case at the model size on `dev`: images [N, C, H, W] and labels [N, H, W].
std::pair<torch::Tensor, torch::Tensor> read_batch(ShardFile& sf, int64_t from, int64_t to, const TrainOptions& o,
                                                   const torch::Device& dev, const std::vector<double>& spacing) {
  std::vector<torch::Tensor> imgs, labs;
  for (int64_t s = from; s < to; ++s) {
    auto r = model_slice(sf, s, o, dev, spacing);
    imgs.push_back(r.first);
    labs.push_back(r.second);
  }
  return {torch::stack(imgs), torch::stack(labs)};
}

// A case's voxel counts per class over its whole stack: predicted and true together
// (intersection), predicted, true.
struct ClassCounts {
  torch::Tensor inter, pred, truth; // [classes] float64 on the CPU
};

ClassCounts count_case(DLKUNet& model, ShardFile& sf, const TrainOptions& o, const torch::Device& dev, int64_t classes,
                       const std::vector<double>& spacing) {
  const ShardMeta& m = sf.meta();
  torch::Tensor I = torch::zeros({classes}, torch::kFloat64), P = I.clone(), R = I.clone();
  for (int64_t s0 = 0; s0 < m.n_slices; s0 += o.batch) {
    auto [x, t] = read_batch(sf, s0, std::min(m.n_slices, s0 + o.batch), o, dev, spacing);
    if (use_channels_last(o, dev)) x = channels_last_input(x);
    compat::CudaAutocast ac(dev.is_cuda() && o.precision != "fp32", o.precision == "fp16" ? at::kHalf : at::kBFloat16);
    auto p = model->forward(x).argmax(1);
    auto po = torch::one_hot(p, classes).sum({0, 1, 2}).to(torch::kCPU, torch::kFloat64);
    auto to = torch::one_hot(t, classes).sum({0, 1, 2}).to(torch::kCPU, torch::kFloat64);
    auto io = torch::one_hot(torch::where(p == t, p, torch::full_like(p, classes)), classes + 1)
                  .sum({0, 1, 2})
                  .slice(0, 0, classes)
                  .to(torch::kCPU, torch::kFloat64);
    I += io;
    P += po;
    R += to;
  }
  return {I, P, R};
}

} // namespace

std::pair<torch::Tensor, torch::Tensor> model_slice(ShardFile& sf, int64_t s, const TrainOptions& o, const torch::Device& dev,
                                                    const std::vector<double>& spacing) {
  const ShardMeta& m = sf.meta();
  Slice sl = sf.read_slice(s);
  auto img = torch::from_blob(sl.image.data(), {m.channel_count(), m.height, m.width}, torch::kFloat32).clone().to(dev);
  torch::Tensor lab;
  if (!sl.label.empty()) lab = torch::from_blob(sl.label.data(), {m.height, m.width}, torch::kUInt8).to(torch::kInt64).to(dev);
  auto r = spacing.empty() ? resize_slice(img, lab, o.height, o.width)
                           : resample_slice(img, lab, slice_spacing(m.grid(), m.axis), spacing);
  if (!spacing.empty()) r = crop_or_pad(r.first, r.second, o.height, o.width, nullptr);
  return r;
}

std::vector<double> validation_dice(DLKUNet& model, const std::vector<std::shared_ptr<ShardFile>>& shards,
                                    const TrainOptions& o, const torch::Device& dev, int64_t classes,
                                    const std::vector<double>& spacing) {
  torch::NoGradGuard no_grad;
  model->eval();
  std::vector<double> sum(size_t(classes - 1), 0.0);
  std::vector<int64_t> n(size_t(classes - 1), 0);
  for (auto& sf : shards) {
    const ClassCounts k = count_case(model, *sf, o, dev, classes, spacing);
    for (int64_t c = 1; c < classes; ++c) { // counts of voxels: whole numbers, exact in float64
      const double dice = dice_from_counts(int64_t(k.inter[c].item<double>()), int64_t(k.pred[c].item<double>()),
                                           int64_t(k.truth[c].item<double>()));
      if (std::isnan(dice)) continue; // absent from both
      sum[size_t(c - 1)] += dice;
      ++n[size_t(c - 1)];
    }
  }
  std::vector<double> out;
  for (size_t c = 0; c < sum.size(); ++c) out.push_back(n[c] ? sum[c] / double(n[c]) : std::nan(""));
  model->train();
  return out;
}

double nanmean(const std::vector<double>& v) {
  double s = 0;
  int n = 0;
  for (double x : v)
    if (!std::isnan(x)) s += x, ++n;
  return n ? s / n : std::nan("");
}

} // namespace dlk
