// The optimizer of a run and its state in a checkpoint.
#include "dlk/core/error.h"
#include "dlk/model/torch_compat.h"
#include "trainer_parts.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <map>
#include <tuple>
#include <sstream>

namespace dlk {

namespace {

// Adam or AdamW whose step updates all tensors of a device at once: LibTorch's fused kernel, or
// its multi-tensor (foreach) ops. The state is torch::optim's own (step, exp_avg, exp_avg_sq per
// tensor), so that checkpoints and the loop's optimizer read each other's.
template <class Base, class State, class Options, bool Decoupled> class MultiTensorAdam final : public Base {
public:
  MultiTensorAdam(std::vector<torch::Tensor> params, Options o, bool fused) : Base(std::move(params), o), fused_(fused) {}

  torch::Tensor step(torch::optim::Optimizer::LossClosure closure = nullptr) override {
    torch::NoGradGuard no_grad;
    torch::Tensor loss;
    if (closure) {
      torch::AutoGradMode grad(true);
      loss = closure();
    }
    for (auto& group : this->param_groups_) {
      const auto& o = static_cast<const Options&>(group.options());
      TORCH_CHECK(!o.amsgrad(), "--optimizer-step fused|foreach: no AMSGrad");
      std::map<std::pair<int64_t, std::string>, Lists> lists; // by step count and device
      for (auto& p : group.params()) {
        if (!p.grad().defined()) continue;
        auto& slot = this->state_[compat::optimizer_state_key<Base>(p)];
        if (!slot) {
          auto st = std::make_unique<State>();
          st->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
          st->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
          slot = std::move(st);
        }
        auto& st = static_cast<State&>(*slot);
        st.step(st.step() + 1);
        Lists& l = lists[std::make_pair(int64_t(st.step()), p.device().str())];
        l.params.push_back(p);
        l.grads.push_back(p.grad());
        l.exp_avgs.push_back(st.exp_avg());
        l.exp_avg_sqs.push_back(st.exp_avg_sq());
      }
      for (auto& [key, l] : lists) update(l, key.first, o);
    }
    return loss;
  }

private:
  struct Lists {
    std::vector<torch::Tensor> params, grads, exp_avgs, exp_avg_sqs;
  };
  void update(Lists& l, int64_t step, const Options& o) const {
    const double lr = o.lr(), b1 = std::get<0>(o.betas()), b2 = std::get<1>(o.betas()), wd = o.weight_decay(), eps = o.eps();
    if (fused_) { // every tensor's step count is one read-only scalar on the device
      const auto t = torch::full({}, double(step), torch::TensorOptions().dtype(torch::kFloat32).device(l.params[0].device()));
      const std::vector<torch::Tensor> steps(l.params.size(), t);
      compat::fused_adam_(Decoupled, l.params, l.grads, l.exp_avgs, l.exp_avg_sqs, steps, lr, b1, b2, wd, eps);
      return;
    }
    // torch::optim's arithmetic, tensor list by tensor list.
    const double bc1 = 1 - std::pow(b1, double(step)), bc2 = 1 - std::pow(b2, double(step));
    std::vector<torch::Tensor> g = l.grads;
    if (wd != 0) {
      if (Decoupled) at::_foreach_mul_(l.params, 1 - lr * wd);
      else g = at::_foreach_add(l.grads, l.params, wd);
    }
    at::_foreach_mul_(l.exp_avgs, b1);
    at::_foreach_add_(l.exp_avgs, g, 1 - b1);
    at::_foreach_mul_(l.exp_avg_sqs, b2);
    at::_foreach_addcmul_(l.exp_avg_sqs, g, g, 1 - b2);
    auto denom = at::_foreach_sqrt(l.exp_avg_sqs);
    at::_foreach_div_(denom, std::sqrt(bc2));
    at::_foreach_add_(denom, eps);
    at::_foreach_addcdiv_(l.params, l.exp_avgs, denom, -lr / bc1);
  }
  bool fused_;
};

using MultiTensorAdamL2 = MultiTensorAdam<torch::optim::Adam, torch::optim::AdamParamState, torch::optim::AdamOptions, false>;
using MultiTensorAdamW = MultiTensorAdam<torch::optim::AdamW, torch::optim::AdamWParamState, torch::optim::AdamWOptions, true>;

// "auto": fused on a GPU where LibTorch has it (one kernel instead of a dozen per tensor), else
// the loop (a CPU run's numbers as before).
std::string resolve_optimizer_step(const TrainOptions& o, const torch::Device& dev) {
  if (o.optimizer_step == "auto") return o.optimizer != "sgd" && dev.is_cuda() && compat::has_fused_adam(dev) ? "fused" : "loop";
  if (o.optimizer_step == "fused" && !compat::has_fused_adam(dev))
    throw UsageError(fmt::format("--optimizer-step fused: LibTorch {} has no fused Adam on {} (on CUDA since 2.0, on the CPU "
                                 "since 2.4); use foreach",
                                 TORCH_VERSION, dev.str()));
  return o.optimizer_step;
}

} // namespace

std::unique_ptr<torch::optim::Optimizer> make_optimizer(TrainOptions& o, std::vector<torch::Tensor> params) {
  const torch::Device dev = params.empty() ? torch::Device(torch::kCPU) : params[0].device();
  o.optimizer_step = resolve_optimizer_step(o, dev);
  const bool multi = o.optimizer_step != "loop", fused = o.optimizer_step == "fused";
  if (o.optimizer == "adam") {
    const auto opt = torch::optim::AdamOptions(o.lr.base).weight_decay(o.weight_decay);
    if (multi) return std::make_unique<MultiTensorAdamL2>(params, opt, fused);
    return std::make_unique<torch::optim::Adam>(params, opt);
  }
  if (o.optimizer == "adamw") {
    const auto opt = torch::optim::AdamWOptions(o.lr.base).weight_decay(o.weight_decay);
    if (multi) return std::make_unique<MultiTensorAdamW>(params, opt, fused);
    return std::make_unique<torch::optim::AdamW>(params, opt);
  }
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
