// dlk's depthwise convolution against LibTorch's conv2d (groups = channels): on the CPU always,
// on CUDA where a GPU is present (forward and the gradients of input, weight and bias, in fp32,
// bf16 and fp16 and under autocast), and the whole network with dlk's kernels against the same
// network with LibTorch's.
#include "dlk/model/depthwise_conv.h"
#include "dlk/model/model.h"
#include "dlk/model/torch_compat.h"

#include <catch2/catch.hpp>

#include <torch/torch.h>

using namespace dlk;

namespace {
torch::Tensor reference(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, int64_t d) {
  return torch::conv2d(x, w, b, 1, d * (w.size(2) - 1) / 2, d, x.size(1));
}
double rel_error(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max() / b.to(torch::kDouble).abs().max().clamp_min(1e-30))
      .item<double>();
}
// A DLKUNet with 16 base channels, in evaluation.
DLKUNet small_model(const std::string& variant) {
  ModelConfig c;
  c.variant = variant;
  c.base_channels = 16;
  DLKUNet m(c);
  m->eval();
  return m;
}
struct Shape { int64_t n, c, h, w, k, d; };
// DLKUNet's three kernels at its sizes, and odd sizes that cross tile edges.
const Shape shapes[] = {{2, 96, 224, 224, 3, 1}, {2, 96, 224, 224, 7, 3}, {3, 192, 56, 56, 5, 1},
                        {2, 5, 37, 45, 7, 3},    {1, 3, 7, 9, 5, 1},      {4, 384, 14, 14, 7, 3}};
} // namespace

TEST_CASE("depthwise conv: CPU inference equals LibTorch's conv2d", "[kernels]") {
  torch::manual_seed(3);
  torch::NoGradGuard no_grad;
  REQUIRE(depthwise_backend(torch::kCPU, false).rfind("dlk-cpu", 0) == 0);
  for (auto s : shapes) {
    if (s.d == 1) s.d = 2; // the CPU kernel serves the dilated convs (the others are LibTorch's)
    auto x = torch::randn({s.n, s.c, s.h, s.w});
    auto w = torch::randn({s.c, 1, s.k, s.k});
    auto b = torch::randn({s.c});
    INFO("shape " << x.sizes() << " k=" << s.k << " d=" << s.d);
    CHECK(rel_error(depthwise_conv2d(x, w, b, s.d), reference(x, w, b, s.d)) < 1e-5);
  }
  // A channels-last input gives the same numbers.
  auto x = torch::randn({2, 8, 20, 20}).contiguous(torch::MemoryFormat::ChannelsLast);
  auto w = torch::randn({8, 1, 3, 3}), b = torch::randn({8});
  CHECK(rel_error(depthwise_conv2d(x, w, b, 3), reference(x, w, b, 3)) < 1e-5);
}

TEST_CASE("depthwise conv: CPU training (dlk's kernels) gives LibTorch's gradients, NCHW and channels-last", "[kernels]") {
  REQUIRE(depthwise_backend(torch::kCPU, true).rfind("dlk-cpu", 0) == 0);
  torch::manual_seed(7);
  for (const auto& s : shapes)
    for (const auto layout : {torch::MemoryFormat::Contiguous, torch::MemoryFormat::ChannelsLast}) {
      const int64_t n = std::min<int64_t>(s.n, 2), hw = std::min<int64_t>(s.h, 40); // small enough for CI
      auto x0 = torch::randn({n, s.c, hw, hw + 3}).contiguous(layout);
      auto w0 = torch::randn({s.c, 1, s.k, s.k}), b0 = torch::randn({s.c});
      auto g = torch::randn({n, s.c, hw, hw + 3});
      auto x = x0.clone().requires_grad_(), w = w0.clone().requires_grad_(), b = b0.clone().requires_grad_();
      auto y = depthwise_conv2d(x, w, b, s.d);
      y.backward(g);
      auto xr = x0.to(torch::kDouble).requires_grad_(), wr = w0.to(torch::kDouble).requires_grad_(),
           br = b0.to(torch::kDouble).requires_grad_();
      reference(xr, wr, br, s.d).backward(g.to(torch::kDouble));
      INFO("shape " << x0.sizes() << " k=" << s.k << " d=" << s.d << " channels-last " << (layout == torch::MemoryFormat::ChannelsLast));
      CHECK(y.suggest_memory_format() == x0.suggest_memory_format());
      CHECK(rel_error(y, reference(xr, wr, br, s.d)) < 1e-5);
      CHECK(rel_error(x.grad(), xr.grad()) < 1e-5);
      CHECK(rel_error(w.grad(), wr.grad()) < 1e-5);
      CHECK(rel_error(b.grad(), br.grad()) < 1e-5);
    }
}

