// The unlabelled half of a semi-supervised run (semi_branch.h).
#include "semi_branch.h"

#include "dlk/core/error.h"
#include "dlk/model/torch_compat.h"
#include "dlk/train/augment.h"
#include "dlk/train/semi_supervised.h"
#include "trainer_parts.h"

#include <fmt/format.h>

#include <torch/torch.h>

namespace dlk {

namespace {
std::vector<torch::Tensor> tensors_of(const DLKUNet& m) {
  std::vector<torch::Tensor> out;
  for (auto& [name, t] : model_tensors(m)) out.push_back(t);
  return out;
}

void copy_into(const DLKUNet& to, const DLKUNet& from) {
  torch::NoGradGuard no_grad;
  const auto dst = tensors_of(to), src = tensors_of(from);
  for (size_t i = 0; i < dst.size(); ++i) torch::Tensor(dst[i]).copy_(src[i]);
}
} // namespace

SemiBranch::SemiBranch(const TrainOptions& o, std::vector<std::shared_ptr<ShardFile>> shards, DLKUNet teacher,
                       const DLKUNet& student, const torch::Device& dev, bool channels_last, int threads)
    : o_(o), shards_(std::move(shards)), teacher_(std::move(teacher)), dev_(dev), channels_last_(channels_last) {
  for (size_t s = 0; s < shards_.size(); ++s)
    for (int64_t i = 0; i < shards_[s]->meta().n_slices; ++i) all_.push_back({int32_t(s), i});
  for (auto& p : teacher_->parameters()) p.set_requires_grad(false); // it learns only through the EMA or copies
  copy_into(teacher_, student);
  loader_ = std::make_unique<SliceLoader>(shards_, threads, dev.is_cuda());
}

SemiBranch::~SemiBranch() = default;

void SemiBranch::start_epoch(int epoch, int64_t batches, int64_t first, int rank, int world, const DLKUNet& student) {
  if (o_.semi.method == "pseudo-label" && first == 0 && epoch % o_.semi.refresh_every == 0) copy_into(teacher_, student);
  std::vector<std::vector<SliceRef>> parts;
  lo_.clear();
  for (auto& b : unlabelled_batches(all_, o_.seed, epoch, batches, global_batch())) {
    const int64_t n = int64_t(b.size()), lo = n * rank / world, hi = n * (rank + 1) / world;
    parts.emplace_back(b.begin() + lo, b.begin() + hi);
    lo_.push_back(lo);
  }
  loader_->start_batches(std::move(parts), first);
}

SemiBranch::Views SemiBranch::views(int epoch, int64_t b, const std::vector<LoadedSlice>& batch, int64_t from,
                                    int64_t to, const std::vector<double>& spacing, bool amp) {
  std::vector<torch::Tensor> xs, xt;
  for (int64_t i = from; i < to; ++i) {
    // The slice's own stream: its augmentation, then the student's noise, then the teacher's.
    std::mt19937_64 rng = unlabelled_rng(o_.seed, epoch, b, lo_[size_t(b)] + i);
    const LoadedSlice& in = batch[size_t(i)];
    const LoadedSlice image_only{in.image, torch::Tensor(), in.shard}; // a label of --ignore-labels-of goes unused
    const torch::Tensor x = training_slice(image_only, shards_[size_t(in.shard)]->meta(), o_, spacing, dev_, rng).first;
    const std::vector<int64_t> sizes(x.sizes().begin(), x.sizes().end());
    xs.push_back(x + gaussian_noise(sizes, o_.semi.noise, rng, 2).to(dev_));
    xt.push_back(x + gaussian_noise(sizes, o_.semi.noise, rng, 2).to(dev_));
  }
  Views v;
  if (xs.empty()) return v;
  v.student_x = torch::stack(xs);
  torch::Tensor t = torch::stack(xt);
  if (channels_last_) t = channels_last_input(t);
  torch::NoGradGuard no_grad;
  // In training mode, as the mean teacher's authors run it: the batch's statistics, so that its
  // targets hang on no running statistics (nor, with several processes, on each process's own).
  // Its running statistics, which only inference uses, are left as they were: they are made for
  // its weights whenever it is validated or saved (recompute_statistics). (The EMA of the
  // student's statistics that stood here before did not fit the averaged weights: the exported
  // teacher of 3 of 6 BraTS seeds labelled every voxel background, issue 25.)
  std::vector<torch::Tensor> buffers = teacher_->buffers(), kept;
  for (auto& b : buffers) kept.push_back(b.clone());
  teacher_->train();
  {
    compat::CudaAutocast ac(amp, o_.precision == "fp16" ? at::kHalf : at::kBFloat16);
    v.teacher_logits = teacher_->forward(t);
  }
  for (size_t i = 0; i < buffers.size(); ++i) buffers[i].copy_(kept[i]);
  return v;
}

SemiBranch::Loss SemiBranch::loss(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits) const {
  if (o_.semi.method == "mean-teacher")
    return {consistency_loss(student_logits, teacher_logits), torch::ones({}, student_logits.options().dtype(torch::kFloat32))};
  const torch::Tensor targets = pseudo_labels(teacher_logits, o_.semi.threshold);
  return {pseudo_label_loss(student_logits, targets), (targets >= 0).to(torch::kFloat32).mean()};
}

double SemiBranch::weight_at(int64_t iteration, int64_t iters_per_epoch) const {
  return o_.semi.weight.value() * sigmoid_rampup(double(iteration) / double(std::max<int64_t>(iters_per_epoch, 1)), o_.semi.ramp_epochs.value());
}

void SemiBranch::after_step(const DLKUNet& student, int64_t step) {
  // The weights only: the teacher's batch-norm statistics are its own (recompute_statistics).
  if (o_.semi.method == "mean-teacher") ema_update(teacher_->parameters(), student->parameters(), o_.semi.ema_decay, step);
}

void SemiBranch::recompute_statistics(const std::function<void(DLKUNet&)>& run) {
  if (o_.semi.method == "mean-teacher") recompute_batch_norm_statistics(teacher_, run);
}

std::vector<torch::Tensor> SemiBranch::teacher_tensors() const { return tensors_of(teacher_); }

Checkpoint SemiBranch::checkpoint(const DLKUNet& student, const std::vector<std::string>& classes,
                                  const json::Value& extra) const {
  const bool teacher_out = o_.semi.network == "teacher";
  const std::string prefix = teacher_out ? "student/" : "teacher/"; // the network that is not the model
  json::Value e = extra, semi;
  semi.set("method", o_.semi.method);
  semi.set("model", o_.semi.network);
  semi.set("other", prefix);
  e.set("semi", semi);
  Checkpoint ck = make_checkpoint(teacher_out ? teacher_ : student, classes, e);
  for (auto& [name, t] : model_tensors(teacher_out ? student : teacher_)) ck.tensors.emplace_back(prefix + name, t);
  return ck;
}

void SemiBranch::load(const Checkpoint& ck, const std::string& path, DLKUNet& student) {
  const std::string held = checkpoint_network(ck);
  if (!held.empty() && held != o_.semi.network)
    fail(path, fmt::format("its model is the {}, the run's config.json says the {}", held, o_.semi.network));
  load_network(teacher_, ck, path, "teacher");
  load_network(student, ck, path, "student");
}

} // namespace dlk
