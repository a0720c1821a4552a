// Data-parallel training over processes with torch.distributed's C++ process groups: Gloo on
// CPU, NCCL on GPU (when LibTorch has CUDA). The rendezvous comes from Slurm (SLURM_PROCID,
// SLURM_NTASKS, SLURM_LOCALID) or torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK), with
// MASTER_ADDR and MASTER_PORT naming rank 0's TCP store.
#pragma once
#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

namespace dlk {

class Distributed {
public:
  // A single process unless the environment names several, or names a world of one with
  // MASTER_ADDR and MASTER_PORT (as torchrun --nproc-per-node 1 does): then a process group of
  // one is made too, so that a one-GPU run exercises NCCL as a larger one would. `cuda` picks NCCL.
  static std::unique_ptr<Distributed> from_environment(bool cuda);
  ~Distributed();

  int rank() const { return rank_; }
  int world() const { return world_; }
  int local_rank() const { return local_rank_; }
  bool active() const { return impl_ != nullptr; } // a process group exists (world >= 1)
  const char* backend() const { return !impl_ ? "none" : cuda_ ? "NCCL" : "Gloo"; }

  // Sums the tensors over all processes in place (one flat buffer per call).
  void all_reduce_sum(std::vector<torch::Tensor> tensors);
  // Rank 0's values everywhere.
  void broadcast(std::vector<torch::Tensor> tensors);
  // Sums a few numbers over the processes.
  std::vector<double> sum(const std::vector<double>& values);

private:
  Distributed() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int rank_ = 0, world_ = 1, local_rank_ = 0;
  bool cuda_ = false;
};

} // namespace dlk
