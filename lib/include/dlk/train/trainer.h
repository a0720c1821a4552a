// The training loop, as a class whose steps are the paper's: resume (or start) a run, then per
// epoch run_epoch, validate and save. Every source of randomness is a pure function of (seed,
// epoch, batch): the slice order of an epoch and each slice's augmentation. With the model,
// optimizer and BN state in the checkpoint, a run resumed at any step continues exactly as it
// would have. The Trainer owns its parts (lib/train): the training data (training_data.h: the
// dataset, the cases, the slices, the loader) and the run directory (run_directory.h: config.json,
// log.jsonl, the checkpoints, resuming); it orchestrates them.
#pragma once
#include "dlk/core/json.h"
#include "dlk/core/progress.h"
#include "dlk/model/model.h"
#include "dlk/train/deep_supervision.h"
#include "dlk/train/distributed.h"
#include "dlk/train/grad_scaler.h"
#include "dlk/train/slice_loader.h"
#include "dlk/train/train_options.h"

#include <torch/optim/optimizer.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dlk {

class SemiBranch;   // the unlabelled half of a semi-supervised run (lib/train/semi_branch.h)
class TrainingData; // what the run trains and validates on (lib/train/training_data.h)
class RunDirectory; // config.json, log.jsonl, the checkpoints (lib/train/run_directory.h)

// Where a run stands: what a checkpoint's "state" records.
struct TrainPosition {
  int epoch = 0;         // epoch in progress (or next)
  int64_t batch = 0;     // batches of it already done
  int64_t iteration = 0; // global
  double best = -1;      // best validation mean Dice
  int best_epoch = -1;
  // The epoch in progress so far, over all processes: its steps and the sums of their losses
  // (what its log.jsonl line averages), so that a run resumed mid-epoch logs the whole epoch.
  int64_t steps = 0;
  double sum_loss = 0, sum_ce = 0, sum_dice = 0;
  double sum_unsup = 0, sum_confident = 0; // semi-supervised runs: the unlabelled loss, the confident share
  std::vector<double> sum_levels;          // deep supervision: each level's loss (level 0 first)

  // This position at the start of `next_epoch`: nothing of it done yet.
  TrainPosition at_start_of(int next_epoch) const;
  json::Value to_json() const;
  static TrainPosition from_json(const json::Value& state); // older checkpoints lack the epoch sums
};

// How a run ended: it finished (its epochs, --max-steps, --epochs 0, --benchmark-loader), or a
// signal stopped it (stop_request()) with latest.dlkc written: requeue and --resume (the tool
// gives it an exit status of its own).
enum class TrainOutcome { Finished, Stopped };

class Trainer {
public:
  using Log = std::function<void(const std::string&)>;
  // Nothing happens before run(). Log lines go to `log` and each epoch's progress to `progress`,
  // from rank 0 only.
  Trainer(TrainOptions options, Log log, ProgressSink progress = {});
  ~Trainer();
  // The whole run.
  TrainOutcome run();

private:
  using Clock = std::chrono::steady_clock;
  // An epoch so far, on this process.
  struct Epoch {
    int index = 0;
    Clock::time_point start;
    LossWeights weights;
    torch::Tensor sum_loss, sum_ce, sum_dice; // float64 on the device
    torch::Tensor sum_unsup, sum_confident;   // --semi: the unlabelled loss and confident share
    torch::Tensor sum_levels;                 // --deep-supervision: each level's loss, [levels]
    int64_t steps = 0, images = 0;
    double lr = 0, loader_rate = 0, unsup_weight = 0;
    // This process's part of every global batch: its slices, where they start in the global
    // batch, and the global batch's size.
    std::vector<std::vector<SliceRef>> parts;
    std::vector<int64_t> part_lo, batch_size;
  };

  // Before the run directory: the processes, the training data, the device, the model.
  void join_processes();
  void choose_device();
  void open_splits(); // the cases (those the run started with, when resumed) and their slices
  void set_determinism();
  void build_model();
  DLKUNet new_model() const; // on the device, in the training's memory format
  // The run directory: a new run, or the state of the one being resumed; config.json.
  void resume();

  // One pass over the training slices; how the run ended when a signal or --max-steps ends it
  // within the epoch.
  std::optional<TrainOutcome> run_epoch(Epoch& e);
  void plan_epoch(Epoch& e);
  void train_step(Epoch& e, int64_t b, const std::vector<LoadedSlice>& batch, const std::vector<LoadedSlice>& unlabelled);
  // Slices [from, to) of this process's part of batch `b` and [ufrom, uto) of its unlabelled part.
  void forward_backward(Epoch& e, int64_t b, const std::vector<LoadedSlice>& batch, int64_t from, int64_t to,
                        const std::vector<LoadedSlice>& unlabelled, int64_t ufrom, int64_t uto);
  std::optional<TrainOutcome> after_step(Epoch& e, ProgressCounter& bar);
  void save_mid_epoch(const Epoch& e);
  // The epoch's line in log.jsonl and the log, validation, and the checkpoints due.
  std::optional<TrainOutcome> end_epoch(Epoch& e);
  std::string validate_and_keep_best(int epoch, json::Value& line);
  std::optional<TrainOutcome> next_epoch(int epoch);
  // Validation: mean Dice per foreground class over the val split, of the network checkpoints
  // hold as their model (with --semi, also the other's, into `other`).
  std::vector<double> validate(std::vector<double>* other = nullptr);
  // The mean teacher's batch-norm statistics made for its weights, once per iteration at most:
  // before it is validated or saved (rank 0).
  void own_teacher_statistics();
  // At the end of a semi-supervised run: a warning when the exported network validated far below
  // the other.
  void compare_networks() const;
  // Writes checkpoint `name` of the run directory at position `p` (rank 0 only).
  void save(const std::string& name, const TrainPosition& p, bool with_optimizer);

  void log(const std::string& line) const;

  TrainOptions o_;
  Log log_all_;
  ProgressSink progress_;
  Clock::time_point t_start_, last_save_;
  std::unique_ptr<Distributed> dist_;
  std::unique_ptr<TrainingData> data_;
  std::unique_ptr<RunDirectory> run_;
  torch::Device dev_{torch::kCPU};
  bool amp_ = false, channels_last_ = false;
  DLKUNet model_{nullptr};
  DeepSupervision ds_{nullptr}; // --deep-supervision: the heads on the decoder's coarser levels
  std::vector<torch::Tensor> trained_parameters() const; // the model's, then the heads'
  std::unique_ptr<torch::optim::Optimizer> optim_;
  GradScaler scaler_{false};
  TrainPosition pos_;
  std::unique_ptr<SemiBranch> semi_; // --semi
  int64_t teacher_stats_at_ = -1;    // the iteration the teacher's statistics were made at
  double last_val_ = std::nan(""), last_other_val_ = std::nan(""); // the last validation's mean Dice
};

// Requests a graceful stop (signal handlers set it; the loop checks it after each step).
std::atomic<int>& stop_request();

// Trains (a Trainer, this header); log lines go to `log` (stderr in the tool), each epoch's
// progress to `progress`.
TrainOutcome run_training(TrainOptions opt, const std::function<void(const std::string&)>& log, const ProgressSink& progress = {});

} // namespace dlk
