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

std::vector<LossSchedule::Phase> LossSchedule::parse_phases(const std::string& text) {
  std::vector<Phase> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    Phase p;
    char c1 = 0, c2 = 0;
    std::string until = item.substr(0, item.find(':'));
    std::stringstream rest(item.substr(item.find(':') == std::string::npos ? item.size() : item.find(':')));
    if (!(rest >> c1 >> p.w.alpha >> c2 >> p.w.beta) || c1 != ':' || c2 != ':' || !rest.eof())
      throw UsageError(fmt::format("--loss-phases: '{}' is not UNTIL:ALPHA:BETA", item));
    try {
      p.until = until == "*" ? 1e300 : std::stod(until);
    } catch (const std::exception&) {
      throw UsageError(fmt::format("--loss-phases: '{}' is not an epoch or '*'", until));
    }
    if (!out.empty() && p.until <= out.back().until) throw UsageError("--loss-phases: epochs must increase");
    out.push_back(p);
  }
  if (out.empty()) throw UsageError("--loss-phases: no phase");
  return out;
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
  double lr = base;
  const double total = double(std::max<int64_t>(total_iters, 1));
  if (kind == "step") {
    lr = base * std::pow(gamma, double((it / std::max<int64_t>(iters_per_epoch, 1)) / std::max<int64_t>(step_epochs, 1)));
  } else if (kind == "poly") {
    lr = base * std::pow(std::max(0.0, 1.0 - double(std::max<int64_t>(it - 1, 0)) / total), power);
  } else if (kind == "cosine") {
    lr = min_lr + 0.5 * (base - min_lr) * (1 + std::cos(M_PI * std::min(double(it), total) / total));
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
  v.set("iters_per_epoch", iters_per_epoch);
  v.set("total_iters", total_iters);
  return v;
}

} // namespace dlk
