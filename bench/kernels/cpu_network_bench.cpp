// dlk-cpu-network-bench [VARIANT ...]: what dlk's CPU network is made of, on one core: the core's
// ceilings (fp32 FMAs in zmm and ymm registers, AVX512-BF16 dot products: independent chains, no
// memory), the 1x1 and depthwise kernels at DLKUNet-S's shapes in every vector form the CPU has,
// and one 224x224 slice through the whole network (default S and L, random weights) with dlk's CPU
// network on one thread and with LibTorch's (fp32, channels-last, all threads on the slice). Best
// of several runs after a warm-up. Prints Markdown tables. DLKUNet-S is 10.28 G multiply-adds a
// slice, L 18.40 (spec, section 4).
#include "dlk/infer/cpu_network.h"
#include "dlk/kernels/depthwise_kernels.h"
#include "dlk/kernels/pointwise_kernels.h"
#include "dlk/model/checkpoint.h"
#include "dlk/model/model.h"
#include "dlk/model/model_summary.h"

#include <torch/torch.h>

#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace dlk;
using kernels::CpuIsa;

namespace {

double best_seconds(const std::function<void()>& f, int runs) {
  f(); // warm-up
  double best = 1e30;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

constexpr long kSteps = 20000000;
#define DLK_CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

// 12 independent chains of kSteps FMAs (or dot products) each; the sum keeps them live. Timed by
// the caller (a lambda would not inherit the target attribute).
__attribute__((target("avx512f"))) float zmm_fma_chains() {
#define DLK_INIT(i) __m512 a##i = _mm512_set1_ps(1e-9f * i);
  DLK_CHAINS(DLK_INIT)
  __m512 b = _mm512_set1_ps(1.0001f), c = _mm512_set1_ps(0.9999f);
  __asm__ volatile("" : "+v"(b), "+v"(c));
  for (long i = 0; i < kSteps; ++i) {
#define DLK_STEP(i) a##i = _mm512_fmadd_ps(b, c, a##i);
    DLK_CHAINS(DLK_STEP)
  }
  float sink = 0;
#define DLK_SUM(i) sink += _mm512_reduce_add_ps(a##i);
  DLK_CHAINS(DLK_SUM)
  return sink;
}
__attribute__((target("avx2,fma"))) float ymm_fma_chains() {
#define DLK_INIT8(i) __m256 a##i = _mm256_set1_ps(1e-9f * i);
  DLK_CHAINS(DLK_INIT8)
  __m256 b = _mm256_set1_ps(1.0001f), c = _mm256_set1_ps(0.9999f);
  __asm__ volatile("" : "+v"(b), "+v"(c));
  for (long i = 0; i < kSteps; ++i) {
#define DLK_STEP8(i) a##i = _mm256_fmadd_ps(b, c, a##i);
    DLK_CHAINS(DLK_STEP8)
  }
  float sink = 0;
#define DLK_SUM8(i) sink += a##i[0];
  DLK_CHAINS(DLK_SUM8)
  return sink;
}
__attribute__((target("avx512f,avx512bf16"))) float zmm_bf16_dot_chains() { // 32 products a lane pair
  DLK_CHAINS(DLK_INIT)
  __m512bh x = (__m512bh)_mm512_set1_epi16(0x3f80), y = x;
  __asm__ volatile("" : "+v"(x), "+v"(y));
  for (long i = 0; i < kSteps; ++i) {
#define DLK_DOT(i) a##i = _mm512_dpbf16_ps(a##i, x, y);
    DLK_CHAINS(DLK_DOT)
  }
  float sink = 0;
  DLK_CHAINS(DLK_SUM)
  return sink;
}
// Multiply-adds a second of one of the above, `lanes` of them an instruction.
double chains_rate(float (*chains)(), int lanes) {
  volatile float sink = 0;
  const double s = best_seconds([&] { sink = sink + chains(); }, 3);
  return kSteps * 12.0 * lanes / s;
}

std::vector<float> random_floats(size_t n, unsigned seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> v(n);
  for (auto& x : v) x = u(g);
  return v;
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> variants;
  for (int i = 1; i < argc; ++i) variants.push_back(argv[i]);
  if (variants.empty()) variants = {"S", "L"};
  torch::set_num_threads(1);
  std::printf("One core. G multiply-adds a second.\n\n| ceiling | GMAC/s |\n|---|---|\n");
  if (kernels::cpu_isa_available() >= CpuIsa::avx512) std::printf("| fp32 FMA, zmm | %.1f |\n", chains_rate(zmm_fma_chains, 16) / 1e9);
  if (kernels::cpu_isa_available() >= CpuIsa::avx2) std::printf("| fp32 FMA, ymm | %.1f |\n", chains_rate(ymm_fma_chains, 8) / 1e9);
  if (__builtin_cpu_supports("avx512bf16"))
    std::printf("| bf16 dot product (vdpbf16ps), zmm | %.1f |\n", chains_rate(zmm_bf16_dot_chains, 32) / 1e9);

  std::printf("\n| kernel (DLKUNet-S shapes) | form | GMAC/s |\n|---|---|---|\n");
  const int64_t rows = 112 * 112;
  for (int c : {96, 192, 384}) {
    const auto x = random_floats(size_t(rows) * c, 1), w = random_floats(size_t(c) * c, 2), b = random_floats(size_t(c), 3);
    kernels::AlignedFloats xa(x.begin(), x.end()), y(size_t(rows) * c);
    for (CpuIsa isa : kernels::cpu_isas_available()) {
      const auto p = kernels::pack_pointwise(w.data(), b.data(), c, c, isa);
      kernels::PointwiseOutput o;
      o.y = y.data(), o.ldy = c, o.relu = true;
      const double s = best_seconds([&] { kernels::pointwise_cpu(xa.data(), c, rows, p, o); }, 5);
      std::printf("| 1x1 %d -> %d, 112x112 | %s | %.1f |\n", c, c, kernels::cpu_isa_name(isa), double(rows) * c * c / s / 1e9);
    }
  }
  struct Dw { int k, d; };
  for (const Dw dw : {Dw{3, 1}, Dw{5, 1}, Dw{7, 3}}) {
    const int H = 224, W = 224, C = 96, r0 = 100, r1 = 124; // a band of 24 rows, as the network runs them
    const auto x = random_floats(size_t(H) * W * C, 4), t = random_floats(size_t(dw.k * dw.k) * C, 5);
    kernels::AlignedFloats xa(x.begin(), x.end()), ta(t.begin(), t.end()), band(size_t(r1 - r0) * W * C), bias(C, 0.1f);
    for (CpuIsa isa : kernels::cpu_isas_available()) {
      const double s = best_seconds(
          [&] { kernels::depthwise_band_nhwc_cpu(xa.data(), ta.data(), bias.data(), band.data(), H, W, C, dw.k, dw.d, r0, r1, isa); }, 5);
      std::printf("| depthwise %dx%d dilation %d, 96 x 224 x 24 rows | %s | %.1f |\n", dw.k, dw.k, dw.d, kernels::cpu_isa_name(isa),
                  double(r1 - r0) * W * C * dw.k * dw.k / s / 1e9);
    }
  }

  std::printf("\n| network, one 224x224 slice | ms | GMAC/s |\n|---|---|---|\n");
  torch::NoGradGuard no_grad;
  for (const auto& v : variants) {
    ModelConfig c;
    c.variant = v;
    torch::manual_seed(0);
    DLKUNet m(c);
    m->eval();
    double macs = 0;
    for (const auto& s : summarize(m, 224, 224)) macs += double(s.true_macs);
    const auto x = torch::randn({1, 1, 224, 224});
    auto logits = torch::empty({224, 224, c.classes});
    for (CpuIsa isa : kernels::cpu_isas_available()) {
      if (isa == CpuIsa::portable) continue;
      CpuNetwork net(c, network_weights(m), isa);
      const double s = best_seconds([&] { net.forward(x.data_ptr<float>(), 224, 224, logits.data_ptr<float>()); }, 5);
      std::printf("| %s, dlk's CPU network, %s, one thread | %.1f | %.1f |\n", v.c_str(), kernels::cpu_isa_name(isa), s * 1e3, macs / s / 1e9);
    }
    // LibTorch as dlk-infer ran it before: every thread on each operation (with one thread its 1x1
    // convs of one slice go to im2col and the system BLAS, 20x slower on Debian's).
    const auto xl = channels_last_input(x);
    const int threads = int(std::thread::hardware_concurrency());
    torch::set_num_threads(threads);
    const double s = best_seconds([&] { m->forward(xl); }, 3);
    torch::set_num_threads(1);
    std::printf("| %s, LibTorch %s, fp32 channels-last, all %d threads on the slice | %.1f | %.1f (%.1f a thread) |\n", v.c_str(),
                TORCH_VERSION, threads, s * 1e3, macs / s / 1e9, macs / s / 1e9 / threads);
  }
  return 0;
}
