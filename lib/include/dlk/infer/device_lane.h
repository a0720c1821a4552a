// The device's side of dlk-infer's batch pipeline (Segmenter::segment_pipelined). On a GPU: host
// batches in pinned memory, copied up on a stream of their own so that the copy of batch i+1
// overlaps the network on batch i; results copied back into pinned memory without blocking the
// host, which waits only where it reads them; the network's busy time measured by CUDA events.
// On a CPU each step is what it is without a device (no copy, nothing to wait for), and the busy
// time is the host's.
#pragma once
#include <torch/types.h>

#include <chrono>
#include <memory>

namespace dlk {

class DeviceLane {
public:
  explicit DeviceLane(const torch::Device& dev);
  ~DeviceLane();
  DeviceLane(const DeviceLane&) = delete;
  DeviceLane& operator=(const DeviceLane&) = delete;

  // Host memory for a batch: pinned on a GPU (copies from it can run asynchronously).
  torch::Tensor host_empty(at::IntArrayRef sizes, torch::ScalarType type) const;
  // A host batch on the device, ready for the network; the batch's compute starts after it.
  torch::Tensor upload(const torch::Tensor& host);

  // A batch's results on their way to the host: read them only after wait().
  class Transfer {
  public:
    Transfer();
    ~Transfer();
    Transfer(Transfer&&) noexcept;
    Transfer& operator=(Transfer&&) noexcept;
    torch::Tensor labels, probabilities; // host (probabilities undefined when not asked for)
    // Waits until they are there; returns the seconds the device computed this batch.
    double wait();

  private:
    friend class DeviceLane;
    struct Events;
    std::unique_ptr<Events> events_;
    std::chrono::steady_clock::time_point begun_, ended_;
  };
  // The labels (as int32) and the probabilities (may be undefined) copied to the host, after
  // everything the network queued for this batch since upload().
  Transfer download(const torch::Tensor& labels, const torch::Tensor& probabilities);

private:
  struct Streams;
  torch::Device dev_;
  std::unique_ptr<Streams> streams_;
  std::chrono::steady_clock::time_point begun_;
  std::unique_ptr<Transfer::Events> pending_; // the start of the batch in flight (GPU)
};

} // namespace dlk
