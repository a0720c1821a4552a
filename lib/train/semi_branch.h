// The unlabelled half of a semi-supervised run (dlk-train --semi; lib/train only): the unlabelled
// slices and their loader, the teacher, the unlabelled part of each step's loss, and the teacher's
// place in checkpoints. The Trainer runs the labelled half as before and asks this for the rest.
#pragma once
#include "dlk/model/checkpoint.h"
#include "dlk/model/model.h"
#include "dlk/shard/shard_reader.h"
#include "dlk/train/slice_loader.h"
#include "dlk/train/train_options.h"

#include <torch/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace dlk {

class SemiBranch {
public:
  // `teacher`: a model like the student, on the device, in the same memory format; it starts as
  // a copy of the student.
  SemiBranch(const TrainOptions& o, std::vector<std::shared_ptr<ShardFile>> shards, DLKUNet teacher,
             const DLKUNet& student, const torch::Device& dev, bool channels_last, int threads);
  ~SemiBranch();

  DLKUNet& teacher() { return teacher_; }
  // The network checkpoints hold as their model (and validation measures): the teacher or the student.
  DLKUNet& exported(DLKUNet& student) { return o_.semi.network == "teacher" ? teacher_ : student; }
  int64_t global_batch() const { return o_.semi.batch > 0 ? o_.semi.batch : o_.batch; }

  // This process's part [lo, hi) of each of the epoch's `batches` global batches; pseudo-labels'
  // teacher becomes the student at the start of every refresh_every-th epoch. `first` > 0:
  // resumed within the epoch (the checkpoint's teacher is the one of this point).
  void start_epoch(int epoch, int64_t batches, int64_t first, int rank, int world, const DLKUNet& student);
  bool next(std::vector<LoadedSlice>& out) { return loader_->next(out); }

  // Slices [from, to) of this process's part of global batch `b`: the student's input (augmented,
  // with noise) and the teacher's logits on the same slices under other noise (in training mode:
  // batch statistics; its running statistics stay as they were).
  struct Views {
    torch::Tensor student_x, teacher_logits;
  };
  Views views(int epoch, int64_t b, const std::vector<LoadedSlice>& batch, int64_t from, int64_t to,
              const std::vector<double>& spacing, bool amp);
  // The unlabelled loss of the student's logits given the teacher's, and the share of pixels the
  // teacher was confident of (pseudo-labels; 1 for the mean teacher).
  struct Loss {
    torch::Tensor value, confident;
  };
  Loss loss(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits) const;
  // The loss's weight at an iteration: weight x sigmoid_rampup(iteration / iters_per_epoch, ramp).
  double weight_at(int64_t iteration, int64_t iters_per_epoch) const;
  // After optimizer step `step` (0-based): the mean teacher's EMA of the student's weights;
  // nothing for pseudo-labels.
  void after_step(const DLKUNet& student, int64_t step);
  // The mean teacher's batch-norm statistics made for its weights from the forward passes
  // `run(teacher)` makes (recompute_batch_norm_statistics); nothing for pseudo-labels, whose
  // teacher is a copy of the student, statistics and all.
  void recompute_statistics(const std::function<void(DLKUNet&)>& run);

  // A checkpoint of the run: the exported network as the model, the other under "teacher/" or
  // "student/"; and back (the student and teacher of a resumed run).
  Checkpoint checkpoint(const DLKUNet& student, const std::vector<std::string>& classes, const json::Value& extra) const;
  void load(const Checkpoint& ck, const std::string& path, DLKUNet& student);
  std::vector<torch::Tensor> teacher_tensors() const;

private:
  const TrainOptions& o_;
  std::vector<std::shared_ptr<ShardFile>> shards_;
  std::vector<SliceRef> all_;
  DLKUNet teacher_;
  torch::Device dev_;
  bool channels_last_;
  std::unique_ptr<SliceLoader> loader_;
  std::vector<int64_t> lo_;
};

} // namespace dlk
