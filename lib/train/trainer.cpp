// The training loop. Every source of randomness is a pure function of (seed, epoch, batch):
// the slice order of an epoch and each slice's augmentation. With the model, optimizer and BN
// state in the checkpoint, a run resumed at any step continues exactly as it would have.
#include "dlk/checkpoint.h"
#include "dlk/cli.h"
#include "dlk/dataset.h"
#include "dlk/depthwise_conv.h"
#include "dlk/distributed.h"
#include "dlk/error.h"
#include "dlk/io.h"
#include "dlk/progress.h"
#include "dlk/torch_compat.h"
#include "dlk/json_fields.h"
#include "dlk/train.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace fs = std::filesystem;

namespace dlk {

bool GradScaler::step(torch::optim::Optimizer& opt) {
  if (!enabled_) {
    opt.step();
    return true;
  }
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> grads;
  for (auto& g : opt.param_groups())
    for (auto& p : g.params())
      if (p.grad().defined()) grads.push_back(p.grad());
  bool finite = true;
  for (auto& g : grads) finite = finite && torch::isfinite(g).all().item<bool>();
  if (!finite) {
    scale_ /= 2;
    good_ = 0;
    return false;
  }
  for (auto& g : grads) g.mul_(1.0 / scale_);
  opt.step();
  if (++good_ >= interval_) {
    scale_ *= 2;
    good_ = 0;
  }
  return true;
}

std::atomic<int>& stop_request() {
  static std::atomic<int> flag{0};
  return flag;
}

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
      .add("seed", &T::seed)
      .add("augment", &T::augment)
      .add("loss", [](const T& t) { return t.loss.to_json(); }, // after "epochs", which it needs
           [](const V& v, T& t, const char*) { t.loss = LossSchedule::from_json(v, t.epochs); })
      .add("lr", [](const T& t) { return t.lr.to_json(); },
           [](const V& v, T& t, const char*) { t.lr = LrSchedule::from_json(v); })
      .add("optimizer", &T::optimizer)
      .add("weight_decay", &T::weight_decay)
      .add("momentum", &T::momentum)
      .add("train_split", &T::train_split)
      .add("val_split", &T::val_split)
      .add("val_every", &T::val_every)
      .add("save_every", &T::save_every)
      .add("save_minutes", &T::save_minutes);
  return f;
}

json::Value TrainOptions::to_json() const { return train_fields().write(*this); }

