#include "dlk/model/depthwise_conv.h"

#include "dlk/kernels/depthwise_kernels.h"
#include "dlk/model/torch_compat.h"

#include <ATen/Parallel.h>
#include <c10/core/DeviceGuard.h>
#include <torch/torch.h>

#include <atomic>
#include <cstdint>

#ifdef DLK_HAVE_CUDA_KERNELS
#include <c10/cuda/CUDAStream.h>
#endif

namespace dlk {
namespace {

std::atomic<bool>& kernels_flag() {
  static std::atomic<bool> on{true};
  return on;
}
bool kernels_enabled() { return kernels_flag().load(std::memory_order_relaxed); }

torch::Tensor torch_op(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, int64_t d) {
  const int64_t k = w.size(-1);
  return torch::conv2d(x, w, b, 1, d * (k - 1) / 2, d, x.size(1));
}

bool shape_ok(const torch::Tensor& x, const torch::Tensor& w) {
  return x.dim() == 4 && w.dim() == 4 && w.size(0) == x.size(1) && w.size(1) == 1 && w.size(2) == w.size(3) &&
         w.size(2) % 2 == 1 && x.size(2) > 0 && x.size(3) > 0;
}

bool is_nhwc(const torch::Tensor& x) { return !x.is_contiguous() && x.is_contiguous(at::MemoryFormat::ChannelsLast); }

// Channels-last x (fp32 or bf16): rows of all images in parallel; the output channels-last too.
torch::Tensor cpu_forward_nhwc(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, int64_t d) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3), k = w.size(2);
  auto y = torch::empty(x.sizes(), x.options().memory_format(at::MemoryFormat::ChannelsLast));
  auto wt = w.to(at::kFloat).reshape({C, k * k}).t().contiguous(); // [k*k][C]
  auto bc = b.defined() ? b.to(at::kFloat).contiguous() : torch::Tensor();
  const bool bf16 = x.scalar_type() == at::kBFloat16;
  const float* wp = wt.data_ptr<float>();
  const float* bp = bc.defined() ? bc.data_ptr<float>() : nullptr;
  char* xp = static_cast<char*>(x.data_ptr());
  char* yp = static_cast<char*>(y.data_ptr());
  const int64_t image_bytes = H * W * C * int64_t(x.element_size());
  at::parallel_for(0, N * H, 4, [&](int64_t r0, int64_t r1) {
    while (r0 < r1) { // [r0, r1) may span images: one call per image
      const int64_t n = r0 / H, i0 = r0 % H, i1 = std::min(H, i0 + (r1 - r0));
      if (bf16)
        kernels::depthwise_rows_nhwc_cpu_bf16(reinterpret_cast<const uint16_t*>(xp + n * image_bytes), wp, bp,
                                              reinterpret_cast<uint16_t*>(yp + n * image_bytes), int(H), int(W), int(C),
                                              int(k), int(d), int(i0), int(i1));
      else
        kernels::depthwise_rows_nhwc_cpu(reinterpret_cast<const float*>(xp + n * image_bytes), wp, bp,
                                         reinterpret_cast<float*>(yp + n * image_bytes), int(H), int(W), int(C), int(k),
                                         int(d), int(i0), int(i1));
      r0 += i1 - i0;
    }
  });
  return y;
}

// x fp32 or bf16 (output of the same type and layout), w and b fp32.
torch::Tensor cpu_forward(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, int64_t d) {
  if (is_nhwc(x)) return cpu_forward_nhwc(x, w, b, d);
  auto xc = x.contiguous();
  auto wc = w.to(at::kFloat).contiguous();
  auto bc = b.defined() ? b.to(at::kFloat).contiguous() : torch::Tensor();
  auto y = torch::empty_like(xc); // NCHW, or a one-channel tensor's channels-last strides
  const int64_t C = xc.size(1), H = xc.size(2), W = xc.size(3), k = wc.size(2);
  const bool bf16 = xc.scalar_type() == at::kBFloat16;
  const float* wp = wc.data_ptr<float>();
  const float* bp = bc.defined() ? bc.data_ptr<float>() : nullptr;
  char* xp = static_cast<char*>(xc.data_ptr());
  char* yp = static_cast<char*>(y.data_ptr());
  const int64_t plane_bytes = H * W * int64_t(xc.element_size());
  at::parallel_for(0, xc.size(0) * C, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t c = p % C;
      const float bias = bp ? bp[c] : 0.f;
      if (bf16)
        kernels::depthwise_plane_cpu_bf16(reinterpret_cast<const uint16_t*>(xp + p * plane_bytes), wp + c * k * k, bias,
                                          reinterpret_cast<uint16_t*>(yp + p * plane_bytes), int(H), int(W), int(k), int(d));
      else
        kernels::depthwise_plane_cpu(reinterpret_cast<const float*>(xp + p * plane_bytes), wp + c * k * k, bias,
                                     reinterpret_cast<float*>(yp + p * plane_bytes), int(H), int(W), int(k), int(d));
    }
  });
  return y;
}

