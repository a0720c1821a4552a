#include "dlk/core/error.h"
#include "dlk/train/loss_schedule.h"
#include "dlk/train/lr_schedule.h"

#include <fmt/format.h>

#include <cmath>
#include <sstream>

namespace dlk {

LossWeights LossSchedule::at(int epoch) const {
  if (strategy == "ordinary") return fixed;
  if (strategy == "phase") {
    for (const auto& p : phases)
      if (epoch < p.until) return p.w;
    return phases.back().w;
  }
  if (strategy == "dynamic") {
    const double x0 = 0.5 * epochs;
    const double s = 1.0 / (1.0 + std::exp(-k * (double(epoch) - x0)));
    return {A + (1 - A) * (1 - s), 1 + (B - 1) * (1 - s)};
  }
  throw UsageError(fmt::format("--loss: unknown strategy '{}' (ordinary, phase, dynamic)", strategy));
}

json::Value LossSchedule::to_json() const {
  json::Value v;
  v.set("strategy", strategy);
  if (strategy == "ordinary") {
    v.set("alpha", fixed.alpha);
    v.set("beta", fixed.beta);
  } else if (strategy == "phase") {
    json::Array a;
    for (auto& p : phases) {
      json::Value e;
      e.set("until", p.until >= 1e300 ? json::Value("*") : json::Value(p.until));
      e.set("alpha", p.w.alpha);
      e.set("beta", p.w.beta);
      a.push_back(e);
    }
    v.set("phases", json::Value(a));
  } else {
    v.set("A", A);
    v.set("B", B);
    v.set("k", k);
    v.set("x0", 0.5 * epochs);
  }
  return v;
}

double LrSchedule::at(int64_t it) const {
  const int64_t per_epoch = std::max<int64_t>(iters_per_epoch, 1);
  double lr = base;
  int64_t since = it; // iterations since the phase began
  if (!phases.empty()) {
    const double epoch = double(it / per_epoch);
    double start = 0; // the phase's first epoch
    size_t i = 0;
    while (i + 1 < phases.size() && epoch >= phases[i].until) start = phases[i++].until;
    lr = phases[i].lr;
    since = it - int64_t(start) * per_epoch;
  }
  const double total = double(std::max<int64_t>(total_iters, 1));
  if (kind == "step") {
    lr *= std::pow(gamma, double((since / per_epoch) / std::max<int64_t>(step_epochs, 1)));
  } else if (kind == "poly") {
    lr *= std::pow(std::max(0.0, 1.0 - double(std::max<int64_t>(it - 1, 0)) / total), power);
  } else if (kind == "cosine") {
    lr = min_lr + 0.5 * (lr - min_lr) * (1 + std::cos(M_PI * std::min(double(it), total) / total));
  } else if (kind != "constant") {
    throw UsageError(fmt::format("--schedule: unknown schedule '{}' (step, poly, cosine, constant)", kind));
  }
  if (warmup > 0 && it < warmup) lr *= double(it + 1) / double(warmup);
  return lr;
}

LossSchedule LossSchedule::from_json(const json::Value& l, int epochs) {
  LossSchedule t;
  t.strategy = l.at("strategy").as_string("loss.strategy");
  if (t.strategy == "ordinary") t.fixed = {l.at("alpha").as_number(), l.at("beta").as_number()};
  if (t.strategy == "dynamic") {
    t.A = l.at("A").as_number("loss.A");
    t.B = l.at("B").as_number("loss.B");
    t.k = l.at("k").as_number("loss.k");
  }
  if (t.strategy == "phase") {
    t.phases.clear();
    for (auto& p : l.at("phases").as_array("loss.phases"))
      t.phases.push_back({p.at("until").is_string() ? 1e300 : p.at("until").as_number(),
                          {p.at("alpha").as_number(), p.at("beta").as_number()}});
  }
  t.epochs = epochs;
  return t;
}

LrSchedule LrSchedule::from_json(const json::Value& r) {
  LrSchedule t;
  t.kind = r.at("kind").as_string("lr.kind");
  t.base = r.at("base").as_number("lr.base");
  if (auto v = r.find("step_epochs")) t.step_epochs = v->as_int();
  if (auto v = r.find("gamma")) t.gamma = v->as_number();
  if (auto v = r.find("power")) t.power = v->as_number();
  if (auto v = r.find("min_lr")) t.min_lr = v->as_number();
  t.warmup = r.at("warmup").as_int("lr.warmup");
  if (auto v = r.find("phases"))
    for (auto& p : v->as_array("lr.phases"))
      t.phases.push_back({p.at("until").is_string() ? 1e300 : p.at("until").as_number("lr.phases[].until"),
                          p.at("lr").as_number("lr.phases[].lr")});
  return t;
}

json::Value LrSchedule::to_json() const {
  json::Value v;
  v.set("kind", kind);
  v.set("base", base);
  if (kind == "step") {
    v.set("step_epochs", step_epochs);
    v.set("gamma", gamma);
  }
  if (kind == "poly") v.set("power", power);
  if (kind == "cosine") v.set("min_lr", min_lr);
  v.set("warmup", warmup);
  if (!phases.empty()) { // absent otherwise: config.json stays as it was without phases
    json::Array a;
    for (auto& p : phases) {
      json::Value e;
      e.set("until", p.until >= 1e300 ? json::Value("*") : json::Value(p.until));
      e.set("lr", p.lr);
      a.push_back(e);
    }
    v.set("phases", json::Value(a));
  }
  v.set("iters_per_epoch", iters_per_epoch);
  v.set("total_iters", total_iters);
  return v;
}

} // namespace dlk
