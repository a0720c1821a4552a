// Decoded shard slices -> tensors: images [N, C, H, W] float32, labels [N, H, W] int64.
#pragma once
#include "dlk/shard.h"

#include <torch/types.h>

#include <vector>

namespace dlk {

struct SliceBatch {
  torch::Tensor images; // float32 [N, C, H, W]
  torch::Tensor labels; // int64 [N, H, W], undefined when the slices have no labels
};

// All slices must come from shards of the same slice shape (channels x height x width).
SliceBatch make_slice_batch(const std::vector<Slice>& slices, int64_t channels, int64_t height, int64_t width);

} // namespace dlk
