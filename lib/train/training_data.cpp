// What a run trains and validates on (training_data.h).
#include "training_data.h"

#include "dlk/core/error.h"
#include "trainer_parts.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

namespace fs = std::filesystem;

namespace dlk {

int loader_threads(const TrainOptions& o) {
  const int threads = o.threads > 0 ? o.threads : int(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, threads / 2);
}

TrainingData::TrainingData(TrainOptions& o, Log log) : log_(std::move(log)) {
  o.make_paths_absolute();
  ds_ = Dataset::load(o.dataset);
  if (o.model.in_channels != int64_t(ds_.channels.size()) || o.model.classes != int64_t(ds_.classes.size()))
    throw UsageError(fmt::format("the model has {} input channels and {} classes, the dataset {} and {}",
                                 o.model.in_channels, o.model.classes, ds_.channels.size(), ds_.classes.size()));
  o.model.validate();
}

TrainingData::~TrainingData() = default;

// The cases of `split` (with `fold` >= 0: those in fold `fold`, or those not in it) that learn
// from labels (`labelled`) or without. Validation keeps its labels; --ignore-labels-of takes
// those of training cases.
TrainingData::Shards TrainingData::open_split(const TrainOptions& o, const std::string& split, int fold, bool in_fold,
                                              bool labelled) const {
  const auto& ignored = o.semi.ignore_labels_of;
  auto labels_ignored = [&](const DatasetCase& c) { return std::find(ignored.begin(), ignored.end(), c.id) != ignored.end(); };
  Shards out;
  for (auto* c : ds_.split(split)) {
    if (fold >= 0 && (c->fold == fold) != in_fold) continue;
    const bool learns_labels = c->has_label && !(!in_fold && labels_ignored(*c)); // validation keeps its labels
    if (learns_labels != labelled) continue;
    out.push_back(ds_.open_shard(o.dataset, *c)); // checked against dataset.json
  }
  return out;
}

// With --fold k: the train split's cases of the other folds, and those of fold k to validate.
// --semi: the train split's cases without labels, and those of --ignore-labels-of, learn unlabelled.
void TrainingData::select_cases(const TrainOptions& o) {
  const auto& ignored = o.semi.ignore_labels_of;
  if (o.fold >= ds_.folds) fail(o.dataset, fmt::format("--fold {}: the dataset has {} folds", o.fold, ds_.folds));
  const auto train_cases = ds_.split(o.train_split);
  for (auto& id : ignored) {
    if (std::none_of(train_cases.begin(), train_cases.end(), [&](auto* c) { return c->id == id && (o.fold < 0 || c->fold != o.fold); }))
      throw UsageError(fmt::format("--ignore-labels-of: no case '{}' in the cases the run trains on ('{}' split{})", id,
                                   o.train_split, o.fold >= 0 ? fmt::format(" less fold {}", o.fold) : ""));
  }
  train_ = open_split(o, o.train_split, o.fold, false, true);
  val_ = o.fold >= 0 ? open_split(o, o.train_split, o.fold, true, true) : open_split(o, o.val_split, -1, true, true);
  if (o.semi.on()) {
    unlabelled_ = open_split(o, o.train_split, o.fold, false, false);
    if (unlabelled_.empty())
      fail(o.dataset, fmt::format("--semi {}: no unlabelled case in the '{}' split (name labelled ones with "
                                  "--ignore-labels-of)", o.semi.method, o.train_split));
    log_(fmt::format("--semi {}: {} labelled and {} unlabelled cases", o.semi.method, train_.size(), unlabelled_.size()));
  } else if (!ignored.empty()) { // the labelled-only run to compare a semi-supervised one with
    log_(fmt::format("--ignore-labels-of without --semi: {} case(s) left out, training on {}", ignored.size(),
                     train_.size()));
  }
  if (o.fold >= 0)
    log_(fmt::format("fold {} of {}: training on {} cases, validating on {}", o.fold, ds_.folds, train_.size(),
                     val_.size()));
  if (train_.empty()) fail(o.dataset, fmt::format("no labelled case in the '{}' split", o.train_split));
}

namespace {
json::Value ids_of(const TrainingData::Shards& shards) {
  std::vector<std::string> ids;
  for (auto& f : shards) ids.push_back(f->meta().case_id);
  return json::Value(ids);
}
} // namespace

json::Value TrainingData::case_ids() const {
  json::Value now;
  now.set("train", ids_of(train_));
  now.set("unlabelled", ids_of(unlabelled_));
  now.set("val", ids_of(val_));
  return now;
}

void TrainingData::index_slices(TrainOptions& o) {
  if (o.fold < 0 && o.val_split == "test" && !val_.empty()) // as the official scripts do; say so
    log_("validating on the test split: best.dlkc is model selection on the test set; final.dlkc is not");
  for (size_t s = 0; s < train_.size(); ++s)
    for (int64_t i = 0; i < train_[s]->meta().n_slices; ++i) all_.push_back({int32_t(s), i});
  try {
    spacing_ = target_spacing(ds_, train_);
  } catch (const Error& e) {
    fail_naming((fs::path(o.dataset) / Dataset::kFileName).string(), e);
  }
  for (auto* shards : {&train_, &val_, &unlabelled_}) check_resampled_sizes(*shards, spacing_);
  if (!spacing_.empty()) log_(fmt::format("slices resampled to {:.4g} x {:.4g} mm, then cropped or padded to {}x{}", spacing_[0], spacing_[1], o.height, o.width));
  if (o.oversample_foreground > 0) find_foreground();
  ipe_ = (int64_t(all_.size()) + o.batch - 1) / o.batch;
  o.lr.iters_per_epoch = ipe_;
  o.lr.total_iters = ipe_ * std::max(o.epochs, 1);
  o.loss.epochs = o.epochs;
}

// Reads every training label slice once (cases without foreground voxels not even that).
void TrainingData::find_foreground() {
  has_foreground_.assign(train_.size(), {});
  for (size_t s = 0; s < train_.size(); ++s) {
    const ShardMeta& m = train_[s]->meta();
    has_foreground_[s].assign(size_t(m.n_slices), 0);
    int64_t voxels = 0;
    for (size_t c = 1; c < m.label_counts.size(); ++c) voxels += m.label_counts[c];
    if (!m.has_label || voxels == 0) continue;
    for (int64_t i = 0; i < m.n_slices; ++i) {
      const auto label = train_[s]->read_slice(i, false, true).label;
      if (std::any_of(label.begin(), label.end(), [](uint8_t v) { return v > 0; })) {
        has_foreground_[s][size_t(i)] = 1;
        foreground_.push_back({int32_t(s), i});
      }
    }
  }
  log_(fmt::format("--oversample-foreground: {} of {} training slices hold a foreground class", foreground_.size(), all_.size()));
  if (foreground_.empty()) log_("warning: no training slice holds a foreground class: nothing to oversample");
}

void TrainingData::start_loader(int threads, bool pinned) {
  loader_ = std::make_unique<SliceLoader>(train_, threads, pinned);
}

void TrainingData::benchmark_loader(const TrainOptions& o, const torch::Device& dev) {
  loader_->start(epoch_order(all_, o.seed, 0), o.batch);
  std::vector<LoadedSlice> b;
  const auto t0 = std::chrono::steady_clock::now();
  int64_t n = 0;
  while (loader_->next(b))
    for (auto& s : b) n += s.image.to(dev, true).size(0) > 0;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  log_(fmt::format("slice loader: {} slices in {:.2f} s = {:.0f} slices/s ({} decoding threads, {} pinned memory)", n, secs,
                   double(n) / secs, loader_threads(o), dev.is_cuda() ? "with" : "without"));
}

} // namespace dlk
