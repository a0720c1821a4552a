// The slice loader: decodes training slices from shards ahead of the training loop.
#pragma once
#include "dlk/shard/shard_reader.h"

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace dlk {

// Decodes slices of shards on a pool of threads into (pinned, when CUDA is used) CPU tensors,
// a few batches ahead of the consumer, in the order given.
struct SliceRef {
  int32_t shard;
  int64_t slice;
};
struct LoadedSlice {
  torch::Tensor image; // [C, h, w] float32
  torch::Tensor label; // [h, w] int64; undefined for a shard without labels
  int32_t shard = -1;   // which of the loader's shards it came from
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

} // namespace dlk
