// dlk-step-bench VARIANT [TRACE.json] [--cpu] [--batch N] [--depthwise torch]: one DLKUNet training step exactly as
// the Python reference times it (bench/reference/train_bench.py): batch 24 of random 1x224x224
// inputs, 9 classes, 0.5 CE + 0.5 soft Dice, backward, Adam; bf16 autocast; median of 20 steps
// after 5 warm-up steps; then the forward of 64 slices without gradients. No data path: this is
// the model's own speed, beside dlk-train's end-to-end rate. With TRACE, 3 more steps are
// recorded by LibTorch's profiler into a Chrome trace (bench/gpu/trace_summary.py sums it). Prints
// one JSON line. The inputs are channels-last where the depthwise convs prefer it, as in
// dlk-train (--depthwise torch: LibTorch's depthwise convs, as dlk-train --depthwise torch).
// --cpu: the step as dlk-train runs it on a CPU (fp32, channels-last, all cores), batch 4 unless
// --batch, median of 3 steps after 1, no inference; its trace is LibTorch's CPU operator profile.
// --nchw: NCHW on the CPU (for comparisons).
#include "dlk/cli/tool.h"
#include "dlk/model/depthwise_conv.h"
#include "dlk/model/model.h"
#include "dlk/model/torch_compat.h"
#include "dlk/train/loss.h"

#include <torch/torch.h>
#include <torch/csrc/autograd/profiler_legacy.h>

#if DLK_TORCH_AT_LEAST(2, 0) && defined(DLK_HAVE_CUDA)
#include <torch/csrc/autograd/profiler_kineto.h>
#define DLK_HAVE_TRACE 1
#endif

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  std::string variant, trace;
  bool cpu = false, cpu_cl = true;
  int64_t batch = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--cpu") cpu = true;
    else if (a == "--nchw") cpu_cl = false;
    else if (a == "--depthwise" && i + 1 < argc) dlk::use_depthwise_kernels(std::string(argv[++i]) == "dlk");
    else if (a == "--batch" && i + 1 < argc) batch = std::stoll(argv[++i]);
    else if (variant.empty()) variant = a;
    else if (trace.empty()) trace = a;
    else variant.clear(), i = argc; // too many words: the usage below
  }
  if (variant.empty()) {
    std::fprintf(stderr, "usage: dlk-step-bench S|M|L [TRACE.json] [--cpu [--nchw]] [--batch N]\n");
    return 2;
  }
  if (!cpu && !dlk::compat::cuda_available()) {
    std::fprintf(stderr, "dlk-step-bench: no CUDA device (--cpu for the CPU)\n");
    return 1;
  }
  if (batch <= 0) batch = cpu ? 4 : 24;
  const int warmup = cpu ? 1 : 5, steps = cpu ? 3 : 20;
  if (cpu) {
    torch::set_num_threads(int(std::max(1u, std::thread::hardware_concurrency()))); // as the tools do
    dlk::cli::keep_freed_memory();
  }
  torch::manual_seed(0);
  at::globalContext().setBenchmarkCuDNN(true);
  const torch::Device dev(cpu ? torch::kCPU : torch::kCUDA);
  auto sync = [&] {
    if (!cpu) torch::cuda::synchronize();
  };
  dlk::ModelConfig cfg;
  cfg.variant = variant;
  cfg.classes = 9;
  dlk::DLKUNet model(cfg);
  model->to(dev);
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-3));
  const bool cl = dlk::depthwise_prefers_channels_last(dev, true) && (!cpu || cpu_cl);
  auto input = [&](int64_t n) {
    auto t = torch::randn({n, 1, 224, 224}, dev);
    return cl ? dlk::channels_last_input(t) : t;
  };
  auto x = input(batch);
  auto y = torch::randint(0, 9, {batch, 224, 224}, torch::TensorOptions().device(dev).dtype(torch::kLong));
  auto step = [&] {
    dlk::LossParts l;
    {
      dlk::compat::CudaAutocast ac(!cpu, at::kBFloat16);
      l = dlk::combined_loss(model->forward(x), y, 0.5, 0.5);
    }
    opt.zero_grad();
    l.total.backward();
    opt.step();
  };
  std::vector<double> ms;
  if (!cpu) dlk::compat::peak_gpu_memory_gib(dev); // resets the peak
  for (int i = 0; i < warmup + steps; ++i) {
    sync();
    const auto a = std::chrono::steady_clock::now();
    step();
    sync();
    if (i >= warmup) ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(ms.begin(), ms.end());
  const double step_ms = ms[ms.size() / 2], peak = cpu ? 0.0 : dlk::compat::peak_gpu_memory_gib(dev);
  double infer = 0;
  if (!cpu) {
    model->eval();
    torch::NoGradGuard ng;
    auto xi = input(64);
    dlk::compat::CudaAutocast ac(true, at::kBFloat16);
    for (int i = 0; i < 3; ++i) model->forward(xi);
    sync();
    const auto a = std::chrono::steady_clock::now();
    for (int i = 0; i < 5; ++i) model->forward(xi);
    sync();
    infer = 64 * 5 / std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
    model->train();
  }
  std::printf("{\"variant\": \"%s\", \"device\": \"%s\", \"batch\": %lld, \"train_ms_per_step\": %.1f, "
              "\"train_img_per_s\": %.2f, \"infer_slices_per_s\": %.1f, \"peak_gib\": %.1f, \"torch\": \"%s\", "
              "\"depthwise\": \"%s\", \"channels_last\": %s}\n",
              variant.c_str(), cpu ? "cpu" : "cuda", (long long)batch, step_ms, batch * 1000.0 / step_ms, infer, peak,
              TORCH_VERSION, dlk::depthwise_backend(dev, true).c_str(), cl ? "true" : "false");
  if (trace.empty()) return 0;
  if (cpu) { // LibTorch's operator profile of one step
    torch::autograd::profiler::RecordProfile guard(trace);
    step();
    return 0;
  }
#ifdef DLK_HAVE_TRACE
  namespace prof = torch::autograd::profiler;
  const prof::ProfilerConfig pc(prof::ProfilerState::KINETO);
  const std::set<torch::profiler::impl::ActivityType> acts{torch::profiler::impl::ActivityType::CPU,
                                                           torch::profiler::impl::ActivityType::CUDA};
  prof::prepareProfiler(pc, acts);
  prof::enableProfiler(pc, acts);
  for (int i = 0; i < 3; ++i) step();
  sync();
  prof::disableProfiler()->save(trace);
#else
  std::fprintf(stderr, "dlk-step-bench: no GPU trace (needs LibTorch 2.x with CUDA)\n");
#endif
  return 0;
}
