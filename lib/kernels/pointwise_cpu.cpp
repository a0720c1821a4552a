// Packing and dispatch of the 1x1 convolution kernel (pointwise_tile.h); the portable form here.
#include "dlk/kernels/pointwise_kernels.h"
#include "pointwise_tile.h"


namespace dlk::kernels {
namespace detail {
void pointwise_avx512(const float* x, int64_t ldx, int64_t rows, const PointwiseWeights& w, const PointwiseOutput& o);
void pointwise_avx2(const float* x, int64_t ldx, int64_t rows, const PointwiseWeights& w, const PointwiseOutput& o);
} // namespace detail

int pointwise_panel_width(CpuIsa isa) { return isa == CpuIsa::avx512 ? 32 : 16; }
PointwiseWeights pack_pointwise(const float* w, const float* b, int cin, int cout, CpuIsa isa) {
  PointwiseWeights p;
  p.cin = cin, p.cout = cout, p.isa = isa, p.nr = pointwise_panel_width(isa);
  const int panels = (cout + p.nr - 1) / p.nr;
  p.panels.assign(size_t(panels) * cin * p.nr, 0.f);
  p.bias.assign(size_t(panels) * p.nr, 0.f);
  for (int n = 0; n < cout; ++n) {
    float* panel = p.panels.data() + size_t(n / p.nr) * cin * p.nr + n % p.nr;
    for (int k = 0; k < cin; ++k) panel[size_t(k) * p.nr] = w[size_t(n) * cin + k];
    if (b) p.bias[size_t(n)] = b[n];
  }
  return p;
}

void pointwise_cpu(const float* x, int64_t ldx, int64_t rows, const PointwiseWeights& w, const PointwiseOutput& out) {
  switch (w.isa) {
  case CpuIsa::avx512: detail::pointwise_avx512(x, ldx, rows, w, out); break;
  case CpuIsa::avx2: detail::pointwise_avx2(x, ldx, rows, w, out); break;
  default: run<8, 4>(x, ldx, rows, w, out);
  }
}

} // namespace dlk::kernels
