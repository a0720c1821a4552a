#include "dlk/train/loss.h"

#include <torch/torch.h>

namespace dlk {

torch::Tensor dice_loss(const torch::Tensor& logits, const torch::Tensor& target) {
  const int64_t k = logits.size(1);
  auto p = torch::softmax(logits.to(torch::kFloat32), 1);
  auto t = torch::one_hot(target, k).permute({0, 3, 1, 2}).to(torch::kFloat32);
  const std::vector<int64_t> dims{0, 2, 3}; // every pixel of the batch, per class
  auto inter = (p * t).sum(dims), z = (p * p).sum(dims), y = (t * t).sum(dims);
  const double smooth = 1e-5;
  return (1 - (2 * inter + smooth) / (z + y + smooth)).mean();
}

LossParts combined_loss(const torch::Tensor& logits, const torch::Tensor& target, double alpha, double beta) {
  LossParts l;
  l.ce = torch::nn::functional::cross_entropy(logits.to(torch::kFloat32), target);
  l.dice = dice_loss(logits, target);
  l.total = alpha * l.dice + beta * l.ce;
  return l;
}

} // namespace dlk
