// The training losses: TransUNet's Dice loss and its weighted sum with cross-entropy.
#pragma once
#include <torch/types.h>

namespace dlk {

// TransUNet's Dice loss: softmax, one-hot target, per class over the whole batch,
// 1 - (2 sum(p t) + 1e-5) / (sum(p^2) + sum(t^2) + 1e-5), mean over all classes (background too).
torch::Tensor dice_loss(const torch::Tensor& logits, const torch::Tensor& target);

struct LossParts {
  torch::Tensor total, ce, dice;
};
// alpha * Dice + beta * CE, computed in float32 whatever the logits' type.
LossParts combined_loss(const torch::Tensor& logits, const torch::Tensor& target, double alpha, double beta);

} // namespace dlk
