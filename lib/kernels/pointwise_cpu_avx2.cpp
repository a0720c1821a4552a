// pointwise_tile.h for AVX2; built with -mavx2 -mfma (lib/CMakeLists.txt), run only where cpu_isa() says so.
#include "pointwise_tile.h"

namespace dlk::kernels::detail {

void pointwise_avx2(const float* x, int64_t ldx, int64_t rows, const PointwiseWeights& w, const PointwiseOutput& o) {
  run<8, 6>(x, ldx, rows, w, o);
}

} // namespace dlk::kernels::detail
