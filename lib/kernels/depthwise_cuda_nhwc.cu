// Depthwise convolution on CUDA for channels-last (NHWC) activations: forward (also the input
// gradient, with the kernel flipped) and the weight/bias gradient. Channels-last lets the rest of
// a DLKUNet step (BN, ReLU, the pointwise convs) run cuDNN's and LibTorch's NHWC kernels, which are
// several times faster than their NCHW ones (../shared/anchors/python-pytorch-h100-profile.txt).
// The plan and per-thread maths are in depthwise_nhwc_tile.h (replayed on the CPU by a test).
#include "depthwise_cuda_common.cuh"
#include "depthwise_nhwc_tile.h"

namespace dlk::kernels {
namespace {

using namespace cuda;
using nhwc::Plan;
using nhwc::R;

// Loads of channels [c0, c0 + CV) of one image's pixels (img points at channel c0 of pixel 0),
// zeros outside the image.
template <typename T, int CV> struct PixelLoad {
  const T* __restrict__ img;
  int h, w, c;
  __device__ __forceinline__ void operator()(int iy, int ix, float* v) const {
    if (iy >= 0 && iy < h && ix >= 0 && ix < w)
      load_vec<T, CV>(img + (int64_t(iy) * w + ix) * c, v);
    else
#pragma unroll
      for (int i = 0; i < CV; ++i) v[i] = 0.f;
  }
};

template <typename T, int K, int D>
__global__ void __launch_bounds__(256)
    nhwc_forward(const T* __restrict__ x, const float* __restrict__ wt, const float* __restrict__ b,
                 T* __restrict__ y, const Plan p) {
  constexpr int CV = nhwc::FORWARD_CV, KK = K * K;
  extern __shared__ float wsh[]; // [KK][CB]: the block's channels of each tap
  const nhwc::Work t = nhwc::thread_work(p, blockIdx.x, blockIdx.y, blockIdx.z, threadIdx.x, threadIdx.y);
  const int cb = p.cb(), tid = threadIdx.y * blockDim.x + threadIdx.x, nt = blockDim.x * blockDim.y;
  for (int i = tid; i < KK * cb; i += nt) wsh[i] = wt[int64_t(i / cb) * p.c + t.chunk * cb + i % cb];
  __syncthreads();
  if (t.ox >= p.w) return;
  const int64_t image = int64_t(p.h) * p.w * p.c;
  const PixelLoad<T, CV> load{x + t.n0 * image + t.c0, p.h, p.w, p.c};
  T* yi = y + t.n0 * image + t.c0;
  float bias[CV];
#pragma unroll
  for (int c = 0; c < CV; ++c) bias[c] = b ? b[t.c0 + c] : 0.f;
  for (int g = 0; g < p.groups; ++g)
    for (int r = 0; r < D; ++r) {
      const int row0 = nhwc::first_row(t.y0, D, r, g);
      if (row0 >= p.h) break; // rows grow with r and g
      float acc[R][CV];
      nhwc::forward_outputs<K, D, CV>(load, wsh + t.cl, cb, row0, t.ox, bias, acc);
#pragma unroll
      for (int j = 0; j < R; ++j) {
        const int oy = row0 + D * j;
        if (oy < p.h) store_vec<T, CV>(yi + (int64_t(oy) * p.w + t.ox) * p.c, acc[j]);
      }
    }
}

// Each thread sums its K*K*CV products over its images and rows in registers; the block's threads
// of the same channels meet in shared memory, then one atomic add per tap and channel and block.
template <typename T, int K, int D>
__global__ void __launch_bounds__(128)
    nhwc_weight_grad(const T* __restrict__ x, const T* __restrict__ dy, float* __restrict__ dwt,
                     float* __restrict__ db, const Plan p) {
  constexpr int CV = nhwc::GRAD_CV, KK = K * K;
  extern __shared__ float red[]; // [KK + 1][CB]: taps, then the bias
  const nhwc::Work t = nhwc::thread_work(p, blockIdx.x, blockIdx.y, blockIdx.z, threadIdx.x, threadIdx.y);
  const int cb = p.cb(), tid = threadIdx.y * blockDim.x + threadIdx.x, nt = blockDim.x * blockDim.y;
  for (int i = tid; i < (KK + 1) * cb; i += nt) red[i] = 0.f;
  __syncthreads();
  if (t.ox < p.w) {
    const int64_t image = int64_t(p.h) * p.w * p.c;
    float acc[KK][CV], bsum[CV];
#pragma unroll
    for (int c = 0; c < CV; ++c) {
      bsum[c] = 0.f;
#pragma unroll
      for (int i = 0; i < KK; ++i) acc[i][c] = 0.f;
    }
    for (int n = t.n0; n < t.n1; ++n) {
      const PixelLoad<T, CV> load{x + n * image + t.c0, p.h, p.w, p.c}, grad{dy + n * image + t.c0, p.h, p.w, p.c};
      for (int g = 0; g < p.groups; ++g)
        for (int r = 0; r < D; ++r) {
          const int row0 = nhwc::first_row(t.y0, D, r, g);
          if (row0 >= p.h) break;
          float gv[R][CV];
#pragma unroll
          for (int j = 0; j < R; ++j) {
            grad(row0 + D * j, t.ox, gv[j]); // zero below the image
#pragma unroll
            for (int c = 0; c < CV; ++c) bsum[c] += gv[j][c];
          }
          nhwc::weight_grad_outputs<K, D, CV>(load, row0, t.ox, gv, acc);
        }
    }
#pragma unroll
    for (int i = 0; i < KK; ++i)
#pragma unroll
      for (int c = 0; c < CV; ++c) atomicAdd(red + i * cb + t.cl + c, acc[i][c]);
#pragma unroll
    for (int c = 0; c < CV; ++c) atomicAdd(red + KK * cb + t.cl + c, bsum[c]);
  }
  __syncthreads();
  for (int i = tid; i < KK * cb; i += nt) atomicAdd(dwt + int64_t(i / cb) * p.c + t.chunk * cb + i % cb, red[i]);
  if (db)
    for (int i = tid; i < cb; i += nt) atomicAdd(db + t.chunk * cb + i, red[KK * cb + i]);
}

void check_grid(const Plan& p) {
  if (p.gy > 65535 || p.gz > 65535) throw std::invalid_argument("CUDA depthwise (NHWC): image too large for one launch");
}

struct Forward {
  const void* x; const float* wt; const float* b; void* y; const DepthwiseShape& s; cudaStream_t st;
  template <typename T, int K, int D> void run() const {
    const Plan p = nhwc::forward_plan(s.n, s.c, s.h, s.w, K, D);
    check_grid(p);
    const size_t shared = size_t(K * K) * p.cb() * sizeof(float);
    nhwc_forward<T, K, D><<<dim3(p.gx, p.gy, p.gz), dim3(p.lanes, p.cols), shared, st>>>(
        static_cast<const T*>(x), wt, b, static_cast<T*>(y), p);
    check(cudaGetLastError(), "forward (NHWC)");
  }
};
struct WeightGrad {
  const void* x; const void* dy; float* dwt; float* db; const DepthwiseShape& s; cudaStream_t st;
  template <typename T, int K, int D> void run() const {
    const Plan p = nhwc::weight_grad_plan(s.n, s.c, s.h, s.w, K, D);
    check_grid(p);
    const size_t shared = size_t(K * K + 1) * p.cb() * sizeof(float);
    nhwc_weight_grad<T, K, D><<<dim3(p.gx, p.gy, p.gz), dim3(p.lanes, p.cols), shared, st>>>(
        static_cast<const T*>(x), static_cast<const T*>(dy), dwt, db, p);
    check(cudaGetLastError(), "weight gradient (NHWC)");
  }
};

} // namespace

bool depthwise_cuda_nhwc_supported(int64_t channels, int k, int d) {
  return channels % nhwc::FORWARD_CV == 0 && depthwise_cuda_supported(k, d);
}

void depthwise_forward_cuda_nhwc(DType t, const void* x, const float* wt, const float* b, void* y,
                                 const DepthwiseShape& s, void* stream) {
  dispatch(t, s, Forward{x, wt, b, y, s, cudaStream_t(stream)});
}

void depthwise_weight_grad_cuda_nhwc(DType t, const void* x, const void* dy, float* dwt, float* db,
                                     const DepthwiseShape& s, void* stream) {
  dispatch(t, s, WeightGrad{x, dy, dwt, db, s, cudaStream_t(stream)});
}

} // namespace dlk::kernels
