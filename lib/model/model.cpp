#include "dlk/model/model.h"

#include "dlk/model/depthwise_conv.h"

#include <torch/torch.h>

namespace dlk {

namespace nn = torch::nn;

static nn::Conv2d conv(int64_t cin, int64_t cout, int64_t k, int64_t groups = 1, int64_t dilation = 1) {
  // "Same" padding for odd kernels; every conv has a bias (spec 1).
  return nn::Conv2d(nn::Conv2dOptions(cin, cout, k).padding(dilation * (k - 1) / 2).dilation(dilation).groups(groups).bias(true));
}

SepConvImpl::SepConvImpl(int64_t cin, int64_t cout, int64_t kernel) {
  dw = register_module("dw", conv(cin, cin, kernel, cin));
  pw = register_module("pw", conv(cin, cout, 1));
}
// A depthwise Conv2d module's parameters applied by dlk's depthwise kernels where there are some.
static torch::Tensor depthwise(nn::Conv2d& m, const torch::Tensor& x) {
  return depthwise_conv2d(x, m->weight, m->bias, m->options.dilation()->at(0));
}

torch::Tensor SepConvImpl::forward(const torch::Tensor& x) { return pw(depthwise(dw, x)); }

LKAImpl::LKAImpl(int64_t c, int64_t kernel, int64_t dilated_kernel, int64_t dilation) {
  dw = register_module("dw", conv(c, c, kernel, c));
  dwd = register_module("dwd", conv(c, c, dilated_kernel, c, dilation));
  pw = register_module("pw", conv(c, c, 1));
}
torch::Tensor LKAImpl::forward(const torch::Tensor& x) { return x * pw(depthwise(dwd, depthwise(dw, x))); }

EBlockImpl::EBlockImpl(int64_t cin, int64_t cout, const ModelConfig& cfg) {
  sep1 = register_module("sep1", SepConv(cin, cout, cfg.dw_kernel));
  bn1 = register_module("bn1", nn::BatchNorm2d(cout));
  sep2 = register_module("sep2", SepConv(cout, cout, cfg.dw_kernel));
  bn2 = register_module("bn2", nn::BatchNorm2d(cout));
  lka = register_module("lka", LKA(cout, cfg.lka_kernel, cfg.lka_dilated_kernel, cfg.lka_dilation));
}
// Separable conv then BN. Out of training BN is an affine map per channel, folded into the
// pointwise conv's weights and bias: one conv instead of conv + BN.
static torch::Tensor sep_bn(SepConv& s, torch::nn::BatchNorm2d& bn, const torch::Tensor& x, bool training) {
  if (training) return bn(s(x));
  auto scale = bn->weight / torch::sqrt(bn->running_var + bn->options.eps());
  auto w = s->pw->weight * scale.view({-1, 1, 1, 1});
  auto b = (s->pw->bias - bn->running_mean) * scale + bn->bias;
  return torch::conv2d(depthwise(s->dw, x), w, b);
}

torch::Tensor EBlockImpl::forward(const torch::Tensor& x) {
  auto t = torch::relu(sep_bn(sep1, bn1, x, is_training()));
  t = torch::relu(sep_bn(sep2, bn2, t, is_training())); // the code's ReLU after the second BN (spec 5.3)
  return lka(t);
}

// Pixel shuffle by 2 as a view, a permutation and one copy: [N, 4C, H, W] with channels (c, a, b)
// -> [N, C, 2H, 2W], out[c][2h+a][2w+b] = in[4c+2a+b][h][w]. LibTorch 1.13's own pixel_shuffle
// takes 2.5x as long on a CPU.
static torch::Tensor shuffle2(const torch::Tensor& t) {
  const int64_t n = t.size(0), c = t.size(1) / 4, h = t.size(2), w = t.size(3);
  if (!t.is_contiguous() && t.is_contiguous(torch::MemoryFormat::ChannelsLast)) { // stays channels-last
    auto nhwc = t.permute({0, 2, 3, 1}).view({n, h, w, c, 2, 2}); // [n][h][w][c][a][b]
    return nhwc.permute({0, 1, 4, 2, 5, 3}).reshape({n, 2 * h, 2 * w, c}).permute({0, 3, 1, 2});
  }
  return t.view({n, c, 2, 2, h, w}).permute({0, 1, 4, 2, 5, 3}).reshape({n, c, 2 * h, 2 * w});
}

// 2x2 max-pooling with stride 2 (an odd last row or column dropped, as max_pool2d does). Without
// autograd: the maximum of the four strided sub-grids, 9x faster than LibTorch 1.13's
// max_pool2d on a CPU, which also computes the indices that only its backward needs. With
// autograd, max_pool2d (its gradient goes to one element of a tie, as the paper's code does).
static torch::Tensor max_pool_2x2(const torch::Tensor& x) {
  if (torch::GradMode::is_enabled()) return torch::max_pool2d(x, 2, 2);
  const int64_t h = x.size(2) / 2 * 2, w = x.size(3) / 2 * 2;
  auto at = [&](int64_t a, int64_t b) { return x.slice(2, a, h, 2).slice(3, b, w, 2); };
  return torch::maximum(torch::maximum(at(0, 0), at(0, 1)), torch::maximum(at(1, 0), at(1, 1)));
}

DFBImpl::DFBImpl(int64_t cin, int64_t cout, const ModelConfig& cfg) {
  up = register_module("up", nn::ConvTranspose2d(nn::ConvTranspose2dOptions(cin, cout, 2).stride(2).bias(true)));
  block = register_module("block", EBlock(2 * cout, cout, cfg));
}
torch::Tensor DFBImpl::forward(const torch::Tensor& deep, const torch::Tensor& skip) {
  // ConvTranspose(k2, s2) computed as what it is: a 1x1 conv to 4 x cout channels, then a pixel
  // shuffle (out[o, 2i+a, 2j+b] = sum_c x[c, i, j] W[c, o, a, b] + bias[o]). One GEMM instead of
  // LibTorch's slow_conv_transpose2d on CPUs; the parameters (and checkpoints) stay ConvTranspose's.
  const auto& w = up->weight; // [cin, cout, 2, 2]
  auto w1 = w.permute({1, 2, 3, 0}).reshape({w.size(1) * 4, w.size(0), 1, 1});
  auto b1 = up->bias.repeat_interleave(4);
  auto u = shuffle2(torch::conv2d(deep, w1, b1));
  const int64_t dy = skip.size(2) - u.size(2), dx = skip.size(3) - u.size(3);
  if (dx != 0 || dy != 0) // centred zero padding; the extra pixel goes right/bottom
    u = torch::nn::functional::pad(u, torch::nn::functional::PadFuncOptions({dx / 2, dx - dx / 2, dy / 2, dy - dy / 2}));
  return block(torch::cat({skip, u}, 1));
}

DLKUNetImpl::DLKUNetImpl(const ModelConfig& cfg) : config(cfg) {
  config.validate();
  const int D = config.depth();
  stem = register_module("stem", EBlock(config.in_channels, config.channels(0), config));
  for (int i = 1; i <= D; ++i)
    encoders.push_back(register_module("enc" + std::to_string(i), EBlock(config.channels(i - 1), config.channels(i), config)));
  for (int i = D - 1; i >= 0; --i)
    decoders.push_back(register_module("dfb" + std::to_string(i), DFB(config.channels(i + 1), config.channels(i), config)));
  head = register_module("head", conv(config.channels(0), config.classes, 1));
}

std::vector<torch::Tensor> DLKUNetImpl::decode(const torch::Tensor& x) {
  std::vector<torch::Tensor> skips{stem(x)};
  for (auto& e : encoders) skips.push_back(e(max_pool_2x2(skips.back())));
  std::vector<torch::Tensor> out{skips.back()};
  for (size_t k = 0; k < decoders.size(); ++k) out.push_back(decoders[k](out.back(), skips[skips.size() - 2 - k]));
  out.erase(out.begin()); // the bottleneck is no decoder output
  return out;
}

torch::Tensor DLKUNetImpl::forward(const torch::Tensor& x) { return head(decode(x).back()); }

torch::Tensor channels_last_input(const torch::Tensor& x) {
  auto y = torch::empty(x.sizes(), x.options().memory_format(torch::MemoryFormat::ChannelsLast));
  return y.copy_(x);
}

int64_t parameter_count(const torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

} // namespace dlk
