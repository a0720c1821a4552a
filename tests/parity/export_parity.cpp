// dlk-parity-export VARIANT DIR: writes DIR/model.dlkc (a DLKUNet with random weights and
// random BN statistics) and DIR/io.dlkc (a random 2x1x64x64 input and the model's outputs in
// eval and in train mode) for bench/reference/parity.py.
// dlk-parity-export --verify DIR [cpu|cuda]: loads DIR's checkpoint (perhaps written by another
// LibTorch version), runs DIR's input on the device and compares with the recorded outputs
// (fp32, TF32 off; relative error below 1e-5 on CPU, 1e-4 on CUDA). Exit 1 if they differ.
#include "dlk/core/error.h"
#include "dlk/model/checkpoint.h"

#include <torch/torch.h>

#include <filesystem>
#include <iostream>

namespace {
double rel_err(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max().clamp_min(1e-30)).item<double>();
}

int verify(const std::string& dir, const std::string& device) {
  at::globalContext().setAllowTF32CuDNN(false);
  at::globalContext().setAllowTF32CuBLAS(false);
  const torch::Device dev(device);
  dlk::Checkpoint meta;
  dlk::DLKUNet model = dlk::load_model(dir + "/model.dlkc", nullptr, &meta);
  dlk::Checkpoint io = dlk::load_checkpoint(dir + "/io.dlkc");
  model->to(dev);
  torch::NoGradGuard no_grad;
  const auto x = io.find("input")->to(dev);
  model->eval();
  const double e = rel_err(model->forward(x).cpu(), *io.find("eval_output"));
  model->train();
  const double t = rel_err(model->forward(x).cpu(), *io.find("train_output"));
  const bool any_cuda = dev.is_cuda() || (io.meta.find("device") && io.meta.at("device").as_string() != "cpu");
  const double limit = any_cuda ? 1e-4 : 1e-5; // cuDNN and CPU kernels sum in other orders
  const bool ok = e < limit && t < limit;
  std::cout << (ok ? "ok   " : "FAIL ") << "checkpoint written by LibTorch " << meta.meta.at("libtorch").as_string()
            << ", read by " << TORCH_VERSION << " on " << device << ": DLKUNet-" << model->config.variant
            << " eval rel. error " << e << ", train " << t << " (limit " << limit << ")\n";
  return ok ? 0 : 1;
}
} // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::string(argv[1]) == "--verify") {
    try {
      return verify(argv[2], argc > 3 ? argv[3] : "cpu");
    } catch (const std::exception& e) {
      std::cerr << "dlk-parity-export: error: " << e.what() << "\n";
      return 1;
    }
  }
  if (argc != 3 && argc != 4) {
    std::cerr << "usage: dlk-parity-export S|M|L DIR [cpu|cuda] | --verify DIR [cpu|cuda]\n";
    return 2;
  }
  try {
    torch::manual_seed(1234);
    dlk::ModelConfig cfg;
    cfg.variant = argv[1];
    dlk::DLKUNet model(cfg);
    {
      torch::NoGradGuard no_grad; // BN away from identity, so that eval mode tests it
      for (auto& [name, t] : dlk::model_tensors(model)) {
        if (name.find("running_var") != std::string::npos) t.uniform_(0.5, 1.5);
        else if (name.find("running_mean") != std::string::npos) t.uniform_(-0.2, 0.2);
        else if (name.find("bn") != std::string::npos && name.find("weight") != std::string::npos) t.uniform_(0.5, 1.5);
        else if (name.find("bn") != std::string::npos && name.find("bias") != std::string::npos) t.uniform_(-0.1, 0.1);
      }
    }
    std::filesystem::create_directories(argv[2]);
    const std::string dir = argv[2];
    const std::string device = argc > 3 ? argv[3] : "cpu";
    model->to(torch::Device(device)); // saved from the device it runs on
    dlk::save_checkpoint(dir + "/model.dlkc", dlk::make_checkpoint(model, {}));
    at::globalContext().setAllowTF32CuDNN(false);
    at::globalContext().setAllowTF32CuBLAS(false);
    auto x = torch::randn({2, 1, 64, 64});
    torch::NoGradGuard no_grad;
    model->eval();
    auto e = model->forward(x.to(torch::Device(device))).cpu();
    model->train();
    auto t = model->forward(x.to(torch::Device(device))).cpu();
    dlk::Checkpoint io;
    io.meta.set("device", device);
    io.tensors = {{"input", x}, {"eval_output", e}, {"train_output", t}};
    dlk::save_checkpoint(dir + "/io.dlkc", io);
  } catch (const std::exception& e) {
    std::cerr << "dlk-parity-export: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
