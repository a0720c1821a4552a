// Needs LibTorch (built only with DLK_WITH_TORCH). The version macro of dlk/model/torch_compat.h decides
// which side of each 1.13/2.x difference compiles: check its boundaries against this LibTorch.
#include "dlk/model/torch_compat.h"

#include <catch2/catch.hpp>

TEST_CASE("torch compat: DLK_TORCH_AT_LEAST holds up to this LibTorch's version and not past it", "[torch]") {
  constexpr int major = TORCH_VERSION_MAJOR, minor = TORCH_VERSION_MINOR;
  CHECK(DLK_TORCH_AT_LEAST(major, minor));
  CHECK(DLK_TORCH_AT_LEAST(major, 0));
  CHECK(DLK_TORCH_AT_LEAST(major - 1, minor + 1)); // an older major, whatever its minor
  CHECK_FALSE(DLK_TORCH_AT_LEAST(major, minor + 1));
  CHECK_FALSE(DLK_TORCH_AT_LEAST(major + 1, 0));
}
