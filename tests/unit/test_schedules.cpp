// Loss weights and learning rates, against the formulas worked by hand.
#include "dlk/cli/option_values.h"
#include "dlk/core/error.h"
#include "dlk/train/loss_schedule.h"
#include "dlk/train/lr_schedule.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace dlk;

TEST_CASE("loss schedule: ordinary and phase", "[schedule]") {
  LossSchedule s;
  s.fixed = {0.4, 0.6};
  CHECK(s.at(0).alpha == 0.4);
  CHECK(s.at(299).beta == 0.6);
  s.strategy = "phase"; // default: (0.6, 0.4) while epoch < 200, then (0.7, 0.3)
  CHECK(s.at(0).alpha == 0.6);
  CHECK(s.at(199).beta == 0.4);
  CHECK(s.at(200).alpha == 0.7);
  CHECK(s.at(1000).beta == 0.3);
  s.phases = cli::loss_phases_option("10:0.1:0.9,20:0.2:0.8,*:0.3:0.7");
  CHECK(s.at(9).alpha == 0.1);
  CHECK(s.at(10).alpha == 0.2);
  CHECK(s.at(25).beta == 0.7);
  CHECK_THROWS_AS(cli::loss_phases_option("10:0.1"), UsageError);
  CHECK_THROWS_AS(cli::loss_phases_option("20:0.1:0.9,10:0.2:0.8"), UsageError);
}

TEST_CASE("loss schedule: dynamic, paper eq. 12-13", "[schedule]") {
  LossSchedule s;
  s.strategy = "dynamic";
  s.epochs = 300; // x0 = 150
  s.A = 0.3;
  s.B = 0.7;
  s.k = 0.05;
  // At x = x0 the sigmoid is 1/2: alpha = 0.3 + 0.7 * 0.5 = 0.65, beta = 1 - 0.3 * 0.5 = 0.85.
  CHECK(s.at(150).alpha == Approx(0.65));
  CHECK(s.at(150).beta == Approx(0.85));
  // At x = 0: sigmoid(-7.5) = 1 / (1 + e^7.5) = 0.000552779...
  const double sig0 = 1 / (1 + std::exp(7.5));
  CHECK(s.at(0).alpha == Approx(0.3 + 0.7 * (1 - sig0)));
  CHECK(s.at(0).alpha == Approx(0.99961).epsilon(1e-5));
  CHECK(s.at(0).beta == Approx(1 - 0.3 * (1 - sig0)));
  // At x = 250: sigmoid(5) = 0.9933071...; alpha = 0.3 + 0.7 * 0.0066929 = 0.304685.
  CHECK(s.at(250).alpha == Approx(0.304685).epsilon(1e-5));
  CHECK(s.at(250).beta == Approx(0.997992).epsilon(1e-5));
}

TEST_CASE("lr schedule: step, poly, cosine, constant, warm-up", "[schedule]") {
  LrSchedule s;
  s.base = 1e-3;
  s.iters_per_epoch = 10;
  s.total_iters = 1000;
  CHECK(s.at(0) == 1e-3);
  CHECK(s.at(999) == 1e-3);
  s.kind = "step"; // x 0.9 every 20 epochs = 200 iterations
  s.step_epochs = 20;
  s.gamma = 0.9;
  CHECK(s.at(199) == Approx(1e-3));
  CHECK(s.at(200) == Approx(0.9e-3));
  CHECK(s.at(450) == Approx(0.81e-3));
  s.kind = "poly"; // TransUNet: steps 0 and 1 use base, then base * (1 - (it - 1) / total)^0.9
  s.base = 0.01;
  CHECK(s.at(0) == 0.01);
  CHECK(s.at(1) == 0.01);
  CHECK(s.at(2) == Approx(0.01 * std::pow(1 - 1.0 / 1000, 0.9)));
  CHECK(s.at(501) == Approx(0.01 * std::pow(0.5, 0.9))); // 0.005359...
  CHECK(s.at(501) == Approx(0.0053589).epsilon(1e-4));
  s.kind = "cosine";
  s.min_lr = 0;
  CHECK(s.at(0) == Approx(0.01));
  CHECK(s.at(500) == Approx(0.005));
  CHECK(s.at(1000) == Approx(0).margin(1e-12));
  s.kind = "constant";
  s.warmup = 4; // linear: 1/4, 2/4, 3/4, 4/4 of the base
  CHECK(s.at(0) == Approx(0.0025));
  CHECK(s.at(2) == Approx(0.0075));
  CHECK(s.at(4) == Approx(0.01));
  s.kind = "triangle";
  CHECK_THROWS_AS(s.at(0), UsageError);
}

