// The training loop (dlk/train/trainer.h): Trainer::run reads as the paper's loop; the steps follow
// in the order they run.
#include "dlk/train/trainer.h"

#include "dlk/core/error.h"
#include "dlk/core/json_fields.h"
#include "dlk/core/whole_file.h"
#include "dlk/io/slices.h"
#include "dlk/model/checkpoint.h"
#include "dlk/model/torch_compat.h"
#include "dlk/train/augment.h"
#include "dlk/train/loss.h"
#include "dlk/train/semi_supervised.h"
#include "run_directory.h"
#include "semi_branch.h"
#include "trainer_parts.h"
#include "training_data.h"

#include <fmt/format.h>

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>

namespace fs = std::filesystem;

namespace dlk {

std::atomic<int>& stop_request() {
  static std::atomic<int> flag{0};
  return flag;
}

TrainOutcome run_training(TrainOptions opt, const std::function<void(const std::string&)>& log, const ProgressSink& progress) {
  return Trainer(std::move(opt), log, progress).run();
}

namespace {
double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
} // namespace

TrainPosition TrainPosition::at_start_of(int next_epoch) const {
  TrainPosition p = *this;
  p.epoch = next_epoch;
  p.batch = 0;
  p.steps = 0;
  p.sum_loss = p.sum_ce = p.sum_dice = p.sum_unsup = p.sum_confident = 0;
  std::fill(p.sum_levels.begin(), p.sum_levels.end(), 0.0);
  return p;
}

namespace {
// A checkpoint's "state": where the run stands, then (absent from older checkpoints) the sums
// of the epoch in progress.
const json::Fields<TrainPosition>& position_fields() {
  static const auto f = json::Fields<TrainPosition>("state")
      .add("epoch", &TrainPosition::epoch)
      .add("batch", &TrainPosition::batch)
      .add("iteration", &TrainPosition::iteration)
      .add("best", &TrainPosition::best)
      .add("best_epoch", &TrainPosition::best_epoch);
  return f;
}
const json::Fields<TrainPosition>& epoch_sum_fields() {
  static const auto f = json::Fields<TrainPosition>("state")
      .add("epoch_steps", &TrainPosition::steps)
      .add("epoch_sum_loss", &TrainPosition::sum_loss)
      .add("epoch_sum_ce", &TrainPosition::sum_ce)
      .add("epoch_sum_dice", &TrainPosition::sum_dice)
      .add_optional("epoch_sum_unsup", &TrainPosition::sum_unsup, 0.0) // semi-supervised runs
      .add_optional("epoch_sum_confident", &TrainPosition::sum_confident, 0.0)
      .add_optional("epoch_sum_levels", &TrainPosition::sum_levels, std::vector<double>{}); // deep supervision
  return f;
}
} // namespace

json::Value TrainPosition::to_json() const {
  json::Value st = position_fields().write(*this);
  epoch_sum_fields().write(*this, st);
  return st;
}

TrainPosition TrainPosition::from_json(const json::Value& s) {
  TrainPosition p;
  position_fields().read(s, p);
  if (s.find("epoch_steps")) epoch_sum_fields().read(s, p); // checkpoints of older versions lack them
  return p;
}

Trainer::Trainer(TrainOptions options, Log log, ProgressSink progress)
    : o_(std::move(options)), log_all_(std::move(log)), progress_(std::move(progress)) {}

Trainer::~Trainer() = default;

TrainOutcome Trainer::run() {
  t_start_ = Clock::now();
  join_processes();
  const auto logger = [this](const std::string& line) { log(line); };
  data_ = std::make_unique<TrainingData>(o_, logger); // makes o_'s paths absolute
  run_ = std::make_unique<RunDirectory>(o_.run_dir, dist_->rank() == 0, logger);
  choose_device();
  open_splits();
  set_determinism();
  build_model();
  resume();
  if (o_.epochs == 0) {
    save("final.dlkc", pos_, false);
    log("--epochs 0: wrote the freshly initialised model as final.dlkc");
    return TrainOutcome::Finished;
  }
  data_->start_loader(loader_threads(o_), dev_.is_cuda());
  if (o_.benchmark_loader) {
    data_->benchmark_loader(o_, dev_);
    return TrainOutcome::Finished;
  }
  run_->open_log(pos_.epoch, !o_.resume.empty());
  scaler_ = GradScaler(amp_ && o_.precision == "fp16");
  last_save_ = Clock::now();
  model_->train();
  for (int epoch = pos_.epoch; epoch < o_.epochs; ++epoch) {
    Epoch e;
    e.index = epoch;
    if (std::optional<TrainOutcome> outcome = run_epoch(e)) return *outcome;
    if (std::optional<TrainOutcome> outcome = end_epoch(e)) return *outcome;
  }
  save("final.dlkc", pos_, false);
  log(fmt::format("done: {} epochs, {} iterations; '{}'", o_.epochs, pos_.iteration,
                  (fs::path(o_.run_dir) / "final.dlkc").string()));
  compare_networks();
  return TrainOutcome::Finished;
}

// Several processes (Slurm tasks, torchrun): each trains on its part of every batch; rank 0
// alone validates, logs and writes checkpoints.
void Trainer::join_processes() {
  dist_ = Distributed::from_environment(o_.device.rfind("cuda", 0) == 0);
  if (dist_->active() && o_.device.rfind("cuda", 0) == 0) o_.device = fmt::format("cuda:{}", dist_->local_rank());
  if (dist_->active())
    log(fmt::format("data-parallel over {} process{} ({})", dist_->world(), dist_->world() == 1 ? "" : "es",
                    dist_->backend()));
  if (o_.processes > 0 && o_.processes != dist_->world()) // each process's share of a batch changes
    log(fmt::format("warning: the run started with {} process{} and goes on with {}: its numbers differ from an "
                    "uninterrupted run's", o_.processes, o_.processes == 1 ? "" : "es", dist_->world()));
  o_.processes = dist_->world();
}

void Trainer::choose_device() {
  dev_ = torch::Device(o_.device);
  if (dev_.is_cuda() && !compat::cuda_available())
    throw UsageError(fmt::format("--device {}: this LibTorch {} sees no CUDA device", o_.device, TORCH_VERSION));
  if (o_.precision != "bf16" && o_.precision != "fp16" && o_.precision != "fp32")
    throw UsageError(fmt::format("--precision: '{}' (bf16, fp16, fp32)", o_.precision));
  amp_ = dev_.is_cuda() && o_.precision != "fp32";
}

// The cases of the splits (a resumed run's are those it started with), every training slice,
// and the schedules' lengths.
void Trainer::open_splits() {
  data_->select_cases(o_);
  run_->check_cases(o_, data_->case_ids());
  data_->index_slices(o_);
}

// Determinism and speed settings.
void Trainer::set_determinism() {
  torch::manual_seed(o_.seed);
  use_depthwise_kernels(o_.depthwise == "dlk");
  if (o_.deterministic) {
    if (dev_.is_cuda()) use_depthwise_kernels(false); // their CUDA weight gradient sums with atomics, in no fixed order
    at::globalContext().setDeterministicCuDNN(true);
    at::globalContext().setBenchmarkCuDNN(false);
    at::globalContext().setDeterministicAlgorithms(true, false);
  } else if (dev_.is_cuda()) {
    at::globalContext().setBenchmarkCuDNN(true);
  }
}

void Trainer::build_model() {
  channels_last_ = use_channels_last(o_, dev_);
  model_ = new_model();
  if (o_.deep_supervision > 0) { // after the model: its initial weights stay those of a run without
    ds_ = DeepSupervision(o_.model, o_.deep_supervision);
    ds_->to(dev_);
    pos_.sum_levels.assign(size_t(o_.deep_supervision), 0.0);
  }
  optim_ = make_optimizer(o_, trained_parameters());
  if (o_.accumulate < 1) throw UsageError("--accumulate must be at least 1");
  if (o_.semi.on()) // the teacher starts as a copy of the student
    semi_ = std::make_unique<SemiBranch>(o_, data_->unlabelled(), new_model(), model_, dev_, channels_last_,
                                         loader_threads(o_));
}

std::vector<torch::Tensor> Trainer::trained_parameters() const {
  std::vector<torch::Tensor> p = model_->parameters();
  if (ds_)
    for (auto& t : ds_->parameters()) p.push_back(t);
  return p;
}

DLKUNet Trainer::new_model() const {
  DLKUNet m(o_.model);
  m->to(dev_);
  if (channels_last_) {
    torch::NoGradGuard no_grad;
    for (auto& p : m->parameters())
      if (p.dim() == 4) p.set_data(p.data().contiguous(torch::MemoryFormat::ChannelsLast));
  }
  return m;
}

// The run directory, and the state of the run being resumed; every process starts from rank 0's.
void Trainer::resume() {
  run_->create(!o_.resume.empty());
  if (!o_.resume.empty()) pos_ = run_->load_latest(model_, semi_.get(), ds_ ? ds_.get() : nullptr, *optim_, dev_);
  if (ds_ && pos_.sum_levels.size() != size_t(o_.deep_supervision)) pos_.sum_levels.assign(size_t(o_.deep_supervision), 0.0);
  {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> state;
    for (auto& [name, t] : model_tensors(model_)) state.push_back(t);
    if (ds_)
      for (auto& t : ds_->parameters()) state.push_back(t);
    if (semi_)
      for (auto& t : semi_->teacher_tensors()) state.push_back(t);
    dist_->broadcast(state);
  }
  run_->write_config(o_, preprocessing_json(data_->dataset(), o_.height, o_.width, data_->spacing()));
}

std::optional<TrainOutcome> Trainer::run_epoch(Epoch& e) {
  e.start = Clock::now();
  e.weights = o_.loss.at(e.index);
  plan_epoch(e);
  data_->loader().start_batches(e.parts, pos_.batch);
  if (semi_) semi_->start_epoch(e.index, int64_t(e.parts.size()), pos_.batch, dist_->rank(), dist_->world(), model_);
  // This process's running sums of the epoch; rank 0's start from those of a resumed checkpoint.
  const auto f64 = torch::TensorOptions().device(dev_).dtype(torch::kFloat64);
  const bool first = dist_->rank() == 0;
  e.sum_loss = torch::full({}, first ? pos_.sum_loss : 0.0, f64);
  e.sum_ce = torch::full({}, first ? pos_.sum_ce : 0.0, f64);
  e.sum_dice = torch::full({}, first ? pos_.sum_dice : 0.0, f64);
  e.sum_unsup = torch::full({}, first ? pos_.sum_unsup : 0.0, f64);
  e.sum_confident = torch::full({}, first ? pos_.sum_confident : 0.0, f64);
  e.sum_levels = torch::zeros({int64_t(pos_.sum_levels.size())}, f64);
  if (first && !pos_.sum_levels.empty())
    e.sum_levels = torch::tensor(pos_.sum_levels, torch::TensorOptions().dtype(torch::kFloat64)).to(dev_);
  e.steps = pos_.steps;
  e.lr = pos_.batch > 0 ? o_.lr.at(pos_.iteration - 1) : 0; // a resume at the epoch's end runs no step
  ProgressCounter bar(first ? progress_ : ProgressSink{}, fmt::format("epoch {}/{}", e.index + 1, o_.epochs),
                      data_->iters_per_epoch());
  bar.add(pos_.batch);
  std::vector<LoadedSlice> batch, unlabelled;
  for (int64_t b = pos_.batch; data_->loader().next(batch); ++b) {
    if (semi_ && !semi_->next(unlabelled)) throw Error("the unlabelled slices ran out before the labelled ones");
    e.lr = o_.lr.at(pos_.iteration);
    train_step(e, b, batch, unlabelled);
    ++e.steps;
    e.images += int64_t(batch.size());
    ++pos_.iteration;
    pos_.batch = b + 1;
    bar.add(1);
    if (std::optional<TrainOutcome> outcome = after_step(e, bar)) return outcome;
  }
  bar.finish();
  e.loader_rate = data_->loader().slices_per_second();
  return std::nullopt;
}

// This process's part of every global batch: slices [lo, hi) of it.
void Trainer::plan_epoch(Epoch& e) {
  auto order = epoch_order(data_->slices(), o_.seed, e.index);
  if (o_.oversample_foreground > 0)
    order = oversample_foreground(std::move(order), data_->foreground_slices(), data_->has_foreground(), o_.batch,
                                  o_.oversample_foreground, o_.seed, e.index);
  for (int64_t from = 0; from < int64_t(order.size()); from += o_.batch) {
    const int64_t n = std::min<int64_t>(o_.batch, int64_t(order.size()) - from);
    const int64_t lo = n * dist_->rank() / dist_->world(), hi = n * (dist_->rank() + 1) / dist_->world();
    e.parts.emplace_back(order.begin() + from + lo, order.begin() + from + hi);
    e.part_lo.push_back(lo);
    e.batch_size.push_back(n);
  }
}

void Trainer::train_step(Epoch& e, int64_t b, const std::vector<LoadedSlice>& batch,
                         const std::vector<LoadedSlice>& unlabelled) {
  set_lr(*optim_, e.lr);
  optim_->zero_grad();
  // Micro-batches of this process's part (and of its unlabelled part); each loss weighted by its
  // share of the global batch, so that the summed gradients are those of the whole batch's mean loss.
  const int64_t acc = std::max<int64_t>(o_.accumulate, 1), n = int64_t(batch.size()), nu = int64_t(unlabelled.size());
  const int64_t micro = std::max<int64_t>((n + acc - 1) / acc, 1), umicro = std::max<int64_t>((nu + acc - 1) / acc, 1);
  for (int64_t k = 0; k * micro < n || k * umicro < nu; ++k)
    forward_backward(e, b, batch, std::min(n, k * micro), std::min(n, (k + 1) * micro), unlabelled,
                     std::min(nu, k * umicro), std::min(nu, (k + 1) * umicro));
  if (dist_->active()) { // average over the processes: sum the share-weighted gradients
    std::vector<torch::Tensor> grads;
    for (auto& p : trained_parameters()) {
      if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
      grads.push_back(p.grad());
    }
    dist_->all_reduce_sum(grads);
  }
  scaler_.step(*optim_);
  if (semi_) semi_->after_step(model_, pos_.iteration);
}

// Slices [from, to) of this process's part of global batch `b` (and [ufrom, uto) of its unlabelled
// part): augmented, one forward of the student over both, the losses, backward.
void Trainer::forward_backward(Epoch& e, int64_t b, const std::vector<LoadedSlice>& batch, int64_t from, int64_t to,
                               const std::vector<LoadedSlice>& unlabelled, int64_t ufrom, int64_t uto) {
  std::vector<torch::Tensor> xs, ys;
  for (int64_t i = from; i < to; ++i) {
    // Each slice's augmentation has its own stream, keyed by its place in the global batch.
    std::mt19937_64 rng = augment_rng(o_.seed, e.index, b, e.part_lo[size_t(b)] + i);
    const LoadedSlice& in = batch[size_t(i)];
    auto r = training_slice(in, data_->train()[size_t(in.shard)]->meta(), o_, data_->spacing(), dev_, rng);
    xs.push_back(r.first);
    ys.push_back(r.second);
  }
  SemiBranch::Views u;
  if (semi_) u = semi_->views(e.index, b, unlabelled, ufrom, uto, data_->spacing(), amp_);
  const int64_t nl = int64_t(xs.size());
  std::vector<torch::Tensor> inputs; // the labelled slices, then the unlabelled ones
  if (nl > 0) inputs.push_back(torch::stack(xs));
  if (u.student_x.defined()) inputs.push_back(u.student_x);
  auto x = inputs.size() == 1 ? inputs[0] : torch::cat(inputs);
  if (channels_last_) x = channels_last_input(x);
  const double share = double(nl) / double(e.batch_size[size_t(b)]);
  LossParts l;
  SemiBranch::Loss ul;
  torch::Tensor total, supervised, levels;
  {
    compat::CudaAutocast ac(amp_, o_.precision == "fp16" ? at::kHalf : at::kBFloat16);
    // With deep supervision, the logits of every supervised level, level 0 (the model's) first.
    const std::vector<torch::Tensor> outs = ds_ ? ds_->forward(model_, x) : std::vector<torch::Tensor>{model_->forward(x)};
    const torch::Tensor& logits = outs[0];
    if (nl > 0) {
      const torch::Tensor y = torch::stack(ys);
      l = combined_loss(logits.narrow(0, 0, nl), y, e.weights.alpha, e.weights.beta);
      supervised = l.total * share;
      if (ds_) { // the levels' losses against the labels downsampled to each, weighted 1/2^level, normalised
        std::vector<torch::Tensor> per_level{l.total.detach().to(torch::kFloat64)};
        torch::Tensor sum = l.total * ds_->weights[0];
        for (size_t k = 1; k < outs.size(); ++k) {
          const torch::Tensor& o = outs[k];
          const LossParts lk = combined_loss(o.narrow(0, 0, nl), downsample_labels(y, o.size(2), o.size(3)),
                                             e.weights.alpha, e.weights.beta);
          sum = sum + lk.total * ds_->weights[k];
          per_level.push_back(lk.total.detach().to(torch::kFloat64));
        }
        supervised = sum * share;
        levels = torch::stack(per_level);
      }
      total = supervised;
    }
    if (u.student_x.defined()) { // the unlabelled loss by its share of the global unlabelled batch, ramped up
      ul = semi_->loss(logits.narrow(0, nl, logits.size(0) - nl), u.teacher_logits);
      const double ushare = double(uto - ufrom) / double(semi_->global_batch());
      e.unsup_weight = semi_->weight_at(pos_.iteration, data_->iters_per_epoch());
      const torch::Tensor t = ul.value * (e.unsup_weight * ushare);
      total = total.defined() ? total + t : t;
      e.sum_unsup += ul.value.detach().to(torch::kFloat64) * ushare;
      e.sum_confident += ul.confident.detach().to(torch::kFloat64) * ushare;
    }
  }
  try {
    scaler_.scale(total).backward();
  } catch (const c10::Error& err) {
    if (std::string(err.what()).find("out of memory") != std::string::npos)
      throw Error(fmt::format("out of GPU memory at {} slices of {}x{}: try --batch {} or --accumulate {}", x.size(0),
                              o_.height, o_.width, std::max<int64_t>(1, o_.batch / 2), 2 * o_.accumulate));
    throw;
  }
  if (nl == 0) return;
  e.sum_loss += supervised.detach().to(torch::kFloat64); // the loss optimised: with deep supervision, the levels' weighted sum
  if (levels.defined()) e.sum_levels += levels * share;
  e.sum_ce += l.ce.detach().to(torch::kFloat64) * share;
  e.sum_dice += l.dice.detach().to(torch::kFloat64) * share;
}

// A signal to any process stops them all at the same step; non-finite losses end the run
// (checked every 20 steps to keep the GPU fed). Saving on time is decided together too: a
// mid-epoch save sums the processes' losses.
std::optional<TrainOutcome> Trainer::after_step(Epoch& e, ProgressCounter& bar) {
  const bool check = e.steps % 20 == 0;
  const bool save_due = seconds_since(last_save_) > o_.save_minutes * 60;
  const auto flags = dist_->sum({double(stop_request().load() > 0),
                                 check ? (e.sum_loss + e.sum_unsup).item<double>() : 0.0, double(save_due)});
  const bool stop = flags[0] > 0; // what every process saw: a signal after the sum counts at the next step
  if (stop) stop_request() = 1;
  if (check && !std::isfinite(flags[1]))
    throw Error(fmt::format("the loss became {} at epoch {}, iteration {}: stopping; {} (try a lower --lr)", flags[1],
                            e.index, pos_.iteration, run_->last_good()));
  const bool out_of_steps = o_.max_steps > 0 && pos_.iteration >= o_.max_steps;
  if (!stop && !out_of_steps && !(flags[2] > 0)) return std::nullopt;
  save_mid_epoch(e);
  if (stop) {
    bar.finish();
    log(fmt::format("stopped by a signal at epoch {}, iteration {}: wrote '{}'; continue with --resume {}", e.index,
                    pos_.iteration, run_->latest(), o_.run_dir));
    return TrainOutcome::Stopped;
  }
  if (out_of_steps) {
    bar.finish();
    save("final.dlkc", pos_, false);
    log(fmt::format("--max-steps {} reached at epoch {}: wrote latest.dlkc and final.dlkc", o_.max_steps, e.index));
    return TrainOutcome::Finished;
  }
  return std::nullopt;
}

// The epoch's per-level loss sums of every process (deep supervision), as doubles.
static std::vector<double> level_sums(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kCPU).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

void Trainer::save_mid_epoch(const Epoch& e) {
  const auto sums = dist_->sum({e.sum_loss.item<double>(), e.sum_ce.item<double>(), e.sum_dice.item<double>(),
                                e.sum_unsup.item<double>(), e.sum_confident.item<double>()});
  if (e.sum_levels.numel()) pos_.sum_levels = dist_->sum(level_sums(e.sum_levels));
  if (!std::isfinite(sums[0] + sums[3])) throw Error("the loss became non-finite: not saving this state");
  pos_.steps = e.steps;
  pos_.sum_loss = sums[0];
  pos_.sum_ce = sums[1];
  pos_.sum_dice = sums[2];
  pos_.sum_unsup = sums[3];
  pos_.sum_confident = sums[4];
  save("latest.dlkc", pos_, true);
  last_save_ = Clock::now();
}

std::optional<TrainOutcome> Trainer::end_epoch(Epoch& e) {
  const int epoch = e.index;
  const auto sums = dist_->sum({e.sum_loss.item<double>(), e.sum_ce.item<double>(), e.sum_dice.item<double>(), double(e.images),
                                e.sum_unsup.item<double>(), e.sum_confident.item<double>()});
  const int64_t images = int64_t(sums[3]), steps = e.steps;
  const double mean_loss = steps ? sums[0] / double(steps) : std::nan("");
  if (steps && !std::isfinite(mean_loss))
    throw Error(fmt::format("the loss became {} in epoch {}: stopping; {} (try a lower --lr)", mean_loss, epoch, run_->last_good()));
  const double secs = seconds_since(e.start);

  json::Value line;
  line.set("epoch", epoch);
  line.set("iterations", pos_.iteration);
  line.set("loss", steps ? json::Value(mean_loss) : json::Value());
  line.set("ce", steps ? json::Value(sums[1] / double(steps)) : json::Value());
  line.set("dice_loss", steps ? json::Value(sums[2] / double(steps)) : json::Value());
  line.set("alpha", e.weights.alpha);
  line.set("beta", e.weights.beta);
  line.set("lr", e.lr);
  if (ds_) { // each supervised level's loss (level 0, the model's output, first) and its weight
    const auto per_level = dist_->sum(level_sums(e.sum_levels));
    json::Array losses;
    for (double v : per_level) losses.push_back(steps ? json::Value(v / double(steps)) : json::Value());
    line.set("level_losses", json::Value(losses));
    line.set("level_weights", json::Value(ds_->weights));
  }
  std::string semi_text;
  if (semi_) { // the unlabelled loss (weighted by unsup_weight in the total), its weight at the epoch's last step
    const double unsup = steps ? sums[4] / double(steps) : std::nan("");
    line.set("unsup_loss", steps ? json::Value(unsup) : json::Value());
    line.set("unsup_weight", e.unsup_weight);
    if (o_.semi.method == "mean-teacher") line.set("ema_decay", ema_decay_at(o_.semi.ema_decay, pos_.iteration - 1));
    else line.set("confident", steps ? json::Value(sums[5] / double(steps)) : json::Value());
    semi_text = fmt::format("  unlabelled {:.4f} x {:.3g}", unsup, e.unsup_weight);
  }
  std::string val_text;
  if (dist_->rank() == 0 && !data_->val().empty() && (epoch + 1) % std::max(1, o_.val_every) == 0)
    val_text = validate_and_keep_best(epoch, line);
  line.set("img_per_s", secs > 0 ? double(images) / secs : 0.0);
  line.set("loader_slices_per_s", e.loader_rate);
  line.set("peak_gpu_mem_gib", compat::peak_gpu_memory_gib(dev_));
  line.set("wall_s", seconds_since(t_start_));
  run_->append_log(line);
  log(fmt::format("epoch {}/{}  loss {:.4f} (CE {:.4f}, Dice {:.4f}; alpha {:.3f} beta {:.3f}){}  lr {:.3g}  {:.1f} img/s{}",
                  epoch + 1, o_.epochs, mean_loss, steps ? sums[1] / double(steps) : 0.0,
                  steps ? sums[2] / double(steps) : 0.0, e.weights.alpha, e.weights.beta, semi_text, e.lr,
                  secs > 0 ? double(images) / secs : 0.0, val_text));
  return next_epoch(epoch);
}

// Validates, records the Dice in the epoch's log line, and writes best.dlkc on a new best;
// returns the text for the epoch's log message.
std::string Trainer::validate_and_keep_best(int epoch, json::Value& line) {
  std::vector<double> other;
  auto dice = validate(semi_ ? &other : nullptr);
  const double mean = nanmean(dice);
  auto numbers = [](const std::vector<double>& v) {
    json::Array a;
    for (double d : v) a.push_back(std::isnan(d) ? json::Value() : json::Value(d));
    return json::Value(a);
  };
  line.set("val_dice", numbers(dice));
  line.set("val_mean_dice", std::isnan(mean) ? json::Value() : json::Value(mean));
  last_val_ = mean;
  std::string text = fmt::format("  val Dice {:.4f}", mean);
  if (semi_) { // which network that was (the checkpoints' model), and the other's for comparison
    const std::string& net = o_.semi.network;
    const double other_mean = nanmean(other);
    last_other_val_ = other_mean;
    line.set("val_network", net);
    line.set("val_other_network", o_.semi.other_network());
    line.set("val_other_dice", numbers(other));
    line.set("val_other_mean_dice", std::isnan(other_mean) ? json::Value() : json::Value(other_mean));
    text = fmt::format("  val Dice {:.4f} ({}; {} {:.4f})", mean, net, o_.semi.other_network(), other_mean);
  }
  if (!std::isnan(mean) && mean > pos_.best) {
    pos_.best = mean;
    pos_.best_epoch = epoch;
    save("best.dlkc", pos_.at_start_of(epoch + 1), false);
    text += " (best)";
  }
  return text;
}

// The network checkpoints hold: with --semi, the teacher or the student as --semi-network says.
std::vector<double> Trainer::validate(std::vector<double>* other) {
  own_teacher_statistics();
  DLKUNet& net = semi_ ? semi_->exported(model_) : model_;
  if (semi_ && other) {
    DLKUNet& not_exported = &net == &model_ ? semi_->teacher() : model_;
    *other = validation_dice(not_exported, data_->val(), o_, dev_, o_.model.classes, data_->spacing());
  }
  return validation_dice(net, data_->val(), o_, dev_, o_.model.classes, data_->spacing());
}

// The teacher's statistics from 16 batches composed as the student's forward passes are, for
// batch norm normalises over them: a process's share of a micro-batch of labelled slices, and of
// unlabelled ones with their noise. (Of clean slices of all train cases alike, statistics that
// mixed the cases' backgrounds otherwise left the student itself segmenting nothing on BraTS.)
// The slices are prepared as validation prepares them and picked by the seed, the same every
// time: a function of the teacher's weights alone, so that a resumed run's checkpoints are those
// of an uninterrupted one.
void Trainer::own_teacher_statistics() {
  if (!semi_ || o_.semi.method != "mean-teacher" || teacher_stats_at_ == pos_.iteration) return;
  std::mt19937_64 rng(o_.seed + 0x5eed);
  auto shuffled = [&rng](const std::vector<std::shared_ptr<ShardFile>>& shards) {
    std::vector<std::pair<ShardFile*, int64_t>> all;
    for (auto& f : shards)
      for (int64_t s = 0; s < f->meta().n_slices; ++s) all.emplace_back(f.get(), s);
    for (size_t i = all.size(); i > 1; --i) std::swap(all[i - 1], all[size_t(rng() % i)]); // Fisher-Yates: the same everywhere
    return all;
  };
  const auto labelled = shuffled(data_->train()), unlabelled = shuffled(data_->unlabelled());
  const int64_t parts = int64_t(dist_->world()) * std::max<int64_t>(o_.accumulate, 1);
  const int64_t nl = std::max<int64_t>(1, o_.batch / parts), nu = std::max<int64_t>(1, semi_->global_batch() / parts);
  semi_->recompute_statistics([&](DLKUNet& teacher) {
    for (int64_t k = 0; k < 16; ++k) {
      std::vector<torch::Tensor> xs;
      for (int64_t j = 0; j < nl; ++j) {
        const auto& [f, s] = labelled[size_t(k * nl + j) % labelled.size()];
        xs.push_back(model_slice(*f, s, o_, dev_, data_->spacing()).first);
      }
      for (int64_t j = 0; j < nu; ++j) {
        const auto& [f, s] = unlabelled[size_t(k * nu + j) % unlabelled.size()];
        torch::Tensor x = model_slice(*f, s, o_, dev_, data_->spacing()).first;
        const std::vector<int64_t> sizes(x.sizes().begin(), x.sizes().end());
        xs.push_back(x + gaussian_noise(sizes, o_.semi.noise, rng, 2).to(dev_));
      }
      torch::Tensor x = torch::stack(xs);
      if (channels_last_) x = channels_last_input(x);
      compat::CudaAutocast ac(amp_, o_.precision == "fp16" ? at::kHalf : at::kBFloat16);
      teacher->forward(x);
    }
  });
  teacher_stats_at_ = pos_.iteration;
}

void Trainer::compare_networks() const {
  if (!semi_ || std::isnan(last_val_) || std::isnan(last_other_val_) || last_other_val_ - last_val_ <= 0.1) return;
  const std::string& net = o_.semi.network;
  const std::string other = o_.semi.other_network();
  log(fmt::format("warning: the {} (the checkpoints' model) scored a mean validation Dice of {:.4f} in the last validation, "
                  "the {} {:.4f}: segment with dlk-infer --network {}, or train with --semi-network {}",
                  net, last_val_, other, last_other_val_, other, other));
}

// The position moves on to the next epoch; latest.dlkc when due; a signal stops here.
std::optional<TrainOutcome> Trainer::next_epoch(int epoch) {
  pos_ = pos_.at_start_of(epoch + 1);
  if ((epoch + 1) % std::max(1, o_.save_every) == 0 || epoch + 1 == o_.epochs) {
    save("latest.dlkc", pos_, true);
    last_save_ = Clock::now();
  }
  if (stop_request()) {
    log(fmt::format("stopped by a signal after epoch {}: continue with --resume {}", epoch + 1, o_.run_dir));
    if ((epoch + 1) % std::max(1, o_.save_every) != 0) save("latest.dlkc", pos_, true);
    return TrainOutcome::Stopped;
  }
  return std::nullopt;
}

void Trainer::save(const std::string& name, const TrainPosition& p, bool with_optimizer) {
  if (dist_->rank() != 0) return;
  own_teacher_statistics();
  run_->save(name, p, model_, semi_.get(), ds_ ? ds_.get() : nullptr, data_->dataset().classes,
             with_optimizer ? optim_.get() : nullptr);
}

void Trainer::log(const std::string& line) const {
  if (dist_->rank() == 0) log_all_(line);
}

} // namespace dlk
