// Dynamic loss scaling for fp16 training (dlk/train/grad_scaler.h).
#include "dlk/train/grad_scaler.h"

#include <torch/torch.h>

namespace dlk {

bool GradScaler::step(torch::optim::Optimizer& opt) {
  if (!enabled_) {
    opt.step();
    return true;
  }
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> grads;
  for (auto& g : opt.param_groups())
    for (auto& p : g.params())
      if (p.grad().defined()) grads.push_back(p.grad());
  bool finite = true;
  for (auto& g : grads) finite = finite && torch::isfinite(g).all().item<bool>();
  if (!finite) {
    scale_ /= 2;
    good_ = 0;
    return false;
  }
  for (auto& g : grads) g.mul_(1.0 / scale_);
  opt.step();
  if (++good_ >= interval_) {
    scale_ *= 2;
    good_ = 0;
  }
  return true;
}

} // namespace dlk
