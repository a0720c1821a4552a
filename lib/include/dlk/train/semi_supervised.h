// The pieces of semi-supervised training (dlk-train --semi): the teacher as an exponential moving
// average of the student, the unlabelled loss's ramp-up, the consistency loss between student and
// teacher, pseudo-labels from the teacher, and the input noise that tells their views apart.
#pragma once
#include "dlk/model/model.h"

#include <torch/types.h>

#include <functional>

#include <cstdint>
#include <random>
#include <vector>

namespace dlk {

// The sigmoid ramp-up of Laine & Aila (2017), which the mean teacher (Tarvainen & Valpola, 2017)
// uses for the consistency weight: exp(-5 (1 - t)^2) at t = epoch / ramp_epochs, 1 from
// ramp_epochs on (and at once when ramp_epochs is 0).
double sigmoid_rampup(double epoch, double ramp_epochs);

// The teacher's decay at optimizer step `step` (0-based): min(decay, 1 - 1 / (step + 1)), so that
// early on the teacher is the plain mean of the students so far, as the mean teacher's code does.
double ema_decay_at(double decay, int64_t step);

// teacher = d * teacher + (1 - d) * student for each pair of tensors, d = ema_decay_at(decay,
// step); in place, without autograd; integer tensors are copied. (The mean teacher passes its
// parameters: its batch-norm statistics are its own, recompute_batch_norm_statistics.)
void ema_update(const std::vector<torch::Tensor>& teacher, const std::vector<torch::Tensor>& student, double decay,
                int64_t step);

// The batch-norm running statistics of `model` made its own: reset, then the cumulative mean of
// the batch statistics of the forward passes `run(model)` makes (in training mode, without
// autograd); the momentum and mode are restored after. A mean teacher needs this: its weights
// are an average of the students', and the average of the students' statistics is not the
// statistics of the averaged weights (exported so, it could segment nothing: issue 25).
void recompute_batch_norm_statistics(DLKUNet& model, const std::function<void(DLKUNet&)>& run);

// The mean squared difference of the class probabilities (softmax over dimension 1) of the
// student's and the teacher's logits [N, K, H, W], averaged over every element. The teacher's are
// detached: the gradient reaches the student only.
torch::Tensor consistency_loss(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits);

// The teacher's confident predictions as targets [N, H, W] (int64): the argmax where its
// probability is at least `threshold`, `ignore` elsewhere (for cross-entropy's ignore_index).
torch::Tensor pseudo_labels(const torch::Tensor& teacher_logits, double threshold, int64_t ignore = -100);

// The cross-entropy of the student's logits against pseudo-labels (`ignore` where the teacher was
// not confident), summed over the confident pixels and divided by all of them, as FixMatch's
// masked mean: few confident pixels weigh little, and none give 0 rather than NaN.
torch::Tensor pseudo_label_loss(const torch::Tensor& student_logits, const torch::Tensor& targets, int64_t ignore = -100);

} // namespace dlk
