// depthwise_rows_tile.h for AVX2; built with -mavx2 -mfma (lib/CMakeLists.txt), run only where cpu_isa() says so.
#include "depthwise_rows_tile.h"

namespace dlk::kernels::detail {

void depthwise_rows_avx2(const float* x, const float* wt, const float* b, float* y, int H, int W, int C, int k, int d,
                      int row0, int row1) {
  depthwise_rows_vectors<8, 8, 6>(x, wt, b, y, H, W, C, k, d, row0, row1);
}

} // namespace dlk::kernels::detail
