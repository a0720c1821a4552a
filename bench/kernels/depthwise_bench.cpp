// dlk-depthwise-bench [cpu|cuda]: DLKUNet's three depthwise convs at its first level (24 x 96 x
// 224 x 224 on CUDA in bf16, forward and forward + backward; 8 slices on the CPU in fp32, forward)
// with dlk's kernels and with LibTorch's conv2d (NCHW, and channels-last on CUDA, where dlk's
// channels-last kernels run on channels-last input). Median of 15
// runs after 3 warm-up runs. Prints a Markdown table.
#include "dlk/cli/tool.h"
#include "dlk/model/depthwise_conv.h"
#include "dlk/model/torch_compat.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace {

double median_ms(const std::function<void()>& f, bool cuda) {
  std::vector<double> t;
  for (int i = 0; i < 18; ++i) {
    if (cuda) torch::cuda::synchronize();
    const auto a = std::chrono::steady_clock::now();
    f();
    if (cuda) torch::cuda::synchronize();
    if (i >= 3) t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

} // namespace

int main(int argc, char** argv) {
  const std::string where = argc > 1 ? argv[1] : "cpu";
  const bool cuda = where == "cuda";
  if (cuda && !dlk::compat::cuda_available()) {
    std::fprintf(stderr, "dlk-depthwise-bench: no CUDA device\n");
    return 1;
  }
  dlk::cli::keep_freed_memory(); // as dlk-train and dlk-infer do
  torch::manual_seed(1);
  const auto dev = cuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  const auto dtype = cuda ? torch::kBFloat16 : torch::kFloat;
  const int64_t n = cuda ? 24 : 8, c = 96, hw = 224;
  struct K { int64_t k, d; };
  std::printf("| %s, %lldx%lldx%lldx%lld %s | dlk fwd ms | LibTorch fwd ms |%s\n", where.c_str(), (long long)n,
              (long long)c, (long long)hw, (long long)hw, cuda ? "bf16" : "fp32",
              cuda ? " LibTorch channels-last fwd ms | dlk channels-last fwd ms | dlk fwd+bwd ms | LibTorch fwd+bwd ms |"
                     " LibTorch channels-last fwd+bwd ms | dlk channels-last fwd+bwd ms |"
                   : "");
  std::printf("|---|---|---|%s\n", cuda ? "---|---|---|---|---|---|" : "");
  for (const K s : {K{3, 1}, K{5, 1}, K{7, 3}}) {
    auto x = torch::randn({n, c, hw, hw}, torch::TensorOptions().device(dev).dtype(dtype));
    auto w = torch::randn({c, 1, s.k, s.k}, torch::TensorOptions().device(dev)) * 0.1;
    auto b = torch::randn({c}, torch::TensorOptions().device(dev));
    auto wt = w.to(dtype), bt = b.to(dtype);
    const int64_t pad = s.d * (s.k - 1) / 2;
    auto torch_fwd = [&](const torch::Tensor& in, const torch::Tensor& ww, const torch::Tensor& bb) {
      return torch::conv2d(in, ww, bb, 1, pad, s.d, c);
    };
    double dlk_f, torch_f, cl_f = 0, dlk_cl_f = 0, dlk_fb = 0, torch_fb = 0, cl_fb = 0, dlk_cl_fb = 0;
    {
      torch::NoGradGuard ng;
      dlk_f = median_ms([&] { dlk::depthwise_conv2d(x, w, b, s.d); }, cuda);
      torch_f = median_ms([&] { torch_fwd(x, wt, bt); }, cuda);
      if (cuda) {
        auto xcl = x.contiguous(torch::MemoryFormat::ChannelsLast);
        auto wcl = wt.contiguous(torch::MemoryFormat::ChannelsLast);
        cl_f = median_ms([&] { torch_fwd(xcl, wcl, bt); }, cuda);
        dlk_cl_f = median_ms([&] { dlk::depthwise_conv2d(xcl, w, b, s.d); }, cuda);
      }
    }
    if (cuda) {
      auto g = torch::randn_like(x);
      auto xg = x.detach().requires_grad_(), wg = w.detach().requires_grad_(), bg = b.detach().requires_grad_();
      auto wtg = wt.detach().requires_grad_(), btg = bt.detach().requires_grad_();
      dlk_fb = median_ms([&] { dlk::depthwise_conv2d(xg, wg, bg, s.d).backward(g); }, cuda);
      torch_fb = median_ms([&] { torch_fwd(xg, wtg, btg).backward(g); }, cuda);
      auto xcl = x.contiguous(torch::MemoryFormat::ChannelsLast).detach().requires_grad_();
      auto wcl = wt.contiguous(torch::MemoryFormat::ChannelsLast).detach().requires_grad_();
      auto gcl = g.contiguous(torch::MemoryFormat::ChannelsLast);
      cl_fb = median_ms([&] { torch_fwd(xcl, wcl, btg).backward(gcl); }, cuda);
      dlk_cl_fb = median_ms([&] { dlk::depthwise_conv2d(xcl, wg, bg, s.d).backward(gcl); }, cuda);
    }
    std::printf("| %lldx%lld, dilation %lld | %.2f | %.2f |", (long long)s.k, (long long)s.k, (long long)s.d, dlk_f, torch_f);
    if (cuda) std::printf(" %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |", cl_f, dlk_cl_f, dlk_fb, torch_fb, cl_fb, dlk_cl_fb);
    std::printf("\n");
  }
  std::printf("(dlk's backend here: %s)\n", dlk::depthwise_backend(dev, false).c_str());
  return 0;
}
