// The pieces of semi-supervised training (issue 18, dlk-train --semi, not wired in yet): the
// teacher as an exponential moving average of the student, the consistency weight's ramp-up, the
// consistency loss between student and teacher, and pseudo-labels from the teacher.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace dlk {

// The sigmoid ramp-up of Laine & Aila (2017), which the mean teacher (Tarvainen & Valpola, 2017)
// uses for the consistency weight: exp(-5 (1 - t)^2) at t = epoch / ramp_epochs, 1 from
// ramp_epochs on (and at once when ramp_epochs is 0).
double sigmoid_rampup(double epoch, double ramp_epochs);

// The teacher's decay at optimizer step `step` (0-based): min(decay, 1 - 1 / (step + 1)), so that
// early on the teacher is the plain mean of the students so far, as the mean teacher's code does.
double ema_decay_at(double decay, int64_t step);

// teacher = d * teacher + (1 - d) * student for each pair of tensors (parameters and the
// batch-norm statistics alike), d = ema_decay_at(decay, step); in place, without autograd.
void ema_update(const std::vector<torch::Tensor>& teacher, const std::vector<torch::Tensor>& student, double decay,
                int64_t step);

// The mean squared difference of the class probabilities (softmax over dimension 1) of the
// student's and the teacher's logits [N, K, H, W], averaged over every element. The teacher's are
// detached: the gradient reaches the student only.
torch::Tensor consistency_loss(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits);

// The teacher's confident predictions as targets [N, H, W] (int64): the argmax where its
// probability is at least `threshold`, `ignore` elsewhere (for cross-entropy's ignore_index).
torch::Tensor pseudo_labels(const torch::Tensor& teacher_logits, double threshold, int64_t ignore = -100);

} // namespace dlk
