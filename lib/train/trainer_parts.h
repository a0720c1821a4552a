// The Trainer's parts (lib/train only): its random streams, the optimizer and validation.
#pragma once
#include "dlk/model/depthwise_conv.h"
#include "dlk/model/model.h"
#include "dlk/shard/dataset.h"
#include "dlk/shard/shard_reader.h"
#include "dlk/train/slice_loader.h"
#include "dlk/train/train_options.h"
#include "dlk/train/trainer.h"

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

namespace dlk {

// Randomness (random_streams.cpp): every stream is a pure function of the seed and its place.
// The slices of an epoch in the order it visits them: a shuffle keyed by (seed, epoch).
std::vector<SliceRef> epoch_order(const std::vector<SliceRef>& all, uint64_t seed, int epoch);
// Foreground oversampling (--oversample-foreground): in each batch of `batch` slices of `order`,
// the last round(batch * share) places (nnU-Net's: those from round(batch * (1 - share)) on) that
// hold a slice without foreground take one of `foreground` instead, drawn uniformly with a stream
// keyed by (seed, epoch). `has_foreground[shard][slice]` says which slices hold a class above 0.
std::vector<SliceRef> oversample_foreground(std::vector<SliceRef> order, const std::vector<SliceRef>& foreground,
                                            const std::vector<std::vector<uint8_t>>& has_foreground, int64_t batch,
                                            double share, uint64_t seed, int epoch);
// The augmentation stream of the slice at `index` of global batch `batch` of `epoch`.
std::mt19937_64 augment_rng(uint64_t seed, int epoch, int64_t batch, int64_t index);
// Semi-supervised runs: each of an epoch's `batches` global batches of `per_batch` unlabelled
// slices, drawn in passes over `all` shuffled by (seed, epoch, pass) on streams of their own;
// and the augmentation and noise stream of unlabelled slice `index` of global batch `batch`.
std::vector<std::vector<SliceRef>> unlabelled_batches(const std::vector<SliceRef>& all, uint64_t seed, int epoch,
                                                      int64_t batches, int64_t per_batch);
std::mt19937_64 unlabelled_rng(uint64_t seed, int epoch, int64_t batch, int64_t index);

// A slice as training sees it (augment.cpp), on `dev`: augmented and resized to the model size,
// or, with a target `spacing`, resampled to it, augmented, and cropped or padded to the model size
// at a random place. `m` is the slice's shard.
std::pair<torch::Tensor, torch::Tensor> training_slice(const LoadedSlice& in, const ShardMeta& m, const TrainOptions& o,
                                                       const std::vector<double>& spacing, const torch::Device& dev,
                                                       std::mt19937_64& rng);

// The optimizer (optimizer.cpp): --optimizer with the base learning rate and weight decay, its
// step as o.optimizer_step says (resolved here from "auto" for the parameters' device).
std::unique_ptr<torch::optim::Optimizer> make_optimizer(TrainOptions& o, std::vector<torch::Tensor> params);
void set_lr(torch::optim::Optimizer& opt, double lr);
// Its state as a byte tensor (a checkpoint's "optim/state"), and back.
torch::Tensor optimizer_blob(torch::optim::Optimizer& opt);
void load_optimizer_blob(torch::optim::Optimizer& opt, const torch::Tensor& t, const torch::Device& dev);

// Whether the model's tensors are channels-last: when asked for (the default) and the depthwise
// convs that run prefer it: cuDNN's and oneDNN's, dlk's CPU kernels (a CPU step of DLKUNet-S is
// 17% faster so: BENCHMARKS.md) and its NHWC CUDA kernels; dlk's default CUDA kernels are NCHW.
inline bool use_channels_last(const TrainOptions& o, const torch::Device& dev) {
  return o.channels_last && depthwise_prefers_channels_last(dev, true);
}

// Validation (validation.cpp): per case, slices resized to the model size (or, with a `spacing`,
// resampled to it and cropped or padded about their centre, as nnU-Net's pseudo-Dice of patches),
// argmax, Dice per class over the whole stack (a class absent from both prediction and truth does
// not count), mean over cases; NaN for a class that counted in no case. Leaves the model in train mode.
std::vector<double> validation_dice(DLKUNet& model, const std::vector<std::shared_ptr<ShardFile>>& shards,
                                    const TrainOptions& o, const torch::Device& dev, int64_t classes,
                                    const std::vector<double>& spacing);
// Slice `s` of a shard as validation feeds it to the model, on `dev`: the image [C, H, W] resized
// (or resampled, then cropped or padded about its centre) to the model's size, without
// augmentation, and its label [H, W] (undefined when the shard has none).
std::pair<torch::Tensor, torch::Tensor> model_slice(ShardFile& sf, int64_t s, const TrainOptions& o, const torch::Device& dev,
                                                    const std::vector<double>& spacing);
// The in-plane spacing [x, y] slices are resampled to: the dataset's, "auto" resolved to the
// median over `train` of each case's column and row spacing; empty when the dataset has none.
std::vector<double> target_spacing(const Dataset& d, const std::vector<std::shared_ptr<ShardFile>>& train);
// Every shard's slices, resampled to `to` (target_spacing's; empty: none), within the limits of
// dlk/io/resampling.h; else a dlk::Error naming the shard and case.
void check_resampled_sizes(const std::vector<std::shared_ptr<ShardFile>>& shards, const std::vector<double>& to);
// The mean of the numbers that are not NaN (NaN if none).
double nanmean(const std::vector<double>& v);

} // namespace dlk
