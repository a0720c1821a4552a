#include "dlk/slice_batch.h"
#include "dlk/error.h"
#include "dlk/torch_compat.h"

#include <fmt/format.h>

#include <cstring>

namespace dlk {

SliceBatch make_slice_batch(const std::vector<Slice>& slices, int64_t c, int64_t h, int64_t w) {
  const int64_t n = int64_t(slices.size());
  const size_t plane = size_t(h * w);
  SliceBatch b;
  b.images = torch::empty({n, c, h, w}, torch::kFloat32);
  const bool labelled = n > 0 && !slices[0].label.empty();
  if (labelled) b.labels = torch::empty({n, h, w}, torch::kInt64);
  float* img = b.images.data_ptr<float>();
  int64_t* lab = labelled ? b.labels.data_ptr<int64_t>() : nullptr;
  for (int64_t i = 0; i < n; ++i) {
    const Slice& s = slices[size_t(i)];
    if (s.image.size() != size_t(c) * plane || (labelled && s.label.size() != plane))
      throw Error(fmt::format("slice {}: shape differs from the batch's {}x{}x{}", s.index, c, h, w));
    std::memcpy(img + size_t(i) * size_t(c) * plane, s.image.data(), s.image.size() * sizeof(float));
    if (lab)
      for (size_t k = 0; k < plane; ++k) lab[size_t(i) * plane + k] = s.label[k];
  }
  return b;
}

} // namespace dlk
