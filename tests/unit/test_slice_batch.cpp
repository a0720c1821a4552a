// Needs LibTorch (built only with DLK_WITH_TORCH).
#include "dlk/slice_batch.h"
#include "dlk/torch_compat.h"

#include <catch2/catch.hpp>

TEST_CASE("slice batch: slices become N x C x H x W images and N x H x W labels", "[torch]") {
  std::vector<dlk::Slice> slices(2);
  for (int i = 0; i < 2; ++i) {
    slices[size_t(i)].index = i;
    for (int k = 0; k < 2 * 3 * 4; ++k) slices[size_t(i)].image.push_back(float(100 * i + k));
    for (int k = 0; k < 3 * 4; ++k) slices[size_t(i)].label.push_back(uint8_t((i + k) % 3));
  }
  auto b = dlk::make_slice_batch(slices, 2, 3, 4);
  CHECK(b.images.sizes() == torch::IntArrayRef({2, 2, 3, 4}));
  CHECK(b.labels.sizes() == torch::IntArrayRef({2, 3, 4}));
  CHECK(b.images[1][1][2][3].item<float>() == 100 + 12 + 2 * 4 + 3); // channel-major layout
  CHECK(b.labels[1][2][3].item<int64_t>() == (1 + 2 * 4 + 3) % 3);
  slices[1].image.pop_back();
  CHECK_THROWS(dlk::make_slice_batch(slices, 2, 3, 4));
}

TEST_CASE("torch compat: the version macro agrees with the library", "[torch]") {
  CHECK(DLK_TORCH_AT_LEAST(1, 13));
  CHECK_FALSE(DLK_TORCH_AT_LEAST(99, 0));
  dlk::compat::CudaAutocast off(false, at::kBFloat16); // disabled: a no-op everywhere
  CHECK(dlk::compat::cuda_available() == torch::cuda::is_available());
}
