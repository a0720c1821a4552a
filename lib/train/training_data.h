// What a run trains and validates on (lib/train only): the dataset, its cases chosen for
// training, validation and (--semi) unlabelled learning by the splits, --fold and
// --ignore-labels-of, every training slice, the in-plane spacing slices are resampled to, and the
// slice loader of the training slices.
#pragma once
#include "dlk/core/json.h"
#include "dlk/shard/dataset.h"
#include "dlk/shard/shard_reader.h"
#include "dlk/train/slice_loader.h"
#include "dlk/train/train_options.h"

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace dlk {

// Slice-decoding threads of the loaders: half of --threads (all cores when 0), at least one.
int loader_threads(const TrainOptions& o);

class TrainingData {
public:
  using Log = std::function<void(const std::string&)>;
  using Shards = std::vector<std::shared_ptr<ShardFile>>;
  // The dataset of `o` (its paths, and the run directory's, made absolute), which must have the
  // model's input channels and classes. Log lines go to `log`.
  TrainingData(TrainOptions& o, Log log);
  ~TrainingData();

  // The cases: training (labelled), validation (fold k of the train split with --fold k, else the
  // val split) and with --semi the train split's unlabelled ones (those of --ignore-labels-of
  // among them); a UsageError or dlk::Error when none can train.
  void select_cases(const TrainOptions& o);
  // Their ids as config.json records them: {"train": [...], "unlabelled": [...], "val": [...]}.
  json::Value case_ids() const;
  // Every training slice, the target spacing (checked against every case), and the schedules'
  // lengths in `o` (iterations per epoch, in all, epochs of the loss schedule).
  void index_slices(TrainOptions& o);

  // The loader of the training slices (`pinned`: into pinned memory, for a GPU).
  void start_loader(int threads, bool pinned);
  SliceLoader& loader() { return *loader_; }
  // The loader alone, one epoch (in epoch 0's order), nothing consuming but the copy to `dev`;
  // logs its speed.
  void benchmark_loader(const TrainOptions& o, const torch::Device& dev);

  const Dataset& dataset() const { return ds_; }
  const Shards& train() const { return train_; }
  const Shards& val() const { return val_; }
  const Shards& unlabelled() const { return unlabelled_; }
  const std::vector<SliceRef>& slices() const { return all_; } // every training slice
  // With --oversample-foreground: the training slices that hold a class above 0, and per shard
  // and slice whether it does (empty otherwise).
  const std::vector<SliceRef>& foreground_slices() const { return foreground_; }
  const std::vector<std::vector<uint8_t>>& has_foreground() const { return has_foreground_; }
  // The in-plane spacing [x, y] slices are resampled to (the dataset's, its "auto" resolved);
  // empty: resized to the input size.
  const std::vector<double>& spacing() const { return spacing_; }
  int64_t iters_per_epoch() const { return ipe_; }

private:
  Shards open_split(const TrainOptions& o, const std::string& split, int fold, bool in_fold, bool labelled) const;

  Log log_;
  Dataset ds_;
  Shards train_, val_, unlabelled_;
  std::vector<SliceRef> all_, foreground_;
  std::vector<std::vector<uint8_t>> has_foreground_;
  void find_foreground();
  std::vector<double> spacing_;
  int64_t ipe_ = 0;
  std::unique_ptr<SliceLoader> loader_;
};

} // namespace dlk
