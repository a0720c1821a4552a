// The optimizer of a run and its state in a checkpoint.
#include "dlk/core/error.h"
#include "trainer_parts.h"

#include <fmt/format.h>

#include <cstring>
#include <sstream>

namespace dlk {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainOptions& o, std::vector<torch::Tensor> params) {
  if (o.optimizer == "adam")
    return std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(o.lr.base).weight_decay(o.weight_decay));
  if (o.optimizer == "adamw")
    return std::make_unique<torch::optim::AdamW>(params, torch::optim::AdamWOptions(o.lr.base).weight_decay(o.weight_decay));
  if (o.optimizer == "sgd")
    return std::make_unique<torch::optim::SGD>(
        params, torch::optim::SGDOptions(o.lr.base).momentum(o.momentum).nesterov(o.nesterov).weight_decay(o.weight_decay));
  throw UsageError(fmt::format("--optimizer: '{}' (adam, adamw, sgd)", o.optimizer));
}

void set_lr(torch::optim::Optimizer& opt, double lr) {
  for (auto& g : opt.param_groups()) g.options().set_lr(lr);
}

torch::Tensor optimizer_blob(torch::optim::Optimizer& opt) {
  torch::serialize::OutputArchive ar;
  opt.save(ar);
  std::ostringstream os;
  ar.save_to(os);
  const std::string s = os.str();
  auto t = torch::empty({int64_t(s.size())}, torch::kUInt8);
  std::memcpy(t.data_ptr(), s.data(), s.size());
  return t;
}

void load_optimizer_blob(torch::optim::Optimizer& opt, const torch::Tensor& t, const torch::Device& dev) {
  std::istringstream is(std::string(static_cast<const char*>(t.data_ptr()), size_t(t.numel())));
  torch::serialize::InputArchive ar;
  ar.load_from(is, dev);
  opt.load(ar);
}

} // namespace dlk
