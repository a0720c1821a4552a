// The training presets against what they follow: the paper's eq. 11-13 and section 4.3
// (synapse-paper, acdc-paper) and the official scripts (*-official,
// ../shared/spec/protocol-and-anchors.md 1.8), at the epochs where the schedules change. The
// expected values are the equations' (and the sentences'), computed here, not the library's.
#include "dlk/cli/option_values.h"
#include "dlk/core/share_dir.h"
#include "dlk/train/loss_schedule.h"
#include "dlk/train/lr_schedule.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <string>

using namespace dlk;

namespace {

// KEY = VALUE lines and '#' comments, as dlk-train's --config reads a preset.
std::map<std::string, std::string> read_preset(const std::string& name) {
  std::ifstream in(find_share_file(name, "presets", ".ini", "--config"));
  REQUIRE(in);
  std::map<std::string, std::string> kv;
  auto trim = [](std::string s) {
    s.erase(0, s.find_first_not_of(" \t"));
    s.erase(s.find_last_not_of(" \t\r") + 1);
    return s;
  };
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const size_t eq = line.find('=');
    REQUIRE(eq != std::string::npos);
    kv[trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
  }
  return kv;
}

// The schedules dlk-train builds from those keys (its defaults where a preset sets none).
LossSchedule loss_of(std::map<std::string, std::string> p) {
  LossSchedule s;
  s.strategy = p["loss"];
  s.epochs = std::stoi(p.at("epochs"));
  if (p.count("alpha")) s.fixed = {std::stod(p["alpha"]), std::stod(p["beta"])};
  s.phases = cli::loss_phases_option(p.count("loss-phases") ? p["loss-phases"] : "200:0.6:0.4,*:0.7:0.3");
  if (p.count("dynamic-a")) s.A = std::stod(p["dynamic-a"]);
  if (p.count("dynamic-b")) s.B = std::stod(p["dynamic-b"]);
  if (p.count("dynamic-k")) s.k = std::stod(p["dynamic-k"]);
  return s;
}

LrSchedule lr_of(std::map<std::string, std::string> p, int64_t iters_per_epoch) {
  LrSchedule s;
  s.kind = p.at("schedule");
  s.base = std::stod(p.at("lr"));
  s.step_epochs = std::stoi(p.at("step-epochs"));
  s.gamma = std::stod(p.at("gamma"));
  s.phases = cli::lr_phases_option(p.count("lr-phases") ? p["lr-phases"] : "");
  s.iters_per_epoch = iters_per_epoch;
  s.total_iters = iters_per_epoch * std::stoi(p.at("epochs"));
  return s;
}

} // namespace

TEST_CASE("synapse-paper: the phase loss of eq. 11 and the learning rate by phase", "[presets]") {
  auto p = read_preset("synapse-paper");
  CHECK(p["optimizer"] == "adam");
  CHECK(std::stod(p["weight-decay"]) == 1e-5);
  CHECK(p["size"] == "224");
  CHECK(p["augment"] == "paper"); // random flip, random quarter turn
  const LossSchedule loss = loss_of(p);
  CHECK(loss.epochs == 400); // eq. 11's second phase ends at epoch 400
  // Eq. 11: (0.6, 0.4) in epochs 1-200, (0.7, 0.3) in 201-400; dlk's epoch e is the paper's e + 1.
  for (int e : {0, 199}) {
    CHECK(loss.at(e).alpha == 0.6);
    CHECK(loss.at(e).beta == 0.4);
  }
  for (int e : {200, 399}) {
    CHECK(loss.at(e).alpha == 0.7);
    CHECK(loss.at(e).beta == 0.3);
  }
  // 1e-3 at first, x0.9 every 20 epochs; "after 200 epochs ... adjusted to 1e-5", decaying alike.
  const int64_t n = 5; // iterations per epoch
  const LrSchedule lr = lr_of(p, n);
  auto at_epoch = [&](int64_t e) { return lr.at(e * n + n - 1); }; // the last iteration of epoch e
  CHECK(lr.at(0) == Approx(1e-3));
  CHECK(at_epoch(19) == Approx(1e-3));
  CHECK(at_epoch(20) == Approx(0.9e-3));
  CHECK(at_epoch(199) == Approx(1e-3 * std::pow(0.9, 9)));
  CHECK(lr.at(200 * n) == Approx(1e-5));
  CHECK(at_epoch(219) == Approx(1e-5));
  CHECK(at_epoch(220) == Approx(0.9e-5));
  CHECK(at_epoch(399) == Approx(1e-5 * std::pow(0.9, 9)));
}

