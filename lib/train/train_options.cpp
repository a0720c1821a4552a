// TrainOptions: dlk-train's options, their checks, config.json (to_json and from_json) and how a
// resumed run's config.json and the command line combine.
#include "dlk/train/train_options.h"
#include "dlk/core/error.h"
#include "dlk/core/json_fields.h"
#include "dlk/core/notice.h"
#include "dlk/core/value_checks.h"
#include "dlk/core/whole_file.h"
#include "dlk/model/device.h"
#include "dlk/shard/dataset.h"
#include "dlk/train/nnunet_augmentation.h"
#include "dlk/train/deep_supervision.h"

#include <fmt/format.h>

#include <torch/cuda.h>

#include <filesystem>

namespace fs = std::filesystem;

namespace dlk {

// config.json: one field list drives both directions (order = the file's key order).
static const json::Fields<TrainOptions>& train_fields() {
  using T = TrainOptions;
  using V = json::Value;
  static const auto f = json::Fields<T>()
      .add("dataset", &T::dataset)
      .add("run_dir", &T::run_dir)
      .add("model", [](const T& t) { return t.model.to_json(); },
           [](const V& v, T& t, const char*) { t.model = ModelConfig::from_json(v); })
      .add("size", [](const T& t) { return V(std::vector<int64_t>{t.height, t.width}); },
           [](const V& v, T& t, const char* what) {
             const auto size = v.as_numbers(what);
             if (size.size() != 2) throw Error("size needs two numbers");
             t.height = int64_t(size[0]);
             t.width = int64_t(size[1]);
           })
      .add("epochs", &T::epochs)
      .add("batch", &T::batch)
      .add("accumulate", &T::accumulate)
      .add("max_steps", &T::max_steps)
      .add("device", &T::device)
      .add("precision", &T::precision)
      .add("channels_last", &T::channels_last)
      .add("deterministic", &T::deterministic)
      .add_optional("depthwise", &T::depthwise, std::string("dlk"))
      .add("seed", &T::seed)
      .add("augment", &T::augment)
      .add_optional("deep_supervision", &T::deep_supervision, 0) // older runs: none of these
      .add_optional("oversample_foreground", &T::oversample_foreground, 0.0)
      .add("loss", [](const T& t) { return t.loss.to_json(); }, // after "epochs", which it needs
           [](const V& v, T& t, const char*) { t.loss = LossSchedule::from_json(v, t.epochs); })
      .add("lr", [](const T& t) { return t.lr.to_json(); },
           [](const V& v, T& t, const char*) { t.lr = LrSchedule::from_json(v); })
      .add("optimizer", &T::optimizer)
      .add("weight_decay", &T::weight_decay)
      .add("momentum", &T::momentum)
      .add_optional("nesterov", &T::nesterov, false)
      .add_optional("optimizer_step", &T::optimizer_step, std::string("loop")) // older runs: torch::optim's
      .add("train_split", &T::train_split)
      .add("val_split", &T::val_split)
      .add_optional("fold", &T::fold, -1)
      .add("val_every", &T::val_every)
      .add("save_every", &T::save_every)
      .add("save_minutes", &T::save_minutes)
      .add_optional("threads", &T::threads, 0) // older runs: not recorded
      .add_optional("processes", &T::processes, 0)
      .add_optional("cases", &T::cases, json::Value());
  return f;
}

static const json::Fields<SemiOptions>& semi_fields() {
  using S = SemiOptions;
  static const auto f = json::Fields<S>("semi")
      .add("method", &S::method)
      .add("weight", [](const S& s) { return json::Value(s.weight.value_or(-1)); }, // resolved before it is written
           [](const json::Value& v, S& s, const char* what) { s.weight = v.as_number(what); })
      .add("ramp_epochs", [](const S& s) { return json::Value(s.ramp_epochs.value_or(-1)); },
           [](const json::Value& v, S& s, const char* what) { s.ramp_epochs = v.as_number(what); })
      .add("ema_decay", &S::ema_decay)
      .add("threshold", &S::threshold)
      .add("refresh_every", &S::refresh_every)
      .add("batch", &S::batch)
      .add("noise", &S::noise)
      .add("network", &S::network)
      .add("ignore_labels_of", &S::ignore_labels_of);
  return f;
}

json::Value SemiOptions::to_json() const { return semi_fields().write(*this); }

SemiOptions SemiOptions::from_json(const json::Value& v) {
  SemiOptions s;
  semi_fields().read(v, s);
  return s;
}

void SemiOptions::validate() const {
  require_one_of("--semi", method, {"none", "mean-teacher", "pseudo-label"});
  if (!on()) return;
  if (weight) require_non_negative("--semi-weight", *weight);
  if (ramp_epochs) require_non_negative("--semi-ramp", *ramp_epochs);
  require_unit_interval("--ema-decay", ema_decay, true);
  require_unit_interval("--pseudo-threshold", threshold, true);
  require_at_least("--pseudo-refresh", refresh_every, 1);
  require_at_least("--unlabelled-batch", batch, 0);
  require_non_negative("--semi-noise", noise);
  if (!network.empty()) require_one_of("--semi-network", network, {"teacher", "student"});
}

void SemiOptions::resolve_defaults(int epochs) {
  if (!on()) return;
  if (!weight) weight = method == "mean-teacher" ? 0.1 : 1.0;
  if (!ramp_epochs) ramp_epochs = epochs / 4.0;
  // The mean teacher is the better network of the two (its point); pseudo-labels' teacher is
  // an older copy of the student.
  if (network.empty()) network = method == "mean-teacher" ? "teacher" : "student";
}

// "semi" is written only for a semi-supervised run, so that other runs' config.json is as before.
json::Value TrainOptions::to_json() const {
  json::Value v = train_fields().write(*this);
  if (semi.on()) v.set("semi", semi.to_json());
  return v;
}

TrainOptions TrainOptions::from_json(const json::Value& c) {
  TrainOptions t;
  train_fields().read(c, t);
  if (const json::Value* s = c.find("semi")) t.semi = SemiOptions::from_json(*s);
  return t;
}

namespace {
std::string absolute_normal(const std::string& path) {
  if (path.empty()) return path;
  fs::path p = fs::absolute(path).lexically_normal();
  if (p.filename().empty() && p.has_relative_path()) p = p.parent_path(); // "runs/A/" -> "runs/A"
  return p.string();
}
} // namespace

void TrainOptions::validate() const {
  require_at_least("--epochs", epochs, 0);
  require_at_least("--max-steps", max_steps, 0);
  require_at_least("--batch", batch, 1);
  require_at_least("--accumulate", accumulate, 1);
  require_at_least("--val-every", val_every, 1);
  require_at_least("--save-every", save_every, 1);
  require_non_negative("--save-minutes", save_minutes);
  require_split("--train-split", train_split);
  require_split("--val-split", val_split);
  require_at_least("--fold", fold, -1);
  require_one_of("--depthwise", depthwise, {"dlk", "torch"});
  require_one_of("--augment", augment, {"paper", "transunet", "nnunet", "nnunet-elastic", "none"});
  check_augmentation_size(augment, height, width);
  require_unit_interval("--oversample-foreground", oversample_foreground, false);
  if (nesterov && (optimizer != "sgd" || !(momentum > 0)))
    throw UsageError(fmt::format("--nesterov: with --optimizer sgd and a --momentum above 0 (not {} with {})", optimizer, momentum));
  require_precision("--precision", precision);
  require_one_of("--optimizer", optimizer, {"adam", "adamw", "sgd"});
  require_one_of("--optimizer-step", optimizer_step, {"auto", "fused", "foreach", "loop"});
  if ((optimizer_step == "fused" || optimizer_step == "foreach") && optimizer == "sgd")
    throw UsageError(fmt::format("--optimizer-step {}: for --optimizer adam or adamw (SGD steps one tensor at a time)", optimizer_step));
  require_positive("--lr", lr.base);
  require_non_negative("--weight-decay", weight_decay);
  require_unit_interval("--momentum", momentum, false);
  require_one_of("--schedule", lr.kind, {"step", "poly", "cosine", "constant"});
  require_at_least("--step-epochs", lr.step_epochs, 1);
  require_positive("--gamma", lr.gamma);
  require_non_negative("--power", lr.power);
  require_non_negative("--min-lr", lr.min_lr);
  require_at_least("--warmup", lr.warmup, 0);
  if (!lr.phases.empty() && lr.kind != "step" && lr.kind != "constant")
    throw UsageError(fmt::format("--lr-phases: with --schedule step or constant (not {})", lr.kind));
  require_one_of("--loss", loss.strategy, {"ordinary", "phase", "dynamic"});
  require_non_negative("--alpha", loss.fixed.alpha);
  require_non_negative("--beta", loss.fixed.beta);
  for (auto& p : loss.phases) {
    require_non_negative("--loss-phases", p.w.alpha);
    require_non_negative("--loss-phases", p.w.beta);
  }
  require_unit_interval("--dynamic-a", loss.A, true);
  require_unit_interval("--dynamic-b", loss.B, true);
  require_positive("--dynamic-k", loss.k);
  if (deep_supervision != 0) resolve_deep_supervision(deep_supervision, model, height, width);
  semi.validate();
}

void TrainOptions::make_paths_absolute() {
  dataset = absolute_normal(dataset);
  run_dir = absolute_normal(run_dir);
}

TrainOptions TrainOptions::resumed(const TrainOptions& command_line, bool epochs_given, bool max_steps_given,
                                   bool threads_given) {
  const std::string cfg = (fs::path(command_line.resume) / "config.json").string();
  TrainOptions t;
  try {
    t = TrainOptions::from_json(json::Value::parse(read_text_file(cfg)));
  } catch (const Error& e) {
    fail_naming(cfg, e);
  }
  t.resume = command_line.resume;
  t.benchmark_loader = command_line.benchmark_loader;
  t.accept_changed_cases = command_line.accept_changed_cases;
  // The run's threads unless -j says otherwise (a run of an older version: this command line's).
  if (t.threads > 0 && threads_given && command_line.threads != t.threads) {
    const std::string what = fmt::format("-j {}: the run in '{}' used -j {} (config.json)", command_line.threads, t.resume, t.threads);
    if (t.deterministic)
      throw UsageError(what + "; another thread count changes a --deterministic run's numbers: resume without -j");
    notice(what + "; going on with " + std::to_string(command_line.threads) + " threads, whose rounding differs");
    t.threads = command_line.threads;
  } else if (t.threads == 0) {
    t.threads = command_line.threads;
  }
  if (epochs_given) t.epochs = command_line.epochs;
  if (max_steps_given) t.max_steps = command_line.max_steps;
  if (!command_line.run_dir.empty() && fs::path(command_line.run_dir) != fs::path(t.resume))
    throw UsageError("--resume continues in its own run directory: give no -o, or the same");
  t.run_dir = t.resume;
  t.validate();
  t.model.validate();
  return t;
}

void TrainOptions::check_new_run() {
  if (dataset.empty()) throw UsageError("no dataset: dlk-train DATASET -o RUNDIR (or --summary, or --resume RUNDIR)");
  if (run_dir.empty()) throw UsageError("no run directory: give -o RUNDIR");
  if (accept_changed_cases) throw UsageError("--accept-changed-cases goes with --resume RUNDIR");
  loss.epochs = epochs;
  validate(); // before reading any data
  semi.resolve_defaults(epochs);
  Dataset ds = Dataset::load(dataset);
  if (fold >= 0 && fold >= ds.folds)
    throw UsageError(ds.folds ? fmt::format("--fold {}: the dataset has folds 0..{}", fold, ds.folds - 1)
                              : fmt::format("--fold {}: the dataset has no folds (dlk-prep --folds K)", fold));
  if (model.classes == 0) model.classes = int64_t(ds.classes.size());
  if (model.in_channels == 0) model.in_channels = int64_t(ds.channels.size());
  model.validate();
  if (supervised_levels != 0 && !deep_supervision_requested)
    throw UsageError("--supervised-levels: goes with --deep-supervision");
  if (deep_supervision_requested) deep_supervision = resolve_deep_supervision(supervised_levels, model, height, width);
}

void TrainOptions::set_device(const std::string& requested) {
  device = resolve_device(requested);
}

} // namespace dlk
