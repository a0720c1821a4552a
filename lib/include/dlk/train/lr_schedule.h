// Learning rate per iteration: step, poly (TransUNet's), cosine or constant, with an optional
// linear warm-up and optional phases of epochs with base rates of their own (the DLKUNet paper:
// 1e-3, then 1e-5 after epoch 200). A pure function of the iteration, so a resumed run needs no
// scheduler state.
#pragma once
#include "dlk/core/json.h"

#include <cstdint>
#include <string>
#include <vector>

namespace dlk {

struct LrSchedule {
  std::string kind = "constant"; // step | poly | cosine | constant
  double base = 1e-3;
  int64_t step_epochs = 20;  // step: multiply by gamma every step_epochs epochs
  double gamma = 0.9;
  double power = 0.9;        // poly
  double min_lr = 0;         // cosine floor
  int64_t warmup = 0;        // iterations of linear warm-up
  int64_t iters_per_epoch = 1, total_iters = 1;
  // Phases (step and constant schedules): while epoch < until the base rate is `lr`, and a step
  // schedule counts its steps from the phase's first epoch. Empty: one phase at `base`.
  struct Phase {
    double until = 0; // the last phase: forever (1e300)
    double lr = 0;
  };
  std::vector<Phase> phases;

  // Learning rate for 0-based iteration `it` (epoch = it / iters_per_epoch). Poly reproduces
  // TransUNet exactly: base * (1 - max(it - 1, 0) / total)^0.9 (its first two steps use base).
  double at(int64_t it) const;
  json::Value to_json() const;
  // What to_json wrote (a run's config.json); iters_per_epoch and total_iters are the run's own.
  static LrSchedule from_json(const json::Value& v);
};

} // namespace dlk
