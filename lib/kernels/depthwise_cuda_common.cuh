// What the NCHW and NHWC CUDA depthwise kernels share: storage-type conversions, vector loads
// and stores, error checks, and the dispatch from run-time (dtype, k, dilation) to templates.
#pragma once
#include "dlk/kernels/depthwise_kernels.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace dlk::kernels::cuda {

__device__ __forceinline__ float to_f(float v) { return v; }
__device__ __forceinline__ float to_f(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ __forceinline__ float to_f(__half v) { return __half2float(v); }
template <typename T> __device__ __forceinline__ T from_f(float v);
template <> __device__ __forceinline__ float from_f<float>(float v) { return v; }
template <> __device__ __forceinline__ __nv_bfloat16 from_f<__nv_bfloat16>(float v) { return __float2bfloat16(v); }
template <> __device__ __forceinline__ __half from_f<__half>(float v) { return __float2half(v); }

// N neighbouring elements as one aligned load or store (the caller guarantees the alignment).
template <typename T, int N> struct alignas(sizeof(T) * N) Pack {
  T v[N];
};
template <typename T, int N> __device__ __forceinline__ void load_vec(const T* __restrict__ p, float* out) {
  const Pack<T, N> q = *reinterpret_cast<const Pack<T, N>*>(p);
#pragma unroll
  for (int i = 0; i < N; ++i) out[i] = to_f(q.v[i]);
}
template <typename T, int N> __device__ __forceinline__ void store_vec(T* __restrict__ p, const float* in) {
  Pack<T, N> q;
#pragma unroll
  for (int i = 0; i < N; ++i) q.v[i] = from_f<T>(in[i]);
  *reinterpret_cast<Pack<T, N>*>(p) = q;
}

inline void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string("CUDA depthwise ") + what + ": " + cudaGetErrorString(e));
}

// Calls f.run<T, K, D>() for the storage type and one of the supported (k, d).
template <typename F> void dispatch(DType t, const DepthwiseShape& s, const F& f) {
  auto by_shape = [&](auto tag) {
    using T = decltype(tag);
    if (s.k == 3 && s.dilation == 1) return f.template run<T, 3, 1>();
    if (s.k == 5 && s.dilation == 1) return f.template run<T, 5, 1>();
    if (s.k == 7 && s.dilation == 1) return f.template run<T, 7, 1>();
    if (s.k == 7 && s.dilation == 3) return f.template run<T, 7, 3>();
    if (s.k == 5 && s.dilation == 2) return f.template run<T, 5, 2>();
    throw std::invalid_argument("no CUDA depthwise kernel for k=" + std::to_string(s.k) +
                                " dilation=" + std::to_string(s.dilation));
  };
  switch (t) {
  case DType::f32: return by_shape(float{});
  case DType::bf16: return by_shape(__nv_bfloat16{});
  case DType::f16: return by_shape(__half{});
  }
}

} // namespace dlk::kernels::cuda