// The fp32 weight [C,1,k,k] and bias [C] gradients of x and dy (same layout, fp32) on the CPU:
// channels-last in blocks of 8 channels, NCHW a channel at a time, each summed over the batch by
// one thread (no races, and the same sums whatever the thread count).
std::pair<torch::Tensor, torch::Tensor> cpu_weight_grad(const torch::Tensor& x, const torch::Tensor& dy, int64_t k,
                                                        int64_t d) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3), image = C * H * W;
  const float* xp = x.data_ptr<float>();
  const float* gp = dy.data_ptr<float>();
  if (is_nhwc(x)) {
    auto dwt = torch::zeros({k * k, C}), db = torch::zeros({C});
    float* wp = dwt.data_ptr<float>();
    float* bp = db.data_ptr<float>();
    at::parallel_for(0, (C + 7) / 8, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t n = 0; n < N; ++n)
        kernels::depthwise_weight_grad_nhwc_cpu(xp + n * image, gp + n * image, int(H), int(W), int(C), int(k), int(d),
                                                int(b0 * 8), int(std::min(C, b1 * 8)), wp, bp);
    });
    return {dwt.t().reshape({C, 1, k, k}), db};
  }
  auto dw = torch::zeros({C, 1, k, k}, torch::kFloat64), db = torch::zeros({C}, torch::kFloat64);
  double* wp = dw.data_ptr<double>();
  double* bp = db.data_ptr<double>();
  at::parallel_for(0, C, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c)
      for (int64_t n = 0; n < N; ++n)
        kernels::depthwise_weight_grad_plane_cpu(xp + n * image + c * H * W, gp + n * image + c * H * W, int(H), int(W),
                                                 int(k), int(d), wp + c * k * k, bp + c);
  });
  return {dw.to(torch::kFloat), db.to(torch::kFloat)};
}

// t in the layout dlk's kernels read: channels-last at an address their vector loads can use
// (CUDA's need 8 elements; the CPU's any), or NCHW.
torch::Tensor kernel_layout(const torch::Tensor& t, bool nhwc) {
  if (!nhwc) return t.contiguous();
  auto c = t.contiguous(at::MemoryFormat::ChannelsLast);
  const auto align = uintptr_t(8 * c.element_size());
  return reinterpret_cast<uintptr_t>(c.data_ptr()) % align == 0 ? c : c.clone(at::MemoryFormat::ChannelsLast);
}

#ifdef DLK_HAVE_CUDA_KERNELS
kernels::DType dtype_of(const torch::Tensor& t) {
  switch (t.scalar_type()) {
  case at::kFloat: return kernels::DType::f32;
  case at::kBFloat16: return kernels::DType::bf16;
  case at::kHalf: return kernels::DType::f16;
  default: TORCH_CHECK(false, "depthwise_conv2d: no CUDA kernel for ", t.scalar_type());
  }
}
kernels::DepthwiseShape shape_of(const torch::Tensor& x, int64_t k, int64_t d) {
  return {x.size(0), x.size(1), x.size(2), x.size(3), int(k), int(d)};
}
void* stream_of(const torch::Tensor& t) { return c10::cuda::getCurrentCUDAStream(t.device().index()).stream(); }

// Whether x goes to the channels-last kernels: it is channels-last (as LibTorch's convs keep
// their input's layout, so does this op) and its channels come in whole vectors.
bool cuda_nhwc(const torch::Tensor& x, int64_t k, int64_t d) {
  return x.size(1) > 1 && x.suggest_memory_format() == at::MemoryFormat::ChannelsLast &&
         kernels::depthwise_cuda_nhwc_supported(x.size(1), int(k), int(d));
}
// w [C,1,k,k] -> tap-major [k*k][C], the NHWC kernels' weight layout.
torch::Tensor tap_major(const torch::Tensor& w) { return w.reshape({w.size(0), -1}).t().contiguous(); }

