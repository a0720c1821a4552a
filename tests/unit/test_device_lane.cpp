// DeviceLane, dlk-infer's device side: host batches up, results down, in order and intact while
// many batches are in flight; on a GPU through pinned memory, a copy stream and timed events.
#include "dlk/infer/device_lane.h"
#include "dlk/model/torch_compat.h"

#include <catch2/catch.hpp>

#include <torch/torch.h>

#include <chrono>
#include <vector>

using namespace dlk;

namespace {
// `batches` batches up, through a stand-in network (labels: the argmax over 3 "classes" made from
// the input; probabilities: its softmax), all queued before any is waited for; each checked
// against the same arithmetic on the CPU.
void round_trip(const torch::Device& dev, int batches) {
  DeviceLane lane(dev);
  std::vector<torch::Tensor> inputs;
  std::vector<DeviceLane::Transfer> out;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < batches; ++i) {
    auto x = lane.host_empty({4, 1, 32, 32}, torch::kFloat32);
    CHECK(x.is_pinned() == dev.is_cuda());
    x.copy_(torch::randn({4, 1, 32, 32}));
    inputs.push_back(x.clone());
    auto xd = lane.upload(x);
    REQUIRE(xd.device().type() == dev.type());
    auto logits = torch::cat({xd, -xd, xd * xd - 1}, 1);
    out.push_back(lane.download(logits.argmax(1), torch::softmax(logits, 1)));
  }
  double busy = 0;
  for (int i = 0; i < batches; ++i) {
    busy += out[size_t(i)].wait();
    auto logits = torch::cat({inputs[size_t(i)], -inputs[size_t(i)], inputs[size_t(i)] * inputs[size_t(i)] - 1}, 1);
    const auto& r = out[size_t(i)];
    REQUIRE(r.labels.device().is_cpu());
    CHECK(r.labels.scalar_type() == torch::kInt32);
    CHECK(torch::equal(r.labels, logits.argmax(1).to(torch::kInt32)));
    CHECK(torch::allclose(r.probabilities, torch::softmax(logits, 1), 1e-5, 1e-6));
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(busy > 0);
  CHECK(busy <= wall * 1.05); // the device's busy time is part of the wall time
}
} // namespace

TEST_CASE("device lane: on the CPU, batches round-trip unchanged", "[infer]") { round_trip(torch::kCPU, 8); }

TEST_CASE("device lane: on a GPU, 32 batches in flight round-trip unchanged (runs where a GPU is)", "[infer][cuda]") {
  if (!compat::cuda_available()) {
    WARN("SKIP: no CUDA device; the device lane's streams are tested on the GPU machine");
    return;
  }
  round_trip(torch::kCUDA, 32);
}
