// Needs LibTorch with CUDA and a GPU: data-parallel training over NCCL with a world of one
// process (what `torchrun --nproc-per-node 1` gives), so that every GPU machine the suite runs on
// exercises the NCCL process group, its broadcast and all-reduce, and the checkpoints of such a run.
// Without a GPU it says so and ctest reports it skipped (label gpu).
#include "dlk/model/checkpoint.h"
#include "dlk/shard/dataset.h"
#include "dlk/train/train_options.h"
#include "dlk/train/trainer.h"
#include "test_util.h"

#include <catch2/catch.hpp>

#include <torch/torch.h>

#include <arpa/inet.h>
#include <cstdlib>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace dlk;

namespace {
// A free TCP port on loopback for the rendezvous store.
int free_port() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t n = sizeof a;
  REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::getsockname(s, reinterpret_cast<sockaddr*>(&a), &n) == 0);
  ::close(s);
  return ntohs(a.sin_port);
}

// Sets variables for one scope and removes them after, also when a check throws.
struct ScopedEnv {
  std::vector<std::string> names;
  void set(const std::string& k, const std::string& v) {
    ::setenv(k.c_str(), v.c_str(), 1);
    names.push_back(k);
  }
  ~ScopedEnv() {
    for (auto& k : names) ::unsetenv(k.c_str());
  }
};
} // namespace

TEST_CASE("NCCL: a world of one process trains and checkpoints (runs where a GPU is)", "[cuda][distributed]") {
  if (!torch::cuda::is_available()) {
    WARN("SKIP: no CUDA device; NCCL training is tested on a GPU machine");
    return;
  }
  test::TempDir dir;
  test::write_one_case_dataset(dir.path, "nccl-test");

  ScopedEnv env;
  env.set("WORLD_SIZE", "1");
  env.set("RANK", "0");
  env.set("LOCAL_RANK", "0");
  env.set("MASTER_ADDR", "127.0.0.1");
  env.set("MASTER_PORT", std::to_string(free_port()));

  TrainOptions o;
  o.dataset = dir.path.string();
  o.run_dir = dir / "run";
  o.model.variant = "S";
  o.model.base_channels = 8;
  o.model.in_channels = 1;
  o.model.classes = 3;
  o.height = o.width = 32;
  o.epochs = 2;
  o.batch = 2;
  o.device = "cuda";
  o.augment = "none";
  o.threads = 2;
  std::vector<std::string> lines;
  const TrainOutcome outcome = run_training(o, [&](const std::string& l) { lines.push_back(l); });
  CHECK(outcome == TrainOutcome::Finished);
  bool said = false;
  for (auto& l : lines) said = said || l.find("data-parallel over 1 process (NCCL)") != std::string::npos;
  CHECK(said);
  // Both epochs ran (3 steps each: 6 slices in batches of 2) and the final weights load back.
  Checkpoint meta;
  DLKUNet m = load_model(dir / "run/final.dlkc", nullptr, &meta);
  CHECK(meta.meta.at("epoch").as_int() == 2);
  for (auto& p : m->parameters()) REQUIRE(torch::isfinite(p).all().item<bool>());
}
