#include "dlk/train/distributed.h"
#include "dlk/core/error.h"
#include "dlk/model/torch_compat.h"

#include <fmt/format.h>

#ifdef DLK_HAVE_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef DLK_HAVE_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#include <torch/torch.h>

#include <cstdlib>

namespace dlk {

struct Distributed::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<compat::ProcessGroupBase> pg; // Gloo or NCCL
};

namespace {
int env_int(std::initializer_list<const char*> names, int fallback, std::string* which = nullptr) {
  for (const char* n : names)
    if (const char* v = std::getenv(n); v && *v) {
      try {
        if (which) *which = n;
        return std::stoi(v);
      } catch (const std::exception&) {
        throw UsageError(fmt::format("environment: {}='{}' is not a number", n, v));
      }
    }
  return fallback;
}
} // namespace

std::unique_ptr<Distributed> Distributed::from_environment(bool cuda) {
  std::unique_ptr<Distributed> d(new Distributed());
  d->cuda_ = cuda;
  std::string src;
  d->world_ = env_int({"WORLD_SIZE", "SLURM_NTASKS"}, 1, &src);
  d->rank_ = env_int({"RANK", "SLURM_PROCID"}, 0);
  d->local_rank_ = env_int({"LOCAL_RANK", "SLURM_LOCALID"}, 0);
  const char* addr = std::getenv("MASTER_ADDR");
  const char* port = std::getenv("MASTER_PORT");
  // Slurm's one-task jobs and plain runs stay single-process; a world of one with a rendezvous
  // (torchrun's variables) gets its process group.
  if (d->world_ < 1 || (d->world_ == 1 && (src != "WORLD_SIZE" || !addr || !port))) {
    d->world_ = 1;
    return d;
  }
  if (d->rank_ < 0 || d->rank_ >= d->world_)
    throw UsageError(fmt::format("environment: rank {} outside a world of {} ({})", d->rank_, d->world_, src));
  if (!addr || !port)
    throw UsageError(fmt::format("{} = {} processes, but MASTER_ADDR and MASTER_PORT are not both set", src, d->world_));
  c10d::TCPStoreOptions so;
  so.port = uint16_t(std::atoi(port));
  so.isServer = d->rank_ == 0;
  so.numWorkers = size_t(d->world_);
  so.waitWorkers = true;
  so.timeout = std::chrono::minutes(10);
  d->impl_ = std::make_unique<Impl>();
  d->impl_->store = c10::make_intrusive<c10d::TCPStore>(addr, so);
#ifdef DLK_HAVE_NCCL
  if (cuda) {
    d->impl_->pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(d->impl_->store, d->rank_, d->world_);
    return d;
  }
#else
  if (cuda) throw UsageError("several GPU processes need NCCL, which this build of dlk lacks (no nccl.h found)");
#endif
#ifdef DLK_HAVE_GLOO
  auto opts = c10d::ProcessGroupGloo::Options::create();
  opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  d->impl_->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(d->impl_->store, d->rank_, d->world_, opts);
  return d;
#else
  throw UsageError("several CPU processes need Gloo, which this build of dlk lacks (no gloo headers found)");
#endif
}

Distributed::~Distributed() = default;

void Distributed::all_reduce_sum(std::vector<torch::Tensor> tensors) {
  if (!active() || tensors.empty()) return;
  std::vector<torch::Tensor> flat_parts;
  for (auto& t : tensors) flat_parts.push_back(t.reshape({-1}).to(torch::kFloat32));
  std::vector<torch::Tensor> buf{torch::cat(flat_parts)};
  impl_->pg->allreduce(buf)->wait();
  int64_t at = 0;
  for (auto& t : tensors) {
    t.copy_(buf[0].slice(0, at, at + t.numel()).view(t.sizes()));
    at += t.numel();
  }
}

void Distributed::broadcast(std::vector<torch::Tensor> tensors) {
  if (!active()) return;
  for (auto& t : tensors) {
    std::vector<torch::Tensor> one{t.data()};
    impl_->pg->broadcast(one)->wait();
  }
}

std::vector<double> Distributed::sum(const std::vector<double>& values) {
  if (!active()) return values;
  auto t = torch::tensor(values, torch::kFloat64);
  if (cuda_) t = t.to(torch::kCUDA);
  std::vector<torch::Tensor> buf{t};
  impl_->pg->allreduce(buf)->wait();
  auto c = buf[0].to(torch::kCPU);
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

} // namespace dlk