TrainOptions TrainOptions::from_json(const json::Value& c) {
  TrainOptions t;
  train_fields().read(c, t);
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

int trim_train_log(const std::string& path, int epochs_done) {
  if (!fs::exists(path)) return 0;
  const std::string text = read_text_file(path);
  std::map<int64_t, std::string> keep; // epoch -> its last complete line
  int lines = 0;
  for (size_t start = 0; start < text.size();) {
    const size_t end = text.find('\n', start);
    const bool complete = end != std::string::npos; // a kill mid-write leaves a line unfinished
    const std::string line = text.substr(start, complete ? end - start : std::string::npos);
    start = complete ? end + 1 : text.size();
    if (line.empty()) continue;
    ++lines;
    if (!complete) continue;
    try {
      const json::Value v = json::Value::parse(line);
      const json::Value* e = v.is_object() ? v.find("epoch") : nullptr;
      if (e && e->is_number() && e->as_int() >= 0 && e->as_int() < epochs_done) keep[e->as_int()] = line;
    } catch (const Error&) { // not a line of ours: dropped
    }
  }
  std::string out;
  for (auto& [epoch, line] : keep) out += line + "\n";
  if (out != text) write_file_atomic(path, out);
  return lines - int(keep.size());
}

namespace {

using Clock = std::chrono::steady_clock;

uint64_t mix(uint64_t a, uint64_t b) { // splitmix64 of a combination: independent streams per key
  uint64_t z = a * 0x9E3779B97F4A7C15ull + b + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::vector<SliceRef> epoch_order(const std::vector<SliceRef>& all, uint64_t seed, int epoch) {
  std::vector<SliceRef> order = all;
  std::mt19937_64 rng(mix(seed, uint64_t(epoch)));
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[size_t(rng() % i)]); // Fisher-Yates
  return order;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainOptions& o, std::vector<torch::Tensor> params) {
  if (o.optimizer == "adam")
    return std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(o.lr.base).weight_decay(o.weight_decay));
  if (o.optimizer == "adamw")
    return std::make_unique<torch::optim::AdamW>(params, torch::optim::AdamWOptions(o.lr.base).weight_decay(o.weight_decay));
  if (o.optimizer == "sgd")
    return std::make_unique<torch::optim::SGD>(
        params, torch::optim::SGDOptions(o.lr.base).momentum(o.momentum).weight_decay(o.weight_decay));
  throw UsageError(fmt::format("--optimizer: '{}' (adam, adamw, sgd)", o.optimizer));
}

void set_lr(torch::optim::Optimizer& opt, double lr) {
  for (auto& g : opt.param_groups()) g.options().set_lr(lr);
}

torch::Tensor optimizer_blob(torch::optim::Optimizer& opt) {
  torch::serialize::OutputArchive ar;
  opt.save(ar);
  std::ostringstream os;
  ar.save_to(os);
  const std::string s = os.str();
  auto t = torch::empty({int64_t(s.size())}, torch::kUInt8);
  std::memcpy(t.data_ptr(), s.data(), s.size());
  return t;
}

void load_optimizer_blob(torch::optim::Optimizer& opt, const torch::Tensor& t, const torch::Device& dev) {
  std::istringstream is(std::string(static_cast<const char*>(t.data_ptr()), size_t(t.numel())));
  torch::serialize::InputArchive ar;
  ar.load_from(is, dev);
  opt.load(ar);
}

struct Position {
  int epoch = 0;         // epoch in progress (or next)
  int64_t batch = 0;     // batches of it already done
  int64_t iteration = 0; // global
  double best = -1;      // best validation mean Dice
  int best_epoch = -1;
  // The epoch in progress so far, over all processes: its steps and the sums of their losses
  // (what its log.jsonl line averages), so that a run resumed mid-epoch logs the whole epoch.
  int64_t steps = 0;
  double sum_loss = 0, sum_ce = 0, sum_dice = 0;
};

// Whether the model's tensors are channels-last: when asked for (the default) and the depthwise
// convs that run prefer it: cuDNN's and oneDNN's, dlk's CPU kernels (a CPU step of DLKUNet-S is
// 17% faster so: BENCHMARKS.md) and its NHWC CUDA kernels; dlk's default CUDA kernels are NCHW.
static bool use_channels_last(const TrainOptions& o, const torch::Device& dev) {
  return o.channels_last && depthwise_prefers_channels_last(dev, true);
}

// Validation: per case, slices resized to the model size, argmax, Dice per class over the whole
// stack (a class absent from both prediction and truth does not count), mean over cases.
std::vector<double> validate(DLKUNet& model, const std::vector<std::shared_ptr<ShardFile>>& shards, const TrainOptions& o,
                             const torch::Device& dev, int64_t classes) {
  torch::NoGradGuard no_grad;
  model->eval();
  std::vector<double> sum(size_t(classes - 1), 0.0);
  std::vector<int64_t> n(size_t(classes - 1), 0);
  for (auto& sf : shards) {
    const ShardMeta& m = sf->meta();
    torch::Tensor I = torch::zeros({classes}, torch::kFloat64), P = I.clone(), R = I.clone();
    for (int64_t s0 = 0; s0 < m.n_slices; s0 += o.batch) {
      std::vector<torch::Tensor> imgs, labs;
      for (int64_t s = s0; s < std::min(m.n_slices, s0 + o.batch); ++s) {
        Slice sl = sf->read_slice(s);
        auto img = torch::from_blob(sl.image.data(), {m.channel_count(), m.height, m.width}, torch::kFloat32).clone().to(dev);
        auto lab = torch::from_blob(sl.label.data(), {m.height, m.width}, torch::kUInt8).to(torch::kInt64).to(dev);
        auto r = resize_slice(img, lab, o.height, o.width);
        imgs.push_back(r.first);
        labs.push_back(r.second);
      }
      auto x = torch::stack(imgs);
      if (use_channels_last(o, dev)) x = channels_last_input(x);
      compat::CudaAutocast ac(dev.is_cuda() && o.precision != "fp32", o.precision == "fp16" ? at::kHalf : at::kBFloat16);
      auto p = model->forward(x).argmax(1);
      auto t = torch::stack(labs);
      auto po = torch::one_hot(p, classes).sum({0, 1, 2}).to(torch::kCPU, torch::kFloat64);
      auto to = torch::one_hot(t, classes).sum({0, 1, 2}).to(torch::kCPU, torch::kFloat64);
      auto io = torch::one_hot(torch::where(p == t, p, torch::full_like(p, classes)), classes + 1)
                    .sum({0, 1, 2})
                    .slice(0, 0, classes)
                    .to(torch::kCPU, torch::kFloat64);
      I += io;
      P += po;
      R += to;
    }
    for (int64_t c = 1; c < classes; ++c) {
      const double denom = P[c].item<double>() + R[c].item<double>();
      if (denom == 0) continue;
      sum[size_t(c - 1)] += 2 * I[c].item<double>() / denom;
      ++n[size_t(c - 1)];
    }
  }
  std::vector<double> out;
  for (size_t c = 0; c < sum.size(); ++c) out.push_back(n[c] ? sum[c] / double(n[c]) : std::nan(""));
  model->train();
  return out;
}

double nanmean(const std::vector<double>& v) {
  double s = 0;
  int n = 0;
  for (double x : v)
    if (!std::isnan(x)) s += x, ++n;
  return n ? s / n : std::nan("");
}

} // namespace

