// Dynamic loss scaling for fp16 training.
#pragma once
#include <torch/optim/optimizer.h>
#include <torch/types.h>

#include <cstdint>

namespace dlk {

// Dynamic loss scaling for fp16 (what torch.cuda.amp.GradScaler does): the loss is multiplied
// by `scale` before backward; a step whose gradients hold Inf/NaN is skipped and the scale
// halved; after `interval` good steps in a row the scale doubles.
class GradScaler {
public:
  explicit GradScaler(bool enabled, double scale = 65536.0, int64_t interval = 2000)
      : enabled_(enabled), scale_(scale), interval_(interval) {}
  torch::Tensor scale(const torch::Tensor& loss) const { return enabled_ ? loss * scale_ : loss; }
  // Unscales the gradients and steps unless they are non-finite; returns whether it stepped.
  bool step(torch::optim::Optimizer& opt);
  double value() const { return scale_; }
  void set(double s) { scale_ = s; }

private:
  bool enabled_;
  double scale_;
  int64_t interval_, good_ = 0;
};

} // namespace dlk
