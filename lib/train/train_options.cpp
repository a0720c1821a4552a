// TrainOptions: dlk-train's options, their checks, config.json (to_json and from_json) and how a
// resumed run's config.json and the command line combine.
#include "dlk/cli.h"
#include "dlk/dataset.h"
#include "dlk/error.h"
#include "dlk/io.h"
#include "dlk/train.h"

#include <fmt/format.h>

#include <torch/cuda.h>

#include <filesystem>

namespace fs = std::filesystem;

namespace dlk {

json::Value TrainOptions::to_json() const {
  json::Value v;
  v.set("dataset", dataset);
  v.set("run_dir", run_dir);
  v.set("model", model.to_json());
  v.set("size", std::vector<int64_t>{height, width});
  v.set("epochs", epochs);
  v.set("batch", batch);
  v.set("accumulate", accumulate);
  v.set("max_steps", max_steps);
  v.set("device", device);
  v.set("precision", precision);
  v.set("channels_last", channels_last);
  v.set("deterministic", deterministic);
  v.set("seed", int64_t(seed));
  v.set("augment", augment);
  v.set("loss", loss.to_json());
  v.set("lr", lr.to_json());
  v.set("optimizer", optimizer);
  v.set("weight_decay", weight_decay);
  v.set("momentum", momentum);
  v.set("train_split", train_split);
  v.set("val_split", val_split);
  v.set("val_every", val_every);
  v.set("save_every", save_every);
  v.set("save_minutes", save_minutes);
  return v;
}

TrainOptions TrainOptions::from_json(const json::Value& c) {
  TrainOptions t;
  t.dataset = c.at("dataset").as_string("dataset");
  t.run_dir = c.at("run_dir").as_string("run_dir");
  t.model = ModelConfig::from_json(c.at("model"));
  const auto size = c.at("size").as_numbers("size");
  if (size.size() != 2) throw Error("size needs two numbers");
  t.height = int64_t(size[0]);
  t.width = int64_t(size[1]);
  t.epochs = int(c.at("epochs").as_int("epochs"));
  t.batch = c.at("batch").as_int("batch");
  t.accumulate = c.at("accumulate").as_int("accumulate");
  t.max_steps = c.at("max_steps").as_int("max_steps");
  t.device = c.at("device").as_string("device");
  t.precision = c.at("precision").as_string("precision");
  t.channels_last = c.at("channels_last").as_bool("channels_last");
  t.deterministic = c.at("deterministic").as_bool("deterministic");
  t.seed = uint64_t(c.at("seed").as_int("seed"));
  t.augment = c.at("augment").as_string("augment");
  t.loss = LossSchedule::from_json(c.at("loss"), t.epochs);
  t.lr = LrSchedule::from_json(c.at("lr"));
  t.optimizer = c.at("optimizer").as_string("optimizer");
  t.weight_decay = c.at("weight_decay").as_number("weight_decay");
  t.momentum = c.at("momentum").as_number("momentum");
  t.train_split = c.at("train_split").as_string("train_split");
  t.val_split = c.at("val_split").as_string("val_split");
  t.val_every = int(c.at("val_every").as_int("val_every"));
  t.save_every = int(c.at("save_every").as_int("save_every"));
  t.save_minutes = c.at("save_minutes").as_number("save_minutes");
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
  cli::require_at_least("--epochs", epochs, 0);
  cli::require_at_least("--max-steps", max_steps, 0);
  cli::require_at_least("--batch", batch, 1);
  cli::require_at_least("--accumulate", accumulate, 1);
  cli::require_at_least("--val-every", val_every, 1);
  cli::require_at_least("--save-every", save_every, 1);
  cli::require_non_negative("--save-minutes", save_minutes);
  cli::require_split("--train-split", train_split);
  cli::require_split("--val-split", val_split);
  cli::require_one_of("--augment", augment, {"paper", "transunet", "none"});
  cli::require_precision("--precision", precision);
  cli::require_one_of("--optimizer", optimizer, {"adam", "adamw", "sgd"});
  cli::require_positive("--lr", lr.base);
  cli::require_non_negative("--weight-decay", weight_decay);
  cli::require_unit_interval("--momentum", momentum, false);
  cli::require_one_of("--schedule", lr.kind, {"step", "poly", "cosine", "constant"});
  cli::require_at_least("--step-epochs", lr.step_epochs, 1);
  cli::require_positive("--gamma", lr.gamma);
  cli::require_non_negative("--power", lr.power);
  cli::require_non_negative("--min-lr", lr.min_lr);
  cli::require_at_least("--warmup", lr.warmup, 0);
  cli::require_one_of("--loss", loss.strategy, {"ordinary", "phase", "dynamic"});
  cli::require_non_negative("--alpha", loss.fixed.alpha);
  cli::require_non_negative("--beta", loss.fixed.beta);
  for (auto& p : loss.phases) {
    cli::require_non_negative("--loss-phases", p.w.alpha);
    cli::require_non_negative("--loss-phases", p.w.beta);
  }
  cli::require_unit_interval("--dynamic-a", loss.A, true);
  cli::require_unit_interval("--dynamic-b", loss.B, true);
  cli::require_positive("--dynamic-k", loss.k);
}

void TrainOptions::make_paths_absolute() {
  dataset = absolute_normal(dataset);
  run_dir = absolute_normal(run_dir);
}

TrainOptions TrainOptions::resumed(const TrainOptions& command_line, bool epochs_given, bool max_steps_given) {
  const std::string cfg = (fs::path(command_line.resume) / "config.json").string();
  TrainOptions t;
  try {
    t = TrainOptions::from_json(json::Value::parse(read_text_file(cfg)));
  } catch (const Error& e) {
    fail_naming(cfg, e);
  }
  t.resume = command_line.resume;
  t.threads = command_line.threads;
  t.benchmark_loader = command_line.benchmark_loader;
  if (epochs_given) t.epochs = command_line.epochs;
  if (max_steps_given) t.max_steps = command_line.max_steps;
  if (!command_line.run_dir.empty() && fs::path(command_line.run_dir) != fs::path(t.resume))
    throw UsageError("--resume continues in its own run directory: give no -o, or the same");
  t.run_dir = t.resume;
  t.validate();
  t.model.validate();
  return t;
}

void TrainOptions::check_new_run(const std::string& loss_phases) {
  if (dataset.empty()) throw UsageError("no dataset: dlk-train DATASET -o RUNDIR (or --summary, or --resume RUNDIR)");
  if (run_dir.empty()) throw UsageError("no run directory: give -o RUNDIR");
  loss.phases = LossSchedule::parse_phases(loss_phases);
  loss.epochs = epochs;
  validate(); // before reading any data
  Dataset ds = Dataset::load(dataset);
  if (model.classes == 0) model.classes = int64_t(ds.classes.size());
  if (model.in_channels == 0) model.in_channels = int64_t(ds.channels.size());
  model.validate();
}

void TrainOptions::set_device(const std::string& requested) {
  device = requested == "auto" ? (torch::cuda::is_available() ? "cuda" : "cpu") : requested;
  if (device != "cpu" && device.rfind("cuda", 0) != 0)
    throw UsageError(fmt::format("--device: '{}' (cpu, cuda, cuda:N)", requested));
}

} // namespace dlk
