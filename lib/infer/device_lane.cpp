#include "dlk/infer/device_lane.h"

#include <torch/torch.h>

#ifdef DLK_HAVE_CUDA
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace dlk {

using Clock = std::chrono::steady_clock;

#ifdef DLK_HAVE_CUDA
struct DeviceLane::Streams {
  c10::cuda::CUDAStream copy; // host-to-device copies; the network runs on the current stream
  explicit Streams(c10::DeviceIndex d) : copy(c10::cuda::getStreamFromPool(false, d)) {}
};
struct DeviceLane::Transfer::Events { // timed: the batch's compute from its start to its results copied
  at::cuda::CUDAEvent start{cudaEventDefault}, end{cudaEventDefault};
};
#else
struct DeviceLane::Streams {};
struct DeviceLane::Transfer::Events {};
#endif

DeviceLane::Transfer::Transfer() = default;
DeviceLane::Transfer::~Transfer() = default;
DeviceLane::Transfer::Transfer(Transfer&&) noexcept = default;
DeviceLane::Transfer& DeviceLane::Transfer::operator=(Transfer&&) noexcept = default;

double DeviceLane::Transfer::wait() {
#ifdef DLK_HAVE_CUDA
  if (events_) {
    events_->end.synchronize();
    return double(events_->start.elapsed_time(events_->end)) / 1000.0;
  }
#endif
  return std::chrono::duration<double>(ended_ - begun_).count();
}

DeviceLane::DeviceLane(const torch::Device& dev) : dev_(dev) {
#ifdef DLK_HAVE_CUDA
  if (dev_.is_cuda()) streams_ = std::make_unique<Streams>(dev_.index());
#endif
}
DeviceLane::~DeviceLane() = default;

torch::Tensor DeviceLane::host_empty(at::IntArrayRef sizes, torch::ScalarType type) const {
  return torch::empty(sizes, torch::TensorOptions().dtype(type).pinned_memory(dev_.is_cuda()));
}

torch::Tensor DeviceLane::upload(const torch::Tensor& host) {
  begun_ = Clock::now();
#ifdef DLK_HAVE_CUDA
  if (streams_) {
    const c10::cuda::CUDAStream compute = c10::cuda::getCurrentCUDAStream(dev_.index());
    torch::Tensor d;
    at::cuda::CUDAEvent copied;
    {
      c10::cuda::CUDAStreamGuard on_copy(streams_->copy);
      d = host.to(dev_, /*non_blocking=*/true);
      copied.record(streams_->copy);
    }
    copied.block(compute);
    d.record_stream(compute.unwrap()); // its memory goes back to the allocator only after the network used it
    pending_ = std::make_unique<Transfer::Events>();
    pending_->start.record(compute);
    return d;
  }
#endif
  return host.to(dev_);
}

DeviceLane::Transfer DeviceLane::download(const torch::Tensor& labels, const torch::Tensor& probabilities) {
  Transfer t;
  t.begun_ = begun_;
  auto to_host = [&](const torch::Tensor& x, torch::ScalarType type) {
    if (!x.defined()) return x;
    if (!dev_.is_cuda()) return x.to(torch::kCPU, type).contiguous();
    auto h = host_empty(x.sizes(), type);
    h.copy_(x.to(type), /*non_blocking=*/true); // queued behind the network, on its stream
    return h;
  };
  t.labels = to_host(labels, torch::kInt32);
  t.probabilities = to_host(probabilities, torch::kFloat32);
#ifdef DLK_HAVE_CUDA
  if (streams_) {
    TORCH_CHECK(pending_, "DeviceLane::download without an upload() before it");
    t.events_ = std::move(pending_);
    t.events_->end.record(c10::cuda::getCurrentCUDAStream(dev_.index()));
  }
#endif
  t.ended_ = Clock::now();
  return t;
}

} // namespace dlk