TEST_CASE("depthwise conv: DLKUNet in evaluation with dlk's kernels equals it with LibTorch's", "[kernels][model]") {
  torch::manual_seed(5);
  DLKUNet m = small_model("S");
  torch::NoGradGuard no_grad;
  auto x = torch::randn({2, 1, 64, 72});
  auto ours = m->forward(x);
  use_depthwise_kernels(false);
  auto theirs = m->forward(x);
  use_depthwise_kernels(true);
  CHECK(rel_error(ours, theirs) < 1e-5);
}

TEST_CASE("depthwise conv: CUDA forward and gradients equal LibTorch's (runs where a GPU is)", "[kernels][cuda]") {
  if (!compat::cuda_available()) {
    WARN("SKIP: no CUDA device; the CUDA depthwise kernels are tested on the GPU machine");
    return;
  }
  REQUIRE(depthwise_backend(torch::kCUDA, true) == "dlk-cuda"); // built with the kernels
  torch::manual_seed(11);
  const auto dev = torch::Device(torch::kCUDA);
  // fp32 sums of <= 49 products per output, and weight-gradient sums over whole batches (up to
  // 2.4 million terms, summed in tiles and then across tiles): relative errors well under 1e-4. bf16/fp16: the inputs are rounded to 8/11 bits, the
  // sums are fp32 in both implementations, the outputs rounded once: a few 1e-3 (bf16: 2^-8).
  struct Precision { at::ScalarType t; double tol; };
  // NCHW inputs go to the NCHW kernels; channels-last ones to the NHWC kernels where the channels
  // are a multiple of 4 (else through NCHW and back), with the output gradient in either layout.
  const auto CL = torch::MemoryFormat::ChannelsLast, NCHW = torch::MemoryFormat::Contiguous;
  struct Layout { torch::MemoryFormat x, g; };
  for (const auto p : {Precision{at::kFloat, 1e-4}, Precision{at::kBFloat16, 2e-2}, Precision{at::kHalf, 4e-3}})
  for (const auto l : {Layout{NCHW, NCHW}, Layout{CL, CL}, Layout{CL, NCHW}}) {
    for (const auto& s : shapes) {
      auto x0 = torch::randn({s.n, s.c, s.h, s.w}, dev).to(p.t).contiguous(l.x);
      auto w0 = torch::randn({s.c, 1, s.k, s.k}, dev);
      auto b0 = torch::randn({s.c}, dev);
      auto g = torch::randn({s.n, s.c, s.h, s.w}, dev).to(p.t).contiguous(l.g);
      auto x = x0.clone().requires_grad_(), w = w0.clone().requires_grad_(), b = b0.clone().requires_grad_();
      auto y = depthwise_conv2d(x, w, b, s.d);
      y.backward(g);
      // The reference in fp64 from the same (rounded) inputs: the exact answer for them.
      auto xr = x0.to(torch::kDouble).requires_grad_(), wr = w0.to(torch::kDouble).requires_grad_(),
           br = b0.to(torch::kDouble).requires_grad_();
      auto yr = reference(xr, wr, br, s.d);
      yr.backward(g.to(torch::kDouble));
      INFO("dtype " << p.t << " shape " << x0.sizes() << " k=" << s.k << " d=" << s.d << " channels-last x "
                    << (l.x == CL) << " dy " << (l.g == CL));
      CHECK(y.scalar_type() == p.t);
      CHECK(y.suggest_memory_format() == x0.suggest_memory_format()); // the input's layout kept
      CHECK(rel_error(y, yr) < p.tol);
      CHECK(rel_error(x.grad(), xr.grad()) < p.tol);
      CHECK(rel_error(w.grad(), wr.grad()) < p.tol);
      CHECK(rel_error(b.grad(), br.grad()) < p.tol);
    }
  }
  // Under bf16 autocast the output is bf16, as conv2d's would be, and fp32 parameters get fp32 grads.
  auto x = torch::randn({2, 8, 30, 30}, dev);
  auto w = torch::randn({8, 1, 7, 7}, dev).requires_grad_();
  auto b = torch::randn({8}, dev).requires_grad_();
  {
    compat::CudaAutocast ac(true, at::kBFloat16);
    auto y = depthwise_conv2d(x, w, b, 3);
    CHECK(y.scalar_type() == at::kBFloat16);
    y.to(torch::kFloat).sum().backward();
  }
  CHECK(w.grad().scalar_type() == at::kFloat);
  CHECK(w.grad().abs().sum().item<double>() > 0);
  // A channels-last tensor that starts one element off the vector alignment: copied, right.
  auto flat = torch::randn({1 + 2 * 20 * 20 * 8}, dev);
  auto xv = flat.narrow(0, 1, 2 * 20 * 20 * 8).view({2, 20, 20, 8}).permute({0, 3, 1, 2});
  REQUIRE(xv.is_contiguous(CL));
  auto wv = torch::randn({8, 1, 3, 3}, dev), bv = torch::randn({8}, dev);
  CHECK(rel_error(depthwise_conv2d(xv, wv, bv, 1), reference(xv, wv, bv, 1)) < 1e-4);
}