TEST_CASE("schedules: what to_json writes, from_json reads back (a resumed run's config)", "[schedule]") {
  LossSchedule ordinary;
  ordinary.fixed = {0.3, 0.7};
  LossSchedule phase;
  phase.strategy = "phase";
  phase.phases = cli::loss_phases_option("10:0.2:0.8,*:0.9:0.1");
  LossSchedule dynamic;
  dynamic.strategy = "dynamic";
  dynamic.A = 0.25, dynamic.B = 0.6, dynamic.k = 0.2, dynamic.epochs = 40;
  for (const LossSchedule& s : {ordinary, phase, dynamic}) {
    const LossSchedule r = LossSchedule::from_json(s.to_json(), s.epochs);
    INFO(s.strategy);
    for (int e : {0, 9, 10, 20, 39}) {
      CHECK(r.at(e).alpha == s.at(e).alpha);
      CHECK(r.at(e).beta == s.at(e).beta);
    }
  }
  for (const char* kind : {"step", "poly", "cosine", "constant"}) {
    LrSchedule s;
    s.kind = kind;
    s.base = 0.01, s.step_epochs = 3, s.gamma = 0.5, s.power = 0.8, s.min_lr = 1e-4, s.warmup = 5;
    s.iters_per_epoch = 7, s.total_iters = 70;
    LrSchedule r = LrSchedule::from_json(s.to_json());
    r.iters_per_epoch = s.iters_per_epoch, r.total_iters = s.total_iters; // the run's own
    INFO(kind);
    for (int64_t it : {0, 4, 5, 20, 69}) CHECK(r.at(it) == s.at(it));
  }
}

TEST_CASE("learning rate: phases of epochs with rates of their own", "[schedule]") {
  LrSchedule s;
  s.kind = "step";
  s.base = 1.0; // unused once there are phases
  s.step_epochs = 2;
  s.gamma = 0.5;
  s.iters_per_epoch = 10;
  s.phases = cli::lr_phases_option("4:0.1,*:0.01");
  // Phase 1 (epochs 0-3): 0.1, halved every 2 epochs; phase 2 (from epoch 4): 0.01, its steps
  // counted from epoch 4.
  CHECK(s.at(0) == Approx(0.1));
  CHECK(s.at(19) == Approx(0.1));
  CHECK(s.at(20) == Approx(0.05));
  CHECK(s.at(39) == Approx(0.05));
  CHECK(s.at(40) == Approx(0.01));
  CHECK(s.at(59) == Approx(0.01));
  CHECK(s.at(60) == Approx(0.005));
  CHECK(s.at(1000) == Approx(0.01 * std::pow(0.5, 48)));
  s.kind = "constant";
  CHECK(s.at(39) == Approx(0.1));
  CHECK(s.at(40) == Approx(0.01));
  // A last phase with an epoch ends nowhere: its rate holds after it too.
  s.phases = cli::lr_phases_option("2:0.3,5:0.2");
  CHECK(s.at(49) == Approx(0.2));
  CHECK(s.at(70) == Approx(0.2));
  CHECK(cli::lr_phases_option("").empty());
  for (const char* bad : {"4", "4:", "x:0.1", "4:0.1x", "4:-1", "4:0", "0:0.1", "4:0.1,2:0.2", "4:0.1,4:0.2", ","})
    CHECK_THROWS_AS(cli::lr_phases_option(bad), UsageError);
}