TEST_CASE("acdc-paper: the dynamic loss of eq. 12-13", "[presets]") {
  auto p = read_preset("acdc-paper");
  const LossSchedule loss = loss_of(p);
  REQUIRE(loss.strategy == "dynamic");
  // alpha = A + (1-A)(1-s), beta = 1 + (B-1)(1-s), s = 1/(1 + exp(-k (x - x0))), x0 = epochs/2,
  // A = 0.3, B = 0.7 (eq. 12-13); k is the preset's (the paper gives none).
  const double A = 0.3, B = 0.7, k = std::stod(p.at("dynamic-k")), x0 = 0.5 * std::stoi(p.at("epochs"));
  CHECK(x0 == 200);
  for (int x : {0, 1, 199, 200, 201, 399}) {
    const double s = 1 / (1 + std::exp(-k * (x - x0)));
    CHECK(loss.at(x).alpha == Approx(A + (1 - A) * (1 - s)).epsilon(1e-12));
    CHECK(loss.at(x).beta == Approx(1 + (B - 1) * (1 - s)).epsilon(1e-12));
  }
  // The ends the equations intend: (1, B) at the start, (A, 1) at the end; the middle at x0.
  CHECK(loss.at(0).alpha == Approx(1).margin(1e-4));
  CHECK(loss.at(0).beta == Approx(B).margin(1e-4));
  CHECK(loss.at(399).alpha == Approx(A).margin(1e-4));
  CHECK(loss.at(399).beta == Approx(1).margin(1e-4));
  CHECK(loss.at(200).alpha == Approx(0.65));
  CHECK(loss.at(200).beta == Approx(0.85));
  // No learning-rate phases (the paper ties them to the phase strategy): 1e-3, x0.9 every 20.
  const LrSchedule lr = lr_of(p, 1);
  CHECK(lr.phases.empty());
  CHECK(lr.at(200) == Approx(1e-3 * std::pow(0.9, 10)));
}

TEST_CASE("official presets: Train_Synapse.py and Train_ACDC.py", "[presets]") {
  auto syn = read_preset("synapse-official");
  const LossSchedule ls = loss_of(syn);
  CHECK(ls.strategy == "ordinary");
  CHECK(ls.at(0).alpha == 1); // CeDiceLoss(loss_weight=[1, 1])
  CHECK(ls.at(299).beta == 1);
  const LrSchedule lr = lr_of(syn, 1);
  CHECK(lr.at(0) == Approx(1e-5)); // Adam's default lr in Train_Synapse.py
  CHECK(lr.at(20) == Approx(0.9e-5)); // StepLR(20, 0.9)
  CHECK(syn["epochs"] == "300");
  CHECK(syn["batch"] == "12");
  CHECK(syn["seed"] == "42");
  auto acdc = read_preset("acdc-official");
  const LossSchedule la = loss_of(acdc);
  CHECK(la.at(0).alpha == 0.6); // Dice 0.6 + CE 0.4
  CHECK(la.at(299).beta == 0.4);
}

TEST_CASE("nnunet-2d: nnU-Net v2's optimiser, schedule, loss and sampling", "[presets]") {
  // The numbers of nnUNetTrainer (../shared/spec/deployment-and-recipes.md): SGD momentum 0.99
  // Nesterov, lr 1e-2, PolyLR exponent 0.9, weight decay 3e-5, Dice + CE 1:1, deep supervision,
  // oversample_foreground_percent 0.33.
  auto p = read_preset("nnunet-2d");
  CHECK(p["optimizer"] == "sgd");
  CHECK(std::stod(p["momentum"]) == 0.99);
  CHECK(p["nesterov"] == "true");
  CHECK(std::stod(p["weight-decay"]) == 3e-5);
  CHECK(std::stod(p["oversample-foreground"]) == 0.33);
  CHECK(p["deep-supervision"] == "true");
  CHECK_FALSE(p.count("supervised-levels")); // every decoder level
  CHECK(p["augment"] == "nnunet");
  CHECK(std::stod(p["alpha"]) == std::stod(p["beta"])); // 1:1
  CHECK_FALSE(p.count("epochs")); // the dataset's choice, as --size and --batch
  CHECK_FALSE(p.count("size"));
  // Poly with exponent 0.9, per iteration in TransUNet's form lr0 (1 - (t - 1)/T)^0.9 (nnU-Net
  // steps it per epoch), by hand at a quarter and half of 100 iterations.
  LrSchedule s;
  s.kind = p.at("schedule");
  s.base = std::stod(p.at("lr"));
  s.power = std::stod(p.at("power"));
  s.iters_per_epoch = 10;
  s.total_iters = 100;
  CHECK(s.at(0) == Approx(0.01));
  CHECK(s.at(25) == Approx(0.01 * std::pow(0.76, 0.9)));
  CHECK(s.at(50) == Approx(0.01 * std::pow(0.51, 0.9)));
}
