// Depthwise 2-D convolution kernels on raw memory, without LibTorch: stride 1, odd square kernel
// k x k, dilation d, zero "same" padding d*(k-1)/2, so an output plane has its input's size.
// dlk/model/depthwise_conv.h wraps them as a LibTorch op with autograd (training and inference
// on CUDA; training and the dilated convs' inference on the CPU).
#pragma once
#include "dlk/kernels/cpu_isa.h"

#include <cstdint>

namespace dlk::kernels {

// One plane on the CPU: y[i][j] = b + sum_{u,v} w[u][v] * x[i + u*d - p][j + v*d - p].
// AVX2/FMA when the CPU has them (checked once at run time), portable code otherwise.
void depthwise_plane_cpu(const float* x, const float* w, float b, float* y, int height, int width, int k,
                         int dilation);
// The same with bf16 activations (raw bits: the top half of an fp32), fp32 sums, rounded once.
void depthwise_plane_cpu_bf16(const uint16_t* x, const float* w, float b, uint16_t* y, int height, int width, int k,
                              int dilation);
// Channels-last (NHWC) images: output rows [row0, row1) of one image. x and y are [H][W][C],
// wt the weights tap-major, [k*k][C]; b [C] or null. fp32 sums; bf16 rounded once.
void depthwise_rows_nhwc_cpu(const float* x, const float* wt, const float* b, float* y, int height, int width,
                             int channels, int k, int dilation, int row0, int row1);
// The same into a band: y holds output rows [row0, row1) only, [row1 - row0][W][C] (a buffer that
// stays in cache from one band to the next); `isa` no wider than the CPU has.
void depthwise_band_nhwc_cpu(const float* x, const float* wt, const float* b, float* y, int height, int width,
                             int channels, int k, int dilation, int row0, int row1, CpuIsa isa = cpu_isa());
void depthwise_rows_nhwc_cpu_bf16(const uint16_t* x, const float* wt, const float* b, uint16_t* y, int height,
                                  int width, int channels, int k, int dilation, int row0, int row1);
// The weight and bias gradients on the CPU, fp32 (the input gradient is the forward with the
// kernel flipped in both axes). One NCHW plane: dw[u*k + v] += sum_{i,j} dy[i][j] * x[i + u*d - p]
// [j + v*d - p] (zero outside), db += sum dy; fp32 sums per plane, added to the doubles.
void depthwise_weight_grad_plane_cpu(const float* x, const float* dy, int height, int width, int k, int dilation,
                                     double* dw, double* db);
void depthwise_weight_grad_plane_cpu_portable(const float* x, const float* dy, int height, int width, int k,
                                              int dilation, double* dw, double* db);
// One channels-last image, channels [c0, c1): dwt (tap-major, [k*k][C]) and db [C] accumulate.
void depthwise_weight_grad_nhwc_cpu(const float* x, const float* dy, int height, int width, int channels, int k,
                                    int dilation, int c0, int c1, float* dwt, float* db);
// The portable channels-last paths alone, so tests can check them on an AVX2 machine.
void depthwise_rows_nhwc_cpu_portable(const float* x, const float* wt, const float* b, float* y, int height, int width,
                                      int channels, int k, int dilation, int row0, int row1);
void depthwise_weight_grad_nhwc_cpu_portable(const float* x, const float* dy, int height, int width, int channels,
                                             int k, int dilation, int c0, int c1, float* dwt, float* db);
bool cpu_has_avx2_fma();
// Whether the CPU multiplies bf16 natively (AVX512-BF16).
bool cpu_has_native_bf16();
// Whether it has AMX's bf16 tiles as well: only then do oneDNN's bf16 convolutions beat fp32 (1.9x
// on a 2-core Xeon with AMX; 1.5x slower per core than fp32 on one with AVX512-BF16 alone,
// BENCHMARKS.md, 2026-12-06).
bool cpu_has_amx_bf16();
// The portable path alone, so tests can check both paths on an AVX2 machine.
void depthwise_plane_cpu_portable(const float* x, const float* w, float b, float* y, int height, int width,
                                  int k, int dilation);

#ifdef DLK_HAVE_CUDA_KERNELS
// CUDA, NCHW contiguous activations of type `dtype`, fp32 weights [C, k, k] and bias [C];
// accumulation in fp32. `stream` is a cudaStream_t. depthwise_cuda_supported says whether
// (k, dilation) has a kernel (else the caller uses LibTorch's op); DLKUNet's pairs all have one.
enum class DType { f32, bf16, f16 };
struct DepthwiseShape {
  int64_t n, c, h, w;
  int k, dilation;
};
bool depthwise_cuda_supported(int k, int dilation);
// y = conv(x, w) + b. With w flipped in both axes and b = null, this is also the input gradient.
void depthwise_forward_cuda(DType t, const void* x, const float* w, const float* b, void* y,
                            const DepthwiseShape& s, void* stream);
// dw[c][u][v] += sum_{n,i,j} dy * x(shifted); db[c] += sum dy. dw and db are fp32 and zeroed by the caller.
void depthwise_weight_grad_cuda(DType t, const void* x, const void* dy, float* dw, float* db,
                                const DepthwiseShape& s, void* stream);
// The same for channels-last (NHWC contiguous) activations, with the weights tap-major: wt and dwt
// are [k*k][C] fp32. C must be a multiple of 4 and x, y, dy 8-element aligned.
bool depthwise_cuda_nhwc_supported(int64_t channels, int k, int dilation);
void depthwise_forward_cuda_nhwc(DType t, const void* x, const float* wt, const float* b, void* y,
                                 const DepthwiseShape& s, void* stream);
void depthwise_weight_grad_cuda_nhwc(DType t, const void* x, const void* dy, float* dwt, float* db,
                                     const DepthwiseShape& s, void* stream);
#endif

} // namespace dlk::kernels