TEST_CASE("depthwise conv: bf16 on the CPU (dilated: fp32 sums, bf16 out) and DLKUNet under CPU bf16 autocast", "[kernels]") {
  torch::manual_seed(9);
  torch::NoGradGuard no_grad;
  auto x = torch::randn({2, 6, 33, 40}).to(torch::kBFloat16);
  auto w = torch::randn({6, 1, 7, 7}), b = torch::randn({6});
  auto y = depthwise_conv2d(x, w, b, 3);
  CHECK(y.scalar_type() == torch::kBFloat16);
  // The exact answer for the rounded inputs, then one rounding to bf16 (8 bits): 2^-8 relative.
  CHECK(rel_error(y, reference(x.to(torch::kDouble), w.to(torch::kDouble), b.to(torch::kDouble), 3)) < 8e-3);

  DLKUNet m = small_model("S");
  auto img = torch::randn({1, 1, 64, 64});
  auto fp32 = m->forward(img);
  torch::Tensor bf16;
  {
    compat::CpuAutocast ac(true, at::kBFloat16);
    bf16 = m->forward(img).to(torch::kFloat);
  }
  // bf16 carries 8 significant bits through ~20 layers: agreement to a few per cent of the scale.
  CHECK(rel_error(bf16, fp32) < 0.1);
  CHECK(rel_error(bf16, fp32) > 0); // it did compute in bf16
}

TEST_CASE("depthwise conv: channels-last on the CPU, and DLKUNet run channels-last equals it run NCHW", "[kernels]") {
  torch::manual_seed(13);
  torch::NoGradGuard no_grad;
  auto x = torch::randn({2, 24, 30, 27}).contiguous(torch::MemoryFormat::ChannelsLast);
  auto w = torch::randn({24, 1, 7, 7}), b = torch::randn({24});
  auto y = depthwise_conv2d(x, w, b, 3);
  CHECK(y.is_contiguous(torch::MemoryFormat::ChannelsLast));
  CHECK(rel_error(y, reference(x.contiguous(), w, b, 3)) < 1e-5);
  auto yb = depthwise_conv2d(x.to(torch::kBFloat16), w, b, 3);
  CHECK(rel_error(yb, reference(x.to(torch::kBFloat16).to(torch::kDouble), w.to(torch::kDouble), b.to(torch::kDouble), 3)) < 8e-3);

  DLKUNet m = small_model("M");
  auto img = torch::randn({2, 1, 66, 70});
  auto nchw = m->forward(img);
  // A one-channel input made channels-last by contiguous() keeps NCHW strides (LibTorch 1.13), and
  // the network then runs NCHW; channels_last_input gives it channels-last strides, and the
  // network follows.
  const auto CL = torch::MemoryFormat::ChannelsLast;
  auto from_input = m->forward(channels_last_input(img));
  CHECK(from_input.suggest_memory_format() == CL);
  CHECK(rel_error(from_input, nchw) < 1e-5);
}
