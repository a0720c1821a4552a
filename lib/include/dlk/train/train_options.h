// dlk-train's options: the run's recipe, read from the command line or a run's config.json.
#pragma once
#include "dlk/core/json.h"
#include "dlk/model/model_config.h"
#include "dlk/train/loss_schedule.h"
#include "dlk/train/lr_schedule.h"

#include <cstdint>
#include <optional>
#include <string>

namespace dlk {

// Semi-supervised training (--semi): the unlabelled slices of the train split and a teacher.
struct SemiOptions {
  std::string method = "none"; // none, mean-teacher or pseudo-label
  // The unlabelled loss's weight after its sigmoid ramp-up over `ramp_epochs` (unset: the
  // method's default, resolved by check_new_run: 0.1 for the mean teacher's consistency, 1 for
  // pseudo-labels' cross-entropy; a quarter of --epochs). A value given is checked, never replaced.
  std::optional<double> weight, ramp_epochs;
  double ema_decay = 0.99;  // mean teacher: the teacher's EMA decay per step
  double threshold = 0.9;   // pseudo-label: the teacher's least probability of a target
  int refresh_every = 1;    // pseudo-label: the teacher becomes the student every N epochs
  int64_t batch = 0;        // unlabelled slices per step, over all processes (0: --batch)
  double noise = 0.1;       // Gaussian noise added to the unlabelled inputs (SD; clipped at 2 SD)
  std::string network = ""; // what checkpoints hold as the model: teacher or student ("": the method's)
  // Labelled train cases used as unlabelled; without --semi, left out (the labelled-only run to
  // compare with).
  std::vector<std::string> ignore_labels_of;
  bool on() const { return method != "none"; }
  // The network checkpoints do not hold as their model (`network` resolved).
  const char* other_network() const { return network == "teacher" ? "student" : "teacher"; }
  json::Value to_json() const;
  static SemiOptions from_json(const json::Value& v);
  void validate() const;
  void resolve_defaults(int epochs); // the method's weight, ramp and network where not given
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
  std::string depthwise = "dlk"; // dlk's depthwise kernels, or "torch": LibTorch's (comparisons)
  uint64_t seed = 1234;
  std::string augment = "paper";
  // Deep supervision (deep_supervision.h): the decoder levels supervised, level 0 included (0:
  // off). From --deep-supervision and --supervised-levels, resolved against the model by
  // check_new_run.
  int deep_supervision = 0;
  bool deep_supervision_requested = false; // the command line's --deep-supervision
  int supervised_levels = 0;               // and --supervised-levels (0: every decoder level)
  // The share of each batch drawn from slices that hold a foreground class (nnU-Net: 0.33); 0: off.
  double oversample_foreground = 0;
  LossSchedule loss;
  LrSchedule lr;
  std::string optimizer = "adam";
  double weight_decay = 1e-5, momentum = 0.9;
  bool nesterov = false; // SGD with Nesterov momentum
  // How Adam and AdamW update the weights: "fused" (LibTorch's one kernel over all tensors),
  // "foreach" (its multi-tensor ops), "loop" (one tensor at a time, torch::optim's); "auto" until
  // the device is known (make_optimizer: fused on a GPU where LibTorch has it, else loop). The
  // same arithmetic but for rounding; config.json records the one used, and --resume keeps it.
  std::string optimizer_step = "auto";
  std::string train_split = "train", val_split = "val";
  int fold = -1; // cross-validation: train on the train split's other folds, validate on this one
  int val_every = 1, save_every = 1;
  double save_minutes = 30;
  // Threads of LibTorch's CPU operations (-j, resolved: never 0 once the driver has set it). They
  // change a CPU run's numbers, so config.json records them and --resume restores them.
  int threads = 0;
  // Processes of a data-parallel run, recorded at its start (0: unknown, an older run's).
  int processes = 0;
  // The cases the run learns from and validates on, recorded at its start: {"train": [ids],
  // "unlabelled": [ids], "val": [ids]}; null in older runs' config.json. A resumed run whose
  // dataset now gives other cases (folds dealt again, splits edited) is refused unless
  // accept_changed_cases (--accept-changed-cases, a command-line option only).
  json::Value cases;
  bool accept_changed_cases = false;
  bool benchmark_loader = false; // only time the slice loader over one epoch
  SemiOptions semi;
  json::Value to_json() const;
  static TrainOptions from_json(const json::Value& v); // what to_json wrote (a run's config.json)
  // Checks the values of the options (not the model's, which need the dataset): a bad one is a
  // dlk::UsageError that names its option ("--lr: nan (a finite number > 0)").
  void validate() const;
  // Makes the dataset and run directory absolute and normal (no trailing '/'), so that the
  // config.json that records them serves --resume from any working directory.
  void make_paths_absolute();

  // dlk-train's command line, made whole (train_options.cpp). With --resume RUNDIR: the run's own
  // options from RUNDIR/config.json, with this command line's --resume, --benchmark-loader and
  // --accept-changed-cases, and its --epochs, --max-steps and -j where given; -o, if given, must
  // be RUNDIR. A -j other than the run's is refused for a --deterministic run (its numbers would
  // change) and reported through notice() otherwise.
  static TrainOptions resumed(const TrainOptions& command_line, bool epochs_given, bool max_steps_given,
                              bool threads_given);
  // A new run (loss.phases and lr.phases set from --loss-phases and --lr-phases): needs the
  // dataset and run directory and checks the options before reading any data; then the model's
  // classes and input channels that are 0 come from the dataset.
  void check_new_run();
  // --device: "auto" is cuda when LibTorch sees a GPU, else cpu; cpu, cuda or cuda:N.
  void set_device(const std::string& requested);
};

} // namespace dlk
