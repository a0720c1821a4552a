// pointwise_tile.h for AVX512; built with -mavx512f -mavx512bw -mavx512vl (lib/CMakeLists.txt), run only where cpu_isa() says so.
#include "pointwise_tile.h"

namespace dlk::kernels::detail {

void pointwise_avx512(const float* x, int64_t ldx, int64_t rows, const PointwiseWeights& w, const PointwiseOutput& o) {
  run<16, 12>(x, ldx, rows, w, o);
}

} // namespace dlk::kernels::detail
