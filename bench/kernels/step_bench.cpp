// dlk-step-bench VARIANT [TRACE.json]: one DLKUNet training step exactly as the Python reference
// times it (bench/reference/train_bench.py): batch 24 of random 1x224x224 inputs, 9 classes,
// 0.5 CE + 0.5 soft Dice, backward, Adam; bf16 autocast; median of 20 steps after 5 warm-up steps;
// then the forward of 64 slices without gradients. No data path: this is the model's own speed,
// beside dlk-train's end-to-end rate. With TRACE (LibTorch 2.x with CUDA), 3 more steps are
// recorded by LibTorch's profiler into a Chrome trace. Prints one JSON line. The inputs are
// channels-last where the depthwise convs prefer it, as in dlk-train (DLK_KERNELS=nhwc or torch).
#include "dlk/depthwise_conv.h"
#include "dlk/model.h"
#include "dlk/torch_compat.h"
#include "dlk/train.h"

#include <torch/torch.h>

#if DLK_TORCH_AT_LEAST(2, 0) && defined(DLK_HAVE_CUDA)
#include <torch/csrc/autograd/profiler_kineto.h>
#define DLK_HAVE_TRACE 1
#endif

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: dlk-step-bench S|M|L [TRACE.json]\n");
    return 2;
  }
  if (!dlk::compat::cuda_available()) {
    std::fprintf(stderr, "dlk-step-bench: no CUDA device\n");
    return 1;
  }
  torch::manual_seed(0);
  at::globalContext().setBenchmarkCuDNN(true);
  const torch::Device dev(torch::kCUDA);
  dlk::ModelConfig cfg;
  cfg.variant = argv[1];
  cfg.classes = 9;
  dlk::DLKUNet model(cfg);
  model->to(dev);
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-3));
  const bool cl = dlk::depthwise_prefers_channels_last(dev, true);
  auto input = [&](int64_t n) {
    auto t = torch::randn({n, 1, 224, 224}, dev);
    return cl ? dlk::channels_last_input(t) : t;
  };
  auto x = input(24);
  auto y = torch::randint(0, 9, {24, 224, 224}, torch::TensorOptions().device(dev).dtype(torch::kLong));
  auto step = [&] {
    dlk::LossParts l;
    {
      dlk::compat::CudaAutocast ac(true, at::kBFloat16);
      l = dlk::combined_loss(model->forward(x), y, 0.5, 0.5);
    }
    opt.zero_grad();
    l.total.backward();
    opt.step();
  };
  std::vector<double> ms;
  dlk::compat::peak_gpu_memory_gib(dev); // resets the peak
  for (int i = 0; i < 25; ++i) {
    torch::cuda::synchronize();
    const auto a = std::chrono::steady_clock::now();
    step();
    torch::cuda::synchronize();
    if (i >= 5) ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(ms.begin(), ms.end());
  const double step_ms = ms[ms.size() / 2], peak = dlk::compat::peak_gpu_memory_gib(dev);
  model->eval();
  double infer = 0;
  {
    torch::NoGradGuard ng;
    auto xi = input(64);
    dlk::compat::CudaAutocast ac(true, at::kBFloat16);
    for (int i = 0; i < 3; ++i) model->forward(xi);
    torch::cuda::synchronize();
    const auto a = std::chrono::steady_clock::now();
    for (int i = 0; i < 5; ++i) model->forward(xi);
    torch::cuda::synchronize();
    infer = 64 * 5 / std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
  }
  std::printf("{\"variant\": \"%s\", \"train_ms_per_step\": %.1f, \"train_img_per_s\": %.1f, \"infer_slices_per_s\": %.1f, "
              "\"peak_gib\": %.1f, \"torch\": \"%s\", \"depthwise\": \"%s\"}\n",
              argv[1], step_ms, 24000.0 / step_ms, infer, peak, TORCH_VERSION,
              dlk::depthwise_backend(dev, true).c_str());
  if (argc > 2) {
#ifdef DLK_HAVE_TRACE
    model->train();
    namespace prof = torch::autograd::profiler;
    const prof::ProfilerConfig pc(prof::ProfilerState::KINETO);
    const std::set<torch::profiler::impl::ActivityType> acts{torch::profiler::impl::ActivityType::CPU,
                                                             torch::profiler::impl::ActivityType::CUDA};
    prof::prepareProfiler(pc, acts);
    prof::enableProfiler(pc, acts);
    for (int i = 0; i < 3; ++i) step();
    torch::cuda::synchronize();
    prof::disableProfiler()->save(argv[2]);
#else
    std::fprintf(stderr, "dlk-step-bench: no trace (needs LibTorch 2.x with CUDA)\n");
#endif
  }
  return 0;
}