// y = conv(x, w) + b on the GPU; x in kernel_layout(x, nhwc), w [C,1,k,k] and b [C] fp32 contiguous.
torch::Tensor cuda_conv(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, int64_t d, bool nhwc) {
  const float* bp = b.defined() ? b.data_ptr<float>() : nullptr;
  if (nhwc) {
    auto y = torch::empty(x.sizes(), x.options().memory_format(at::MemoryFormat::ChannelsLast));
    kernels::depthwise_forward_cuda_nhwc(dtype_of(x), x.data_ptr(), tap_major(w).data_ptr<float>(), bp, y.data_ptr(),
                                         shape_of(x, w.size(2), d), stream_of(x));
    return y;
  }
  auto y = torch::empty_like(x); // NCHW, or a one-channel tensor's channels-last strides
  kernels::depthwise_forward_cuda(dtype_of(x), x.data_ptr(), w.data_ptr<float>(), bp, y.data_ptr(),
                                  shape_of(x, w.size(2), d), stream_of(x));
  return y;
}

// The fp32 weight and bias gradients on the GPU; x and dy in kernel_layout(_, nhwc).
std::pair<torch::Tensor, torch::Tensor> cuda_weight_grad(const torch::Tensor& x, const torch::Tensor& dy,
                                                         const torch::Tensor& w, int64_t d, bool nhwc) {
  auto db = torch::zeros({w.size(0)}, w.options());
  const auto shape = shape_of(x, w.size(2), d);
  if (nhwc) {
    auto dwt = torch::zeros({w.size(2) * w.size(3), w.size(0)}, w.options());
    kernels::depthwise_weight_grad_cuda_nhwc(dtype_of(x), x.data_ptr(), dy.data_ptr(), dwt.data_ptr<float>(),
                                             db.data_ptr<float>(), shape, stream_of(x));
    return {dwt.t().reshape(w.sizes()), db};
  }
  auto dw = torch::zeros(w.sizes(), w.options());
  kernels::depthwise_weight_grad_cuda(dtype_of(x), x.data_ptr(), dy.data_ptr(), dw.data_ptr<float>(),
                                      db.data_ptr<float>(), shape, stream_of(x));
  return {dw, db};
}
#endif

// dlk's kernels on x's device: the convolution, and the weight and bias gradients.
torch::Tensor dlk_forward(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, int64_t d, bool nhwc) {
#ifdef DLK_HAVE_CUDA_KERNELS
  if (x.is_cuda()) return cuda_conv(x, w, b, d, nhwc);
#endif
  return cpu_forward(x, w, b, d);
}
std::pair<torch::Tensor, torch::Tensor> dlk_weight_grad(const torch::Tensor& x, const torch::Tensor& dy,
                                                        const torch::Tensor& w, int64_t d, bool nhwc) {
#ifdef DLK_HAVE_CUDA_KERNELS
  if (x.is_cuda()) return cuda_weight_grad(x, dy, w, d, nhwc);
#endif
  return cpu_weight_grad(x, dy, w.size(2), d);
}

// The op with autograd: x in kernel_layout(x, nhwc), w [C,1,k,k] and b [C] fp32 contiguous. Stride
// 1 and symmetric padding make the input gradient the same conv of dy with the kernel turned by
// 180 degrees.
struct Depthwise : torch::autograd::Function<Depthwise> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor x, torch::Tensor w,
                               torch::Tensor b, int64_t d, bool nhwc) {
    const c10::OptionalDeviceGuard guard(device_of_cuda(x));
    ctx->save_for_backward({x, w});
    ctx->saved_data["dilation"] = d;
    ctx->saved_data["nhwc"] = nhwc;
    return dlk_forward(x, w, b, d, nhwc);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& x = saved[0];
    const auto& w = saved[1];
    const int64_t d = ctx->saved_data["dilation"].toInt();
    const bool nhwc = ctx->saved_data["nhwc"].toBool();
    const c10::OptionalDeviceGuard guard(device_of_cuda(x));
    auto dy = kernel_layout(grads[0].to(x.scalar_type()), nhwc);
    auto dx = dlk_forward(dy, w.flip({2, 3}).contiguous(), torch::Tensor(), d, nhwc);
    auto [dw, db] = dlk_weight_grad(x, dy, w, d, nhwc);
    return {dx, dw, db, torch::Tensor(), torch::Tensor()};
  }
  // The GPU whose stream the kernels use; none for the CPU.
  static c10::optional<c10::Device> device_of_cuda(const torch::Tensor& x) {
    return x.is_cuda() ? c10::optional<c10::Device>(x.device()) : c10::nullopt;
  }
};

