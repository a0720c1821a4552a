// dlk-curve-export VARIANT DIR STEPS BASE_CHANNELS [cpu|cuda] [fp32|bf16] [SIZE] [BATCH]: a seeded training run
// of dlk's DLKUNet for bench/reference/train_curve.py to repeat step for step in Python PyTorch.
// Writes DIR/model.dlkc (the initial weights), DIR/data.dlkc (a pool of 4 batches of BATCH (4)
// random 1xSIZExSIZE (64) images, labelled by thresholding their 3x3 mean into 4 classes, so there is something
// to learn) and DIR/curve.dlkc (the loss of each step: 0.5 CE + 0.5 soft Dice, Adam, lr 1e-3,
// batch i = pool[i mod 4], as dlk-train computes them; bf16 = CUDA autocast, as dlk-train runs).
#include "dlk/model/checkpoint.h"
#include "dlk/model/depthwise_conv.h"
#include "dlk/model/torch_compat.h"
#include "dlk/train/loss.h"

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>

int main(int argc, char** argv) {
  if (argc < 5 || argc > 9) {
    std::cerr << "usage: dlk-curve-export S|M|L DIR STEPS BASE_CHANNELS [cpu|cuda] [fp32|bf16] [SIZE] [BATCH]\n";
    return 2;
  }
  try {
    const std::string dir = argv[2], device = argc > 5 ? argv[5] : "cpu", precision = argc > 6 ? argv[6] : "fp32";
    const int steps = std::stoi(argv[3]);
    const torch::Device dev(device);
    if (dev.is_cuda() && !dlk::compat::cuda_available()) throw std::runtime_error("no CUDA device");
    torch::set_num_threads(int(std::max(1u, std::thread::hardware_concurrency()))); // as the tools do
    at::globalContext().setAllowTF32CuDNN(false);
    at::globalContext().setAllowTF32CuBLAS(false);
    torch::manual_seed(7);
    dlk::ModelConfig cfg;
    cfg.variant = argv[1];
    cfg.base_channels = std::stoi(argv[4]);
    cfg.classes = 4;
    dlk::DLKUNet model(cfg);
    std::filesystem::create_directories(dir);
    dlk::save_checkpoint(dir + "/model.dlkc", dlk::make_checkpoint(model, {}));

    const int64_t pool = 4, size = argc > 7 ? std::stoi(argv[7]) : 64, batch = argc > 8 ? std::stoi(argv[8]) : 4;
    auto x = torch::randn({pool * batch, 1, size, size});
    auto m = torch::avg_pool2d(x, 3, 1, 1);
    auto y = ((m > -0.3).to(torch::kLong) + (m > 0.0).to(torch::kLong) + (m > 0.3).to(torch::kLong)).squeeze(1);
    dlk::Checkpoint data;
    data.tensors = {{"x", x}, {"y", y}};
    dlk::save_checkpoint(dir + "/data.dlkc", data);

    model->to(dev);
    model->train();
    torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-3));
    const auto xd = x.to(dev), yd = y.to(dev);
    std::vector<double> losses;
    for (int i = 0; i < steps; ++i) {
      const int64_t b = i % pool;
      dlk::LossParts l;
      {
        dlk::compat::CudaAutocast ac(dev.is_cuda() && precision == "bf16", at::kBFloat16);
        l = dlk::combined_loss(model->forward(xd.narrow(0, b * batch, batch)), yd.narrow(0, b * batch, batch), 0.5, 0.5);
      }
      opt.zero_grad();
      l.total.backward();
      opt.step();
      losses.push_back(l.total.item<double>());
    }
    dlk::Checkpoint curve;
    curve.meta.set("device", device);
    curve.meta.set("precision", precision);
    curve.meta.set("depthwise", dlk::depthwise_backend(dev, true));
    curve.meta.set("libtorch", std::string(TORCH_VERSION));
    curve.tensors = {{"loss", torch::tensor(losses, torch::kFloat64)}};
    dlk::save_checkpoint(dir + "/curve.dlkc", curve);
    std::cout << "dlk-curve-export: DLKUNet-" << cfg.variant << " (base " << cfg.base_channels << "), " << steps
              << " steps on " << device << " " << precision << ": loss " << losses.front() << " -> " << losses.back() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "dlk-curve-export: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
