#include "dlk/train/semi_supervised.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace dlk {

double sigmoid_rampup(double epoch, double ramp_epochs) {
  if (ramp_epochs <= 0) return 1.0;
  const double t = std::clamp(epoch / ramp_epochs, 0.0, 1.0);
  return std::exp(-5.0 * (1.0 - t) * (1.0 - t));
}

double ema_decay_at(double decay, int64_t step) { return std::min(decay, 1.0 - 1.0 / double(step + 1)); }

void ema_update(const std::vector<torch::Tensor>& teacher, const std::vector<torch::Tensor>& student, double decay,
                int64_t step) {
  if (teacher.size() != student.size()) throw std::invalid_argument("ema_update: teacher and student differ in tensors");
  torch::NoGradGuard no_grad;
  const double d = ema_decay_at(decay, step);
  for (size_t i = 0; i < teacher.size(); ++i) {
    torch::Tensor t = teacher[i]; // a handle: updating it updates the teacher's own storage
    if (t.is_floating_point()) t.mul_(d).add_(student[i].detach(), 1.0 - d);
    else t.copy_(student[i]); // integer buffers (batch norm's step count) follow the student
  }
}

void recompute_batch_norm_statistics(DLKUNet& model, const std::function<void(DLKUNet&)>& run) {
  std::vector<std::pair<torch::nn::BatchNorm2dImpl*, c10::optional<double>>> bns;
  for (auto& m : model->modules(false))
    if (auto* bn = m->as<torch::nn::BatchNorm2dImpl>()) {
      bns.emplace_back(bn, bn->options.momentum());
      bn->reset_running_stats();
      bn->options.momentum(c10::nullopt); // a cumulative mean over the batches
    }
  const bool was_training = model->is_training();
  model->train();
  {
    torch::NoGradGuard no_grad;
    run(model);
  }
  for (auto& [bn, momentum] : bns) bn->options.momentum(momentum);
  model->train(was_training);
}

torch::Tensor consistency_loss(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits) {
  const auto p = torch::softmax(student_logits.to(torch::kFloat32), 1);
  const auto q = torch::softmax(teacher_logits.detach().to(torch::kFloat32), 1);
  return (p - q).pow(2).mean();
}

torch::Tensor pseudo_labels(const torch::Tensor& teacher_logits, double threshold, int64_t ignore) {
  torch::NoGradGuard no_grad;
  const auto [prob, cls] = torch::softmax(teacher_logits.to(torch::kFloat32), 1).max(1);
  return torch::where(prob >= threshold, cls, torch::full_like(cls, ignore));
}

torch::Tensor pseudo_label_loss(const torch::Tensor& student_logits, const torch::Tensor& targets, int64_t ignore) {
  namespace F = torch::nn::functional;
  const auto sum = F::cross_entropy(student_logits.to(torch::kFloat32), targets,
                                    F::CrossEntropyFuncOptions().ignore_index(ignore).reduction(torch::kSum));
  return sum / double(std::max<int64_t>(targets.numel(), 1));
}

} // namespace dlk