// Depthwise::apply with x in kernel_layout(x, nhwc), the parameters in fp32 (a zero bias if none).
torch::Tensor dlk_op(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, int64_t d, bool nhwc) {
  auto bias = b.defined() ? b.to(at::kFloat) : torch::zeros({w.size(0)}, w.options().dtype(at::kFloat));
  return Depthwise::apply(kernel_layout(x, nhwc), w.to(at::kFloat).contiguous(), bias.contiguous(), d, nhwc);
}

} // namespace

void use_depthwise_kernels(bool on) { kernels_flag() = on; }

const char* depthwise_backend_name(DepthwiseBackend b) {
  switch (b) {
  case DepthwiseBackend::DlkCuda: return "dlk-cuda";
  case DepthwiseBackend::DlkCpuAvx2: return "dlk-cpu-avx2";
  case DepthwiseBackend::DlkCpu: return "dlk-cpu";
  case DepthwiseBackend::Torch: break;
  }
  return "torch";
}

DepthwiseBackend select_depthwise_backend(const torch::Device& device, bool needs_grad) {
  (void)needs_grad; // the same kernels either way; the caller decides per dtype and dilation
  if (!kernels_enabled()) return DepthwiseBackend::Torch;
#ifdef DLK_HAVE_CUDA_KERNELS
  if (device.is_cuda()) return DepthwiseBackend::DlkCuda;
#endif
  if (device.is_cpu()) return kernels::cpu_has_avx2_fma() ? DepthwiseBackend::DlkCpuAvx2 : DepthwiseBackend::DlkCpu;
  return DepthwiseBackend::Torch;
}

torch::Tensor depthwise_conv2d(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b,
                               int64_t d) {
  const bool needs_grad =
      torch::GradMode::is_enabled() && (x.requires_grad() || w.requires_grad() || (b.defined() && b.requires_grad()));
  using B = DepthwiseBackend;
  const B backend = kernels_enabled() && shape_ok(x, w) ? select_depthwise_backend(x.device(), needs_grad) : B::Torch;
  const bool on_cpu_kernels = backend == B::DlkCpuAvx2 || backend == B::DlkCpu;
#ifdef DLK_HAVE_CUDA_KERNELS
  if (backend == B::DlkCuda && kernels::depthwise_cuda_supported(int(w.size(-1)), int(d))) {
    auto dtype = x.scalar_type();
    if (compat::cuda_autocast_enabled()) dtype = compat::cuda_autocast_dtype(); // as conv2d would run
    if (dtype == at::kFloat || dtype == at::kBFloat16 || dtype == at::kHalf) {
      auto xt = x.to(dtype);
      const bool nhwc = cuda_nhwc(xt, w.size(-1), d);
      auto y = dlk_op(xt, w, b, d, nhwc);
      // A channels-last input whose channels the NHWC kernels cannot take: back to its layout
      return nhwc ? y : y.contiguous(xt.suggest_memory_format());
    }
  }
#endif
  // CPU training: every depthwise conv, fp32 (LibTorch 1.13's backward is slow for all of them).
  const auto t = x.scalar_type();
  if (on_cpu_kernels && needs_grad && t == at::kFloat) return dlk_op(x, w, b, d, is_nhwc(x));
  // CPU inference: only the dilated convs. LibTorch runs those through a slow loop (6x slower than
  // dlk's kernel at DLKUNet's 7x7, dilation 3, NCHW), the others through oneDNN's vectorised
  // kernels, which are as fast as dlk's or faster (bench/kernels/depthwise_bench.cpp). fp32 or bf16
  // activations (bf16 inference: fp32 sums, bf16 out), NCHW or channels-last.
  if (on_cpu_kernels && !needs_grad && d > 1 && (t == at::kFloat || t == at::kBFloat16))
    return cpu_forward(x, w, b, d);
  return torch_op(x, w, b, d);
}

} // namespace dlk
