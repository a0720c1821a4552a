// Weights of the combined loss, alpha * Dice + beta * CE, as a function of the epoch: the paper's
// three strategies (section 4.4). Pure functions of the epoch, so a resumed run needs no state.
#pragma once
#include "dlk/core/json.h"

#include <string>
#include <vector>

namespace dlk {

struct LossWeights {
  double alpha = 0.5, beta = 0.5; // Dice, cross-entropy
};

struct LossSchedule {
  std::string strategy = "ordinary"; // ordinary | phase | dynamic
  LossWeights fixed;                 // ordinary
  struct Phase {
    double until = 0; // applies while epoch < until (the last phase: forever)
    LossWeights w;
  };
  std::vector<Phase> phases{{200, {0.6, 0.4}}, {1e300, {0.7, 0.3}}}; // phase
  double A = 0.3, B = 0.7, k = 0.05;                                 // dynamic (eq. 12-13)
  int epochs = 1;                                                    // dynamic: x0 = epochs / 2

  // alpha = A + (1 - A)(1 - s), beta = 1 + (B - 1)(1 - s), s = sigmoid(k (x - x0)).
  LossWeights at(int epoch) const;
  json::Value to_json() const;
  // What to_json wrote (a run's config.json), for a run of `epochs` epochs.
  static LossSchedule from_json(const json::Value& v, int epochs);
};

} // namespace dlk