int run_training(TrainOptions o, const std::function<void(const std::string&)>& log_all) {
  const auto t_start = Clock::now();
  // Several processes (Slurm tasks, torchrun): each trains on its part of every batch; rank 0
  // alone validates, logs and writes checkpoints.
  auto dist = Distributed::from_environment(o.device.rfind("cuda", 0) == 0);
  if (dist->active() && o.device.rfind("cuda", 0) == 0) o.device = fmt::format("cuda:{}", dist->local_rank());
  auto log = [&](const std::string& line) {
    if (dist->rank() == 0) log_all(line);
  };
  if (dist->active())
    log(fmt::format("data-parallel over {} process{} ({})", dist->world(), dist->world() == 1 ? "" : "es", dist->backend()));
  o.make_paths_absolute();
  Dataset ds = Dataset::load(o.dataset);
  if (o.model.in_channels != int64_t(ds.channels.size()) || o.model.classes != int64_t(ds.classes.size()))
    throw UsageError(fmt::format("the model has {} input channels and {} classes, the dataset {} and {}",
                                 o.model.in_channels, o.model.classes, ds.channels.size(), ds.classes.size()));
  o.model.validate();
  const torch::Device dev(o.device);
  if (dev.is_cuda() && !compat::cuda_available())
    throw UsageError(fmt::format("--device {}: this LibTorch {} sees no CUDA device", o.device, TORCH_VERSION));
  if (o.precision != "bf16" && o.precision != "fp16" && o.precision != "fp32")
    throw UsageError(fmt::format("--precision: '{}' (bf16, fp16, fp32)", o.precision));
  const bool amp = dev.is_cuda() && o.precision != "fp32";

  // Shards of the splits.
  auto open_split = [&](const std::string& split) {
    std::vector<std::shared_ptr<ShardFile>> out;
    for (auto* c : ds.split(split)) {
      if (!c->has_label) continue;
      out.push_back(ds.open_shard(o.dataset, *c)); // checked against dataset.json
    }
    return out;
  };
  auto train_shards = open_split(o.train_split), val_shards = open_split(o.val_split);
  if (train_shards.empty()) fail(o.dataset, fmt::format("no labelled case in the '{}' split", o.train_split));
  std::vector<SliceRef> all;
  for (size_t s = 0; s < train_shards.size(); ++s)
    for (int64_t i = 0; i < train_shards[s]->meta().n_slices; ++i) all.push_back({int32_t(s), i});
  const int64_t ipe = (int64_t(all.size()) + o.batch - 1) / o.batch;
  o.lr.iters_per_epoch = ipe;
  o.lr.total_iters = ipe * std::max(o.epochs, 1);
  o.loss.epochs = o.epochs;

  // Determinism and speed settings.
  torch::manual_seed(o.seed);
  if (o.deterministic) {
    if (dev.is_cuda()) use_depthwise_kernels(false); // their CUDA weight gradient sums with atomics, in no fixed order
    at::globalContext().setDeterministicCuDNN(true);
    at::globalContext().setBenchmarkCuDNN(false);
    at::globalContext().setDeterministicAlgorithms(true, false);
  } else if (dev.is_cuda()) {
    at::globalContext().setBenchmarkCuDNN(true);
  }

  DLKUNet model(o.model);
  model->to(dev);
  const bool cl = use_channels_last(o, dev);
  if (cl) {
    torch::NoGradGuard no_grad;
    for (auto& p : model->parameters())
      if (p.dim() == 4) p.set_data(p.data().contiguous(torch::MemoryFormat::ChannelsLast));
  }
  auto optim = make_optimizer(o, model->parameters());
  if (o.accumulate < 1) throw UsageError("--accumulate must be at least 1");

  // The run directory: a new run, or the one being resumed.
  fs::create_directories(o.run_dir);
  const std::string latest = (fs::path(o.run_dir) / "latest.dlkc").string();
  Position pos;
  if (!o.resume.empty()) {
    Checkpoint ck = load_checkpoint(latest);
    load_model_tensors(model, ck, latest);
    if (const torch::Tensor* st = ck.find("optim/state")) load_optimizer_blob(*optim, *st, dev);
    const json::Value& s = ck.meta.at("state");
    pos.epoch = int(s.at("epoch").as_int());
    pos.batch = s.at("batch").as_int();
    pos.iteration = s.at("iteration").as_int();
    pos.best = s.at("best").as_number();
    pos.best_epoch = int(s.at("best_epoch").as_int());
    if (const json::Value* e = s.find("epoch_steps")) { // checkpoints of older versions lack them
      pos.steps = e->as_int();
      pos.sum_loss = s.at("epoch_sum_loss").as_number();
      pos.sum_ce = s.at("epoch_sum_ce").as_number();
      pos.sum_dice = s.at("epoch_sum_dice").as_number();
    }
    log(fmt::format("resuming {} at epoch {}, batch {} (iteration {})", o.run_dir, pos.epoch, pos.batch, pos.iteration));
  } else if (fs::exists(latest)) {
    throw UsageError(fmt::format("'{}' holds a run already: --resume {} continues it, or choose another -o", o.run_dir, o.run_dir));
  }
  {
    torch::NoGradGuard no_grad; // every process starts from rank 0's state
    std::vector<torch::Tensor> state;
    for (auto& [name, t] : model_tensors(model)) state.push_back(t);
    dist->broadcast(state);
  }
  if (dist->rank() == 0) write_file_atomic((fs::path(o.run_dir) / "config.json").string(), o.to_json().dump(2) + "\n");

  json::Value extra;
  extra.set("preprocessing", preprocessing_json(ds, o.height, o.width));
  extra.set("training", o.to_json());
  auto save = [&](const std::string& name, const Position& p, bool with_optimizer) {
    if (dist->rank() != 0) return;
    json::Value e = extra;
    json::Value st;
    st.set("epoch", p.epoch);
    st.set("batch", p.batch);
    st.set("iteration", p.iteration);
    st.set("best", p.best);
    st.set("best_epoch", p.best_epoch);
    st.set("epoch_steps", p.steps);
    st.set("epoch_sum_loss", p.sum_loss);
    st.set("epoch_sum_ce", p.sum_ce);
    st.set("epoch_sum_dice", p.sum_dice);
    e.set("state", st);
    e.set("epoch", p.epoch);
    Checkpoint ck = make_checkpoint(model, ds.classes, e);
    if (with_optimizer) ck.tensors.emplace_back("optim/state", optimizer_blob(*optim));
    save_checkpoint((fs::path(o.run_dir) / name).string(), ck);
  };
  if (o.epochs == 0) {
    save("final.dlkc", pos, false);
    log("--epochs 0: wrote the freshly initialised model as final.dlkc");
    return 0;
  }

  const int threads = o.threads > 0 ? o.threads : int(std::max(1u, std::thread::hardware_concurrency()));
  SliceLoader loader(train_shards, std::max(1, threads / 2), dev.is_cuda());
  if (o.benchmark_loader) { // the loader alone, one epoch, nothing consuming but the copy to the device
    loader.start(epoch_order(all, o.seed, 0), o.batch);
    std::vector<LoadedSlice> b;
    const auto t0 = Clock::now();
    int64_t n = 0;
    while (loader.next(b))
      for (auto& s : b) n += s.image.to(dev, true).size(0) > 0;
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    log(fmt::format("slice loader: {} slices in {:.2f} s = {:.0f} slices/s ({} decoding threads, {} pinned memory)", n, secs,
                    double(n) / secs, std::max(1, threads / 2), dev.is_cuda() ? "with" : "without"));
    return 0;
  }
  auto last_good = [&] {
    return fs::exists(latest) ? "the last good checkpoint is '" + latest + "'" : std::string("no checkpoint was written yet");
  };
  std::ofstream jlog;
  if (dist->rank() == 0) {
    // log.jsonl agrees with the checkpoint: a kill between an epoch's line and its checkpoint (or
    // epochs after the last --save-every) left lines that the resumed run writes again; a new run
    // starts a new log.
    const std::string path = (fs::path(o.run_dir) / "log.jsonl").string();
    if (const int dropped = trim_train_log(path, pos.epoch))
      log(fmt::format("log.jsonl: dropped {} line(s) for epochs from {} on, which {}", dropped, pos.epoch,
                      o.resume.empty() ? "belong to an earlier run without a checkpoint" : "the checkpoint has not completed"));
    jlog.open(path, std::ios::app);
  }
  GradScaler scaler(amp && o.precision == "fp16");
  auto last_save = Clock::now();
  double loader_rate = 0;
  model->train();

  for (int epoch = pos.epoch; epoch < o.epochs; ++epoch) {
    const auto t_epoch = Clock::now();
    const LossWeights w = o.loss.at(epoch);
    // This process's part of every global batch: slices [lo, hi) of it.
    const auto order = epoch_order(all, o.seed, epoch);
    std::vector<std::vector<SliceRef>> parts;
    std::vector<int64_t> part_lo, batch_size;
    for (int64_t from = 0; from < int64_t(order.size()); from += o.batch) {
      const int64_t n = std::min<int64_t>(o.batch, int64_t(order.size()) - from);
      const int64_t lo = n * dist->rank() / dist->world(), hi = n * (dist->rank() + 1) / dist->world();
      parts.emplace_back(order.begin() + from + lo, order.begin() + from + hi);
      part_lo.push_back(lo);
      batch_size.push_back(n);
    }
    loader.start_batches(parts, pos.batch);
    // This process's running sums of the epoch; rank 0's start from those of a resumed checkpoint.
    const auto f64 = torch::TensorOptions().device(dev).dtype(torch::kFloat64);
    const bool first = dist->rank() == 0;
    torch::Tensor sum_loss = torch::full({}, first ? pos.sum_loss : 0.0, f64),
                  sum_ce = torch::full({}, first ? pos.sum_ce : 0.0, f64),
                  sum_dice = torch::full({}, first ? pos.sum_dice : 0.0, f64);
    int64_t steps = pos.steps, images = 0;
    double lr = pos.batch > 0 ? o.lr.at(pos.iteration - 1) : 0; // a resume at the epoch's end runs no step
    Progress bar(fmt::format("epoch {}/{}", epoch + 1, o.epochs), ipe, o.progress && dist->rank() == 0);
    bar.add(pos.batch);
    std::vector<LoadedSlice> batch;
    for (int64_t b = pos.batch; loader.next(batch); ++b) {
      lr = o.lr.at(pos.iteration);
      set_lr(*optim, lr);
      optim->zero_grad();
      // Micro-batches of this process's part; each loss weighted by its share of the global
      // batch, so that the summed gradients are those of the whole batch's mean loss.
      const int64_t n = int64_t(batch.size()), micro = (n + o.accumulate - 1) / std::max<int64_t>(o.accumulate, 1);
      for (int64_t m0 = 0; m0 < n; m0 += std::max<int64_t>(micro, 1)) {
        std::vector<torch::Tensor> xs, ys;
        for (int64_t i = m0; i < std::min(n, m0 + micro); ++i) {
          // Each slice's augmentation has its own stream, keyed by its place in the global batch.
          std::mt19937_64 rng(mix(mix(o.seed, uint64_t(epoch)), uint64_t(b) * 4096 + uint64_t(part_lo[size_t(b)] + i)));
          auto r = augment_slice(batch[size_t(i)].image.to(dev, /*non_blocking=*/true), batch[size_t(i)].label.to(dev, true),
                                 o.augment, rng, o.height, o.width);
          xs.push_back(r.first);
          ys.push_back(r.second);
        }
        auto x = torch::stack(xs), y = torch::stack(ys);
        if (cl) x = channels_last_input(x);
        const double share = double(xs.size()) / double(batch_size[size_t(b)]);
        LossParts l;
        {
          compat::CudaAutocast ac(amp, o.precision == "fp16" ? at::kHalf : at::kBFloat16);
          auto logits = model->forward(x);
          l = combined_loss(logits, y, w.alpha, w.beta);
        }
        try {
          scaler.scale(l.total * share).backward();
        } catch (const c10::Error& e) {
          if (std::string(e.what()).find("out of memory") != std::string::npos)
            throw Error(fmt::format("out of GPU memory at {} slices of {}x{}: try --batch {} or --accumulate {}", xs.size(),
                                    o.height, o.width, std::max<int64_t>(1, o.batch / 2), 2 * o.accumulate));
          throw;
        }
        sum_loss += l.total.detach().to(torch::kFloat64) * share;
        sum_ce += l.ce.detach().to(torch::kFloat64) * share;
        sum_dice += l.dice.detach().to(torch::kFloat64) * share;
      }
      if (dist->active()) { // average over the processes: sum the share-weighted gradients
        std::vector<torch::Tensor> grads;
        for (auto& p : model->parameters()) {
          if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
          grads.push_back(p.grad());
        }
        dist->all_reduce_sum(grads);
      }
      scaler.step(*optim);
      ++steps;
      images += n;
      ++pos.iteration;
      pos.batch = b + 1;
      bar.add(1);
      // A signal to any process stops them all at the same step; non-finite losses end the run
      // (checked every 20 steps to keep the GPU fed).
      // Saving on time is decided together too: a mid-epoch save sums the processes' losses.
      const bool check = steps % 20 == 0;
      const bool save_due = std::chrono::duration<double>(Clock::now() - last_save).count() > o.save_minutes * 60;
      const auto flags = dist->sum({double(stop_request().load() > 0), check ? sum_loss.item<double>() : 0.0,
                                    double(save_due)});
      const bool stop = flags[0] > 0; // what every process saw: a signal after the sum counts at the next step
      if (stop) stop_request() = 1;
      if (check && !std::isfinite(flags[1]))
        throw Error(fmt::format("the loss became {} at epoch {}, iteration {}: stopping; {} (try a lower --lr)", flags[1],
                                epoch, pos.iteration,
                                last_good()));
      const bool out_of_steps = o.max_steps > 0 && pos.iteration >= o.max_steps;
      if (stop || out_of_steps || flags[2] > 0) {
        const auto sums = dist->sum({sum_loss.item<double>(), sum_ce.item<double>(), sum_dice.item<double>()});
        if (!std::isfinite(sums[0])) throw Error("the loss became non-finite: not saving this state");
        pos.steps = steps;
        pos.sum_loss = sums[0];
        pos.sum_ce = sums[1];
        pos.sum_dice = sums[2];
        save("latest.dlkc", pos, true);
        last_save = Clock::now();
        if (stop) {
          bar.finish();
          log(fmt::format("stopped by a signal at epoch {}, iteration {}: wrote '{}'; continue with --resume {}", epoch,
                          pos.iteration, latest, o.run_dir));
          return kTrainInterrupted;
        }
        if (out_of_steps) {
          bar.finish();
          save("final.dlkc", pos, false);
          log(fmt::format("--max-steps {} reached at epoch {}: wrote latest.dlkc and final.dlkc", o.max_steps, epoch));
          return 0;
        }
      }
    }
    bar.finish();
    loader_rate = loader.slices_per_second();
    const auto sums = dist->sum({sum_loss.item<double>(), sum_ce.item<double>(), sum_dice.item<double>(), double(images)});
    images = int64_t(sums[3]);
    const double mean_loss = steps ? sums[0] / double(steps) : std::nan("");
    if (steps && !std::isfinite(mean_loss))
      throw Error(fmt::format("the loss became {} in epoch {}: stopping; {} (try a lower --lr)", mean_loss, epoch,
                              last_good()));
    const double secs = std::chrono::duration<double>(Clock::now() - t_epoch).count();

    json::Value line;
    line.set("epoch", epoch);
    line.set("iterations", pos.iteration);
    line.set("loss", steps ? json::Value(mean_loss) : json::Value());
    line.set("ce", steps ? json::Value(sums[1] / double(steps)) : json::Value());
    line.set("dice_loss", steps ? json::Value(sums[2] / double(steps)) : json::Value());
    line.set("alpha", w.alpha);
    line.set("beta", w.beta);
    line.set("lr", lr);
    std::string val_text;
    if (dist->rank() == 0 && !val_shards.empty() && (epoch + 1) % std::max(1, o.val_every) == 0) {
      auto dice = validate(model, val_shards, o, dev, o.model.classes);
      const double mean = nanmean(dice);
      json::Array per;
      for (double d : dice) per.push_back(std::isnan(d) ? json::Value() : json::Value(d));
      line.set("val_dice", json::Value(per));
      line.set("val_mean_dice", std::isnan(mean) ? json::Value() : json::Value(mean));
      val_text = fmt::format("  val Dice {:.4f}", mean);
      if (!std::isnan(mean) && mean > pos.best) {
        pos.best = mean;
        pos.best_epoch = epoch;
        Position p = pos;
        p.epoch = epoch + 1;
        p.batch = 0;
        p.steps = 0;
        p.sum_loss = p.sum_ce = p.sum_dice = 0;
        save("best.dlkc", p, false);
        val_text += " (best)";
      }
    }
    line.set("img_per_s", secs > 0 ? double(images) / secs : 0.0);
    line.set("loader_slices_per_s", loader_rate);
    line.set("peak_gpu_mem_gib", compat::peak_gpu_memory_gib(dev));
    line.set("wall_s", std::chrono::duration<double>(Clock::now() - t_start).count());
    if (dist->rank() == 0) {
      jlog << line.dump() << "\n";
      jlog.flush();
    }
    log(fmt::format("epoch {}/{}  loss {:.4f} (CE {:.4f}, Dice {:.4f}; alpha {:.3f} beta {:.3f})  lr {:.3g}  {:.1f} img/s{}",
                    epoch + 1, o.epochs, mean_loss, steps ? sums[1] / double(steps) : 0.0,
                    steps ? sums[2] / double(steps) : 0.0, w.alpha, w.beta, lr,
                    secs > 0 ? double(images) / secs : 0.0, val_text));
    pos.epoch = epoch + 1;
    pos.batch = 0;
    pos.steps = 0;
    pos.sum_loss = pos.sum_ce = pos.sum_dice = 0;
    if ((epoch + 1) % std::max(1, o.save_every) == 0 || epoch + 1 == o.epochs) {
      save("latest.dlkc", pos, true);
      last_save = Clock::now();
    }
    if (stop_request()) {
      log(fmt::format("stopped by a signal after epoch {}: continue with --resume {}", epoch + 1, o.run_dir));
      if ((epoch + 1) % std::max(1, o.save_every) != 0) save("latest.dlkc", pos, true);
      return kTrainInterrupted;
    }
  }
  save("final.dlkc", pos, false);
  log(fmt::format("done: {} epochs, {} iterations; '{}'", o.epochs, pos.iteration,
                  (fs::path(o.run_dir) / "final.dlkc").string()));
  return 0;
}

} // namespace dlk
