// dlk-train's library side: loss, augmentation, the slice loader and the training loop.
#pragma once
#include "dlk/json.h"
#include "dlk/loss_schedule.h"
#include "dlk/lr_schedule.h"
#include "dlk/model_config.h"
#include "dlk/progress.h"
#include "dlk/shard.h"

#include <torch/optim/optimizer.h>
#include <torch/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace dlk {

// TransUNet's Dice loss: softmax, one-hot target, per class over the whole batch,
// 1 - (2 sum(p t) + 1e-5) / (sum(p^2) + sum(t^2) + 1e-5), mean over all classes (background too).
torch::Tensor dice_loss(const torch::Tensor& logits, const torch::Tensor& target);

struct LossParts {
  torch::Tensor total, ce, dice;
};
// alpha * Dice + beta * CE, computed in float32 whatever the logits' type.
LossParts combined_loss(const torch::Tensor& logits, const torch::Tensor& target, double alpha, double beta);

// Per-slice augmentation, drawn from `rng` and applied on the tensors' device:
//   paper:     flip (p 0.5, random axis), then rot90 by 1..3 quarter turns (p 0.5)
//   transunet: p 0.5 rot90 by k in 0..3 then a flip; else p 0.5 rotation by an integer angle in
//              [-20, 19] degrees, nearest neighbour for image and label, zeros outside
//   none
// then resizing to height x width (bicubic for the image, nearest for the label).
// image [C, h, w] float, label [h, w] int64; returns the pair at the model size.
std::pair<torch::Tensor, torch::Tensor> augment_slice(const torch::Tensor& image, const torch::Tensor& label,
                                                      const std::string& mode, std::mt19937_64& rng, int64_t height,
                                                      int64_t width);
// Resize only (validation and inference): bicubic image, nearest label (label may be undefined).
std::pair<torch::Tensor, torch::Tensor> resize_slice(const torch::Tensor& image, const torch::Tensor& label,
                                                     int64_t height, int64_t width);
// Rotation by `degrees` about the centre (positive: clockwise as displayed, rows down), nearest
// neighbour, zeros outside (exposed for tests).
torch::Tensor rotate_nearest(const torch::Tensor& chw, double degrees);

// Decodes slices of shards on a pool of threads into (pinned, when CUDA is used) CPU tensors,
// a few batches ahead of the consumer, in the order given.
struct SliceRef {
  int32_t shard;
  int64_t slice;
};
struct LoadedSlice {
  torch::Tensor image; // [C, h, w] float32
  torch::Tensor label; // [h, w] int64
};
class SliceLoader {
public:
  SliceLoader(std::vector<std::shared_ptr<ShardFile>> shards, int threads, bool pin_memory, int prefetch = 4);
  ~SliceLoader();
  // Starts an epoch: batches of `batch` slices in `order` (the last may be smaller), from batch `first`.
  void start(std::vector<SliceRef> order, int64_t batch, int64_t first = 0);
  // Starts an epoch of the given batches (which may be empty), from batch `first`.
  void start_batches(std::vector<std::vector<SliceRef>> batches, int64_t first = 0);
  // The next batch in order; false at the end of the epoch.
  bool next(std::vector<LoadedSlice>& out);
  void stop();
  double slices_per_second() const; // decode throughput of the last epoch, all threads

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

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

struct TrainOptions {
  std::string dataset, run_dir, resume;
  ModelConfig model;
  int64_t height = 224, width = 224;
  int epochs = 150;
  int64_t batch = 24;     // the global batch, over all processes
  int64_t accumulate = 1; // micro-batches per process and step (gradient accumulation)
  int64_t max_steps = 0; // stop after this many iterations in total (0: no limit); for smoke tests
  std::string device = "cpu", precision = "bf16";
  bool channels_last = true, deterministic = false;
  uint64_t seed = 1234;
  std::string augment = "paper";
  LossSchedule loss;
  LrSchedule lr;
  std::string optimizer = "adam";
  double weight_decay = 1e-5, momentum = 0.9;
  std::string train_split = "train", val_split = "val";
  int val_every = 1, save_every = 1;
  double save_minutes = 30;
  int threads = 0;
  bool benchmark_loader = false; // only time the slice loader over one epoch
  json::Value to_json() const;
  static TrainOptions from_json(const json::Value& v); // what to_json wrote (a run's config.json)
  // Checks the values of the options (not the model's, which need the dataset): a bad one is a
  // dlk::UsageError that names its option ("--lr: nan (a finite number > 0)").
  void validate() const;
  // Makes the dataset and run directory absolute and normal (no trailing '/'), so that the
  // config.json that records them serves --resume from any working directory.
  void make_paths_absolute();

  // dlk-train's command line, made whole (train_options.cpp). With --resume RUNDIR: the run's own
  // options from RUNDIR/config.json, with this command line's --resume, threads and
  // --benchmark-loader, and its --epochs and --max-steps where given; -o, if given, must be RUNDIR.
  static TrainOptions resumed(const TrainOptions& command_line, bool epochs_given, bool max_steps_given);
  // A new run: needs the dataset and run directory, takes the loss phases (--loss-phases) and
  // checks the options before reading any data; then the model's classes and input channels
  // that are 0 come from the dataset.
  void check_new_run(const std::string& loss_phases);
  // --device: "auto" is cuda when LibTorch sees a GPU, else cpu; cpu, cuda or cuda:N.
  void set_device(const std::string& requested);
};

// Makes a run's log.jsonl agree with the checkpoint it resumes from, which has completed
// `epochs_done` epochs: keeps one line per epoch before that (the last one written, in epoch
// order) and drops later epochs' lines (the resumed run writes them again), unreadable and
// unfinished lines. Rewrites the file atomically when it changes; returns the lines dropped.
int trim_train_log(const std::string& path, int epochs_done);

// Exit statuses of run_training.
constexpr int kTrainInterrupted = 75; // a signal asked to stop: `latest` written, requeue and --resume

// Requests a graceful stop (signal handlers set it; the loop checks it after each step).
std::atomic<int>& stop_request();

// Trains (a Trainer, dlk/trainer.h); log lines go to `log` (stderr in the tool), each epoch's
// progress to `progress`. Returns 0, or kTrainInterrupted.
int run_training(TrainOptions opt, const std::function<void(const std::string&)>& log, const ProgressSink& progress = {});

} // namespace dlk
