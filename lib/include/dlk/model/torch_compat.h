// The one place that knows how LibTorch 1.13 (Debian, CPU) and LibTorch 2.x (CUDA builds)
// differ. Everything else in dlk calls these and stays version-agnostic.
#pragma once
#include <torch/torch.h>
#include <torch/version.h>

#include <ATen/autocast_mode.h>

#include <array>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>

#ifdef DLK_HAVE_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#define DLK_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

// c10d: since 2.0 the Gloo and NCCL process groups are Backends (which a ProcessGroup can wrap);
// in 1.13 they are ProcessGroups. Either base has allreduce and broadcast.
namespace c10d {
#if DLK_TORCH_AT_LEAST(2, 0)
class Backend;
#else
class ProcessGroup;
#endif
} // namespace c10d

namespace dlk::compat {

#if DLK_TORCH_AT_LEAST(2, 0)
using ProcessGroupBase = c10d::Backend;
#else
using ProcessGroupBase = c10d::ProcessGroup;
#endif

inline bool cuda_available() { return torch::cuda::is_available(); }

// A conv's numeric padding. The option is a variant (numbers, or kValid/kSame): c10::variant
// in 1.13, std::variant since 2.1.
inline std::array<int64_t, 2> conv_padding(const torch::nn::detail::ConvNdOptions<2>& o) {
#if DLK_TORCH_AT_LEAST(2, 1)
  const auto* a = std::get_if<torch::ExpandingArray<2>>(&o.padding());
#else
  const auto* a = c10::get_if<torch::ExpandingArray<2>>(&o.padding());
#endif
  TORCH_CHECK(a, "convolutions with 'valid'/'same' padding are not supported here");
  return {(*a)->at(0), (*a)->at(1)};
}

// Autocast on one device type (CUDA or CPU). 1.13 has backend-specific setters (set_enabled,
// set_autocast_gpu_dtype; set_cpu_enabled, set_autocast_cpu_dtype); 2.4 replaced them with
// setters that take the device type and later dropped the old ones.
class Autocast {
public:
  Autocast(at::DeviceType device, bool enabled, at::ScalarType dtype) : device_(device), enabled_(enabled) {
    if (!enabled_) return;
    prev_enabled_ = is_enabled(device_);
    prev_dtype_ = get_dtype(device_);
    set(device_, true, dtype);
    at::autocast::increment_nesting();
  }
  ~Autocast() {
    if (!enabled_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    set(device_, prev_enabled_, prev_dtype_);
  }
  Autocast(const Autocast&) = delete;
  Autocast& operator=(const Autocast&) = delete;

  static bool is_enabled(at::DeviceType d) {
#if DLK_TORCH_AT_LEAST(2, 4)
    return at::autocast::is_autocast_enabled(d);
#else
    return d == at::kCPU ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
#endif
  }
  static at::ScalarType get_dtype(at::DeviceType d) {
#if DLK_TORCH_AT_LEAST(2, 4)
    return at::autocast::get_autocast_dtype(d);
#else
    return d == at::kCPU ? at::autocast::get_autocast_cpu_dtype() : at::autocast::get_autocast_gpu_dtype();
#endif
  }

private:
  static void set(at::DeviceType d, bool on, at::ScalarType t) {
#if DLK_TORCH_AT_LEAST(2, 4)
    at::autocast::set_autocast_enabled(d, on);
    at::autocast::set_autocast_dtype(d, t);
#else
    if (d == at::kCPU) {
      at::autocast::set_cpu_enabled(on);
      at::autocast::set_autocast_cpu_dtype(t);
    } else {
      at::autocast::set_enabled(on);
      at::autocast::set_autocast_gpu_dtype(t);
    }
#endif
  }
  at::DeviceType device_;
  bool enabled_, prev_enabled_ = false;
  at::ScalarType prev_dtype_ = at::kBFloat16;
};
struct CudaAutocast : Autocast {
  CudaAutocast(bool enabled, at::ScalarType dtype) : Autocast(at::kCUDA, enabled, dtype) {}
};
// On the CPU: bf16 where the CPU computes it natively (see kernels::cpu_has_native_bf16).
struct CpuAutocast : Autocast {
  CpuAutocast(bool enabled, at::ScalarType dtype) : Autocast(at::kCPU, enabled, dtype) {}
};

// Whether CUDA autocast is on here, and the type it computes in (for ops autocast does not see).
inline bool cuda_autocast_enabled() { return Autocast::is_enabled(at::kCUDA); }
inline at::ScalarType cuda_autocast_dtype() { return Autocast::get_dtype(at::kCUDA); }

// The key of a tensor's state in torch::optim (its TensorImpl's address): a string in 1.13 (as
// c10::guts::to_string writes a pointer), the pointer itself in 2.x.
template <class Optimizer> auto optimizer_state_key(const at::Tensor& p) {
  using Key = typename std::decay_t<decltype(std::declval<Optimizer&>().state())>::key_type;
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream s;
    s << static_cast<void*>(p.unsafeGetTensorImpl());
    return Key(s.str());
  } else {
    return Key(p.unsafeGetTensorImpl());
  }
}

// LibTorch's fused Adam and AdamW steps (one kernel over all of a device's tensors; the step
// counts already advanced, as PyTorch's optimizer calls them): on CUDA since 2.0, on the CPU
// since 2.4, none in 1.13.
inline bool has_fused_adam(const torch::Device& dev) {
#if DLK_TORCH_AT_LEAST(2, 4)
  return dev.is_cuda() || dev.is_cpu();
#elif DLK_TORCH_AT_LEAST(2, 0)
  return dev.is_cuda();
#else
  (void)dev;
  return false;
#endif
}
inline void fused_adam_(bool decoupled_weight_decay, at::TensorList params, at::TensorList grads, at::TensorList exp_avgs,
                        at::TensorList exp_avg_sqs, at::TensorList steps, double lr, double beta1, double beta2,
                        double weight_decay, double eps) {
#if DLK_TORCH_AT_LEAST(2, 0)
  if (decoupled_weight_decay)
    at::_fused_adamw_(params, grads, exp_avgs, exp_avg_sqs, {}, steps, lr, beta1, beta2, weight_decay, eps, false, false);
  else
    at::_fused_adam_(params, grads, exp_avgs, exp_avg_sqs, {}, steps, lr, beta1, beta2, weight_decay, eps, false, false);
#else
  (void)decoupled_weight_decay, (void)params, (void)grads, (void)exp_avgs, (void)exp_avg_sqs, (void)steps;
  (void)lr, (void)beta1, (void)beta2, (void)weight_decay, (void)eps;
  TORCH_CHECK(false, "this LibTorch has no fused Adam");
#endif
}

// Peak GPU memory allocated since the last call (GiB), 0 on a CPU device or a CPU-only LibTorch.
inline double peak_gpu_memory_gib(const torch::Device& dev) {
#ifdef DLK_HAVE_CUDA
  if (!dev.is_cuda()) return 0;
  const auto idx = dev.has_index() ? dev.index() : c10::DeviceIndex(0);
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(idx);
  const double gib = double(stats.allocated_bytes[0].peak) / double(1ull << 30); // [0]: aggregate
  c10::cuda::CUDACachingAllocator::resetPeakStats(idx);
  return gib;
#else
  (void)dev;
  return 0;
#endif
}

} // namespace dlk::compat
