// Depthwise convolution on CUDA: forward (also the input gradient, with the kernel flipped) and the
// weight/bias gradient. cuDNN and LibTorch spend most of a DLKUNet training step in these convs
// (../shared/anchors/README.md); each is a stencil over one plane that needs its bytes once.
// A block computes an output tile of one plane from a shared-memory copy of the input tile and its
// halo, in fp32 whatever the storage type. The weight gradient keeps one fp32 sum per
// tap in registers over the whole batch, then one atomic add per tap and block.
#include "depthwise_cuda_common.cuh"
#include "depthwise_tile.h"

#include <algorithm>

namespace dlk::kernels {
namespace {

using namespace cuda;
using tile::Geometry;
using tile::TW;
using tile::R;

// The input tile of plane `xp` whose outputs start at (y0, x0), with its halo, as floats.
template <typename T, int K, int D>
__device__ __forceinline__ void load_tile(float (*tile)[Geometry<K, D>::SW], const T* __restrict__ xp, int y0, int x0,
                                          int H, int W) {
  using G = Geometry<K, D>;
  const int tid = threadIdx.y * blockDim.x + threadIdx.x, n = blockDim.x * blockDim.y;
  for (int t = tid; t < G::SH * G::SW; t += n) {
    int r, q, gy, gx;
    tile::tile_source<K, D>(t, y0, x0, r, q, gy, gx);
    tile[r][q] = (gy >= 0 && gy < H && gx >= 0 && gx < W) ? to_f(xp[int64_t(gy) * W + gx]) : 0.f;
  }
}

template <typename T, int K, int D>
__global__ void __launch_bounds__(TW * Geometry<K, D>::BY)
    depthwise_forward(const T* __restrict__ x, const float* __restrict__ w, const float* __restrict__ b,
                      T* __restrict__ y, int64_t planes, int C, int H, int W) {
  using G = Geometry<K, D>;
  __shared__ float tile[G::SH][G::SW];
  __shared__ float wk[K * K];
  const int x0 = blockIdx.x * TW, y0 = blockIdx.y * G::TH, base = tile::first_row<D>(threadIdx.y), ox = x0 + threadIdx.x;
  const int tid = threadIdx.y * TW + threadIdx.x;
  for (int64_t plane = blockIdx.z; plane < planes; plane += gridDim.z) {
    const int c = int(plane % C);
    const int64_t off = plane * H * W;
    __syncthreads(); // the previous plane's reads of tile and wk are done
    if (tid < K * K) wk[tid] = w[c * K * K + tid];
    load_tile<T, K, D>(tile, x + off, y0, x0, H, W);
    __syncthreads();
    const float bias = b ? b[c] : 0.f;
    float acc[R];
    tile::forward_outputs<K, D, G::SW>(tile, wk, base, threadIdx.x, bias, acc);
    if (ox < W)
#pragma unroll
      for (int j = 0; j < R; ++j) {
        const int oy = y0 + base + D * j;
        if (oy < H) y[off + int64_t(oy) * W + ox] = from_f<T>(acc[j]);
      }
  }
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  return v;
}

template <typename T, int K, int D>
__global__ void __launch_bounds__(TW * Geometry<K, D>::BY)
    depthwise_weight_grad(const T* __restrict__ x, const T* __restrict__ dy, float* __restrict__ dw,
                          float* __restrict__ db, int N, int C, int H, int W) {
  using G = Geometry<K, D>;
  constexpr int KK = K * K;
  __shared__ float tile[G::SH][G::SW];
  __shared__ float part[G::BY][KK + 1]; // one partial sum per warp (a warp is one row of threads)
  const int x0 = blockIdx.x * TW, y0 = blockIdx.y * G::TH, base = tile::first_row<D>(threadIdx.y), ox = x0 + threadIdx.x;
  for (int c = blockIdx.z; c < C; c += gridDim.z) {
    float acc[KK + 1];
#pragma unroll
    for (int t = 0; t <= KK; ++t) acc[t] = 0.f;
    for (int n = 0; n < N; ++n) {
      const int64_t off = (int64_t(n) * C + c) * H * W;
      __syncthreads();
      load_tile<T, K, D>(tile, x + off, y0, x0, H, W);
      float g[R];
#pragma unroll
      for (int j = 0; j < R; ++j) {
        const int oy = y0 + base + D * j;
        g[j] = (oy < H && ox < W) ? to_f(dy[off + int64_t(oy) * W + ox]) : 0.f;
        acc[KK] += g[j];
      }
      __syncthreads();
      tile::weight_grad_outputs<K, D, G::SW>(tile, base, threadIdx.x, g, acc);
    }
#pragma unroll
    for (int t = 0; t <= KK; ++t) {
      const float s = warp_sum(acc[t]);
      if (threadIdx.x == 0) part[threadIdx.y][t] = s;
    }
    __syncthreads();
    const int tid = threadIdx.y * TW + threadIdx.x;
    if (tid <= KK) {
      float s = 0.f;
#pragma unroll
      for (int r = 0; r < G::BY; ++r) s += part[r][tid];
      if (tid < KK)
        atomicAdd(dw + c * KK + tid, s);
      else if (db)
        atomicAdd(db + c, s);
    }
  }
}

template <int K, int D> dim3 tiles(const DepthwiseShape& s, int64_t z) {
  constexpr int TH = Geometry<K, D>::TH;
  return dim3(unsigned((s.w + TW - 1) / TW), unsigned((s.h + TH - 1) / TH), unsigned(std::min<int64_t>(z, 65535)));
}

template <typename T, int K, int D>
void forward_t(const void* x, const float* w, const float* b, void* y, const DepthwiseShape& s, cudaStream_t st) {
  depthwise_forward<T, K, D><<<tiles<K, D>(s, s.n * s.c), dim3(TW, Geometry<K, D>::BY), 0, st>>>(
      static_cast<const T*>(x), w, b, static_cast<T*>(y), s.n * s.c, int(s.c), int(s.h), int(s.w));
  check(cudaGetLastError(), "forward");
}

template <typename T, int K, int D>
void weight_grad_t(const void* x, const void* dy, float* dw, float* db, const DepthwiseShape& s, cudaStream_t st) {
  depthwise_weight_grad<T, K, D><<<tiles<K, D>(s, s.c), dim3(TW, Geometry<K, D>::BY), 0, st>>>(
      static_cast<const T*>(x), static_cast<const T*>(dy), dw, db, int(s.n), int(s.c), int(s.h), int(s.w));
  check(cudaGetLastError(), "weight gradient");
}

struct Forward {
  const void* x; const float* w; const float* b; void* y; const DepthwiseShape& s; cudaStream_t st;
  template <typename T, int K, int D> void run() const { forward_t<T, K, D>(x, w, b, y, s, st); }
};
struct WeightGrad {
  const void* x; const void* dy; float* dw; float* db; const DepthwiseShape& s; cudaStream_t st;
  template <typename T, int K, int D> void run() const { weight_grad_t<T, K, D>(x, dy, dw, db, s, st); }
};

} // namespace

bool depthwise_cuda_supported(int k, int d) {
  return (d == 1 && (k == 3 || k == 5 || k == 7)) || (k == 7 && d == 3) || (k == 5 && d == 2);
}

void depthwise_forward_cuda(DType t, const void* x, const float* w, const float* b, void* y,
                            const DepthwiseShape& s, void* stream) {
  dispatch(t, s, Forward{x, w, b, y, s, cudaStream_t(stream)});
}

void depthwise_weight_grad_cuda(DType t, const void* x, const void* dy, float* dw, float* db,
                                const DepthwiseShape& s, void* stream) {
  dispatch(t, s, WeightGrad{x, dy, dw, db, s, cudaStream_t(stream)});
}

} // namespace dlk::kernels
