// Needs LibTorch: the Dice loss by hand, augmentation geometry, the slice loader, the pieces of
// semi-supervised training.
#include "dlk/core/error.h"
#include "dlk/core/whole_file.h"
#include "dlk/model/checkpoint.h"
#include "dlk/model/torch_compat.h"
#include "dlk/train/augment.h"
#include "dlk/train/deep_supervision.h"
#include "dlk/train/nnunet_augmentation.h"
#include "dlk/train/grad_scaler.h"
#include "dlk/train/loss.h"
#include "dlk/train/semi_supervised.h"
#include "dlk/train/slice_loader.h"
#include "dlk/train/train_log.h"
#include "dlk/train/train_options.h"
#include "dlk/train/trainer.h"
#include "test_util.h"
#include "trainer_parts.h"

#include <catch2/catch.hpp>

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <sstream>

using namespace dlk;

TEST_CASE("dice loss: a hand-computed example", "[train]") {
  // One image of 2 pixels, 2 classes. Logits chosen so that softmax gives p = (0.8, 0.2) at
  // pixel 0 and (0.3, 0.7) at pixel 1; the labels are 0 and 1.
  const double l0 = std::log(0.8 / 0.2), l1 = std::log(0.3 / 0.7);
  auto logits = torch::tensor({l0, l1}, torch::kFloat64).view({1, 1, 1, 2});
  logits = torch::cat({logits, torch::zeros_like(logits)}, 1).to(torch::kFloat32); // class 1 logit 0
  auto target = torch::tensor({0, 1}, torch::kInt64).view({1, 1, 2});
  // class 0: sum p t = 0.8, sum p^2 = 0.64 + 0.09 = 0.73, sum t^2 = 1 -> 1 - (1.6 + e) / (1.73 + e)
  // class 1: sum p t = 0.7, sum p^2 = 0.04 + 0.49 = 0.53, sum t^2 = 1 -> 1 - (1.4 + e) / (1.53 + e)
  const double e = 1e-5;
  const double expect = 0.5 * ((1 - (1.6 + e) / (1.73 + e)) + (1 - (1.4 + e) / (1.53 + e)));
  CHECK(dice_loss(logits, target).item<double>() == Approx(expect).epsilon(1e-6));
  // And the combination: CE = -(log 0.8 + log 0.7) / 2.
  auto parts = combined_loss(logits, target, 0.6, 0.4);
  const double ce = -(std::log(0.8) + std::log(0.7)) / 2;
  CHECK(parts.ce.item<double>() == Approx(ce).epsilon(1e-6));
  CHECK(parts.total.item<double>() == Approx(0.6 * expect + 0.4 * ce).epsilon(1e-6));
  // A perfect prediction has a Dice loss near 0.
  auto perfect = torch::tensor({50.0f, -50.0f, -50.0f, 50.0f}).view({1, 2, 1, 2});
  CHECK(dice_loss(perfect, target).item<double>() == Approx(0).margin(1e-5));
}

TEST_CASE("augmentation keeps image and label aligned", "[train]") {
  // Channel 0 of the image equals the label everywhere; every augmentation must keep that.
  auto label = torch::randint(0, 4, {12, 12}, torch::kInt64);
  auto image = torch::stack({label.to(torch::kFloat32), torch::randn({12, 12})});
  for (const char* mode : {"paper", "transunet", "none"})
    for (uint64_t seed = 0; seed < 64; ++seed) {
      std::mt19937_64 rng(seed);
      auto r = augment_slice(image, label, mode, rng, 12, 12);
      INFO(mode << " seed " << seed);
      REQUIRE(torch::equal(r.first[0].round().to(torch::kInt64), r.second));
    }
}

TEST_CASE("rotation by 90 degrees equals rot90; resizing uses nearest for labels", "[train]") {
  auto x = torch::arange(49, torch::kFloat32).view({1, 7, 7});
  // Positive degrees turn the image clockwise as displayed (rows down): the row 0 of the result
  // is the input's column 0 read bottom to top. (scipy.ndimage.rotate, TransUNet's, turns the other
  // way; the angles are drawn symmetric about 0, so the augmentation is the same distribution.)
  auto small = torch::arange(9, torch::kFloat32).view({1, 3, 3});
  CHECK(torch::equal(rotate_nearest(small, 90), torch::tensor({6.f, 3.f, 0.f, 7.f, 4.f, 1.f, 8.f, 5.f, 2.f}).view({1, 3, 3})));
  CHECK(torch::equal(rotate_nearest(x, 90), torch::rot90(x, -1, {1, 2})));
  CHECK(torch::equal(rotate_nearest(x, -90), torch::rot90(x, 1, {1, 2})));
  CHECK(torch::equal(rotate_nearest(x, 0), x));
  auto lab = torch::tensor({0, 1, 2, 3}, torch::kInt64).view({2, 2});
  auto rs = resize_slice(torch::zeros({1, 2, 2}), lab, 4, 4);
  CHECK(rs.first.sizes() == torch::IntArrayRef({1, 4, 4}));
  CHECK(torch::equal(rs.second, torch::tensor({0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3}, torch::kInt64).view({4, 4})));
}

TEST_CASE("slice loader delivers every slice of an epoch, in order, in batches", "[train]") {
  test::TempDir dir;
  Geometry g;
  g.size = {5, 4, 7};
  auto c = test::make_case("c", 1, g, 2, true, ImageDType::Float32, true, 3);
  auto shard = std::make_shared<ShardFile>(test::write_case_file(c, dir / "c.dlks"));
  SliceLoader loader({shard, shard}, 2, false);
  std::vector<SliceRef> order;
  for (int s = 0; s < 2; ++s)
    for (int64_t i = 6; i >= 0; --i) order.push_back({s, i});
  for (int64_t first : {0, 2}) {
    loader.start(order, 3, first);
    std::vector<LoadedSlice> b;
    size_t k = size_t(first) * 3, batches = 0;
    while (loader.next(b)) {
      ++batches;
      for (auto& s : b) {
        const int64_t i = order[k++].slice;
        REQUIRE(std::memcmp(s.image.data_ptr<float>(), c.images[size_t(i)].data(), 4 * c.images[size_t(i)].size()) == 0);
        REQUIRE(s.label.max().item<int64_t>() <= 2);
      }
    }
    CHECK(k == order.size());
    CHECK(batches == size_t(5 - first)); // 14 slices in batches of 3
  }
}

TEST_CASE("slice loader: destroyed mid-epoch with busy workers, or after an error, it shuts down", "[train]") {
  // More threads than cores (the GPU machines have 16), batches still queued, in flight and
  // unclaimed when the loader goes: its destructor must release and join every worker.
  test::TempDir dir;
  Geometry g;
  g.size = {16, 16, 9};
  auto c = test::make_case("c", 1, g, 2, true, ImageDType::Float32, true, 4);
  auto shard = std::make_shared<ShardFile>(test::write_case_file(c, dir / "c.dlks"));
  std::vector<SliceRef> order;
  for (int rep = 0; rep < 8; ++rep)
    for (int64_t i = 0; i < 9; ++i) order.push_back({0, i});
  for (int round = 0; round < 50; ++round) {
    SliceLoader loader({shard}, 16, false, 8);
    loader.start(order, 2, 0);
    std::vector<LoadedSlice> b;
    for (int k = 0; k < round % 4; ++k) REQUIRE(loader.next(b));
    if (round % 5 == 0) loader.start(order, 3, 1); // a restarted epoch leaves stale work behind
  }
  // A slice that cannot be read: next() reports it, and the loader still shuts down.
  SliceLoader bad({shard}, 4, false);
  bad.start({{0, 0}, {0, 99}}, 1, 0);
  std::vector<LoadedSlice> b;
  CHECK_THROWS(bad.next(b) && bad.next(b));
}

TEST_CASE("grad scaler: skips non-finite steps, halves, unscales, grows", "[train]") {
  auto w = torch::ones({2}, torch::requires_grad());
  torch::optim::SGD opt({w}, torch::optim::SGDOptions(1.0));
  GradScaler scaler(true, 8.0, 2);
  // A finite step: gradient of scale * sum(3w) is 24 per element; unscaled to 3; w -> 1 - 3.
  scaler.scale((3 * w).sum()).backward();
  CHECK(scaler.step(opt));
  CHECK(torch::allclose(w.detach(), torch::full({2}, -2.0f)));
  // An infinite gradient: no step, the scale halves.
  opt.zero_grad();
  (w * std::numeric_limits<float>::infinity()).sum().backward();
  CHECK_FALSE(scaler.step(opt));
  CHECK(scaler.value() == 4.0);
  CHECK(torch::allclose(w.detach(), torch::full({2}, -2.0f)));
  // Two good steps in a row double it.
  for (int i = 0; i < 2; ++i) {
    opt.zero_grad();
    scaler.scale(w.sum()).backward();
    CHECK(scaler.step(opt));
  }
  CHECK(scaler.value() == 8.0);
  CHECK(torch::allclose(w.detach(), torch::full({2}, -4.0f)));
  GradScaler off(false);
  CHECK(off.scale(torch::ones({})).item<float>() == 1.0f);
}

namespace {
std::vector<json::Value> read_log(const std::string& path) {
  std::vector<json::Value> out;
  std::stringstream ss(read_text_file(path));
  for (std::string line; std::getline(ss, line);) out.push_back(json::Value::parse(line));
  return out;
}

TrainOptions tiny_run(const std::string& dataset, const std::string& run_dir) {
  TrainOptions o;
  o.dataset = dataset;
  o.run_dir = run_dir;
  o.model.base_channels = 8;
  o.model.in_channels = 1;
  o.model.classes = 3;
  o.height = o.width = 32;
  o.epochs = 3;
  o.batch = 2; // 6 slices: 3 steps per epoch
  o.augment = "none";
  o.deterministic = true;
  o.threads = 2;
  return o;
}
} // namespace

TEST_CASE("resumed mid-epoch, log.jsonl covers the whole epoch, each epoch once", "[train]") {
  test::TempDir dir;
  test::write_one_case_dataset(dir.path, "resume-test");
  struct Restore { // --deterministic is process-wide
    ~Restore() { at::globalContext().setDeterministicAlgorithms(false, false); }
  } restore;
  auto quiet = [](const std::string&) {};
  REQUIRE(run_training(tiny_run(dir.path.string(), dir / "A"), quiet) == TrainOutcome::Finished);

  // Stopped after 4 steps (epoch 1, batch 1 of 3), as a signal stops it.
  TrainOptions b = tiny_run(dir.path.string(), dir / "B");
  b.max_steps = 4;
  REQUIRE(run_training(b, quiet) == TrainOutcome::Finished);
  REQUIRE(read_log(dir / "B/log.jsonl").size() == 1);
  // A kill after epoch 1's line, before its checkpoint: a line the resumed run writes again.
  {
    std::string text = read_text_file(dir / "B/log.jsonl");
    text += R"({"epoch":1,"iterations":6,"loss":99})" "\n" R"({"epoch":2,"loss)";
    write_file_atomic(dir / "B/log.jsonl", text);
  }
  b.resume = b.run_dir;
  b.max_steps = 0;
  std::vector<std::string> said;
  REQUIRE(run_training(b, [&](const std::string& l) { said.push_back(l); }) == TrainOutcome::Finished);
  CHECK(std::any_of(said.begin(), said.end(), [](const std::string& l) { return l.find("dropped 2 line(s)") != std::string::npos; }));

  const auto a = read_log(dir / "A/log.jsonl"), r = read_log(dir / "B/log.jsonl");
  REQUIRE(a.size() == 3);
  REQUIRE(r.size() == 3);
  for (size_t e = 0; e < 3; ++e) {
    INFO("epoch " << e);
    CHECK(r[e].at("epoch").as_int() == int64_t(e));
    CHECK(r[e].at("iterations").as_int() == a[e].at("iterations").as_int());
    for (const char* k : {"loss", "ce", "dice_loss", "lr"}) { // the same sums, in the same order: bit for bit
      INFO(k);
      CHECK(r[e].at(k).as_number() == a[e].at(k).as_number());
    }
  }
}

TEST_CASE("a stop request ends the run after its step: Stopped, latest.dlkc written", "[train]") {
  test::TempDir dir;
  test::write_one_case_dataset(dir.path, "stop-test");
  struct Restore { // --deterministic and the stop request are process-wide
    ~Restore() {
      at::globalContext().setDeterministicAlgorithms(false, false);
      stop_request() = 0;
    }
  } restore;
  auto quiet = [](const std::string&) {};
  TrainOptions o = tiny_run(dir.path.string(), dir / "S");
  stop_request() = 1; // as a signal sets it
  REQUIRE(run_training(o, quiet) == TrainOutcome::Stopped);
  CHECK(load_checkpoint(dir / "S/latest.dlkc").meta.at("state").at("iteration").as_int() == 1); // one step, then the stop
  CHECK_FALSE(std::filesystem::exists(dir / "S/final.dlkc"));
  stop_request() = 0;
  o.resume = o.run_dir;
  CHECK(run_training(o, quiet) == TrainOutcome::Finished);
  CHECK(std::filesystem::exists(dir / "S/final.dlkc"));
}

TEST_CASE("trim_train_log keeps one line per completed epoch", "[train]") {
  test::TempDir dir;
  const std::string log = dir / "log.jsonl";
  CHECK(trim_train_log(log, 3) == 0); // no file: nothing to do
  CHECK_FALSE(std::filesystem::exists(log));
  write_file_atomic(log, "{\"epoch\":0,\"loss\":1}\n{\"epoch\":1,\"loss\":2}\n");
  CHECK(trim_train_log(log, 2) == 0);
  CHECK(read_text_file(log) == "{\"epoch\":0,\"loss\":1}\n{\"epoch\":1,\"loss\":2}\n");
  // A repeated epoch (the last line wins), a later epoch, garbage and an unfinished line.
  write_file_atomic(log, "{\"epoch\":0,\"loss\":1}\n{\"epoch\":1,\"loss\":2}\n{\"epoch\":1,\"loss\":3}\n"
                         "not json\n{\"epoch\":2,\"loss\":4}\n{\"epoch\":3,\"lo");
  CHECK(trim_train_log(log, 2) == 4);
  CHECK(read_text_file(log) == "{\"epoch\":0,\"loss\":1}\n{\"epoch\":1,\"loss\":3}\n");
  CHECK(trim_train_log(log, 0) == 2);
  CHECK(read_text_file(log).empty());
}

TEST_CASE("config.json records absolute, normal paths", "[train]") {
  TrainOptions o;
  o.dataset = "data/./synapse/";
  o.run_dir = "runs/../runs/A";
  o.make_paths_absolute();
  const auto cwd = std::filesystem::current_path();
  CHECK(o.dataset == (cwd / "data/synapse").string());
  CHECK(o.run_dir == (cwd / "runs/A").string());
  o.make_paths_absolute(); // idempotent
  CHECK(o.dataset == (cwd / "data/synapse").string());
  const TrainOptions back = TrainOptions::from_json(o.to_json());
  CHECK(back.dataset == o.dataset);
}

TEST_CASE("training options: a bad value is a usage error naming its option", "[train]") {
  CHECK_NOTHROW(TrainOptions().validate()); // the defaults
  const double nan = std::nan("");
  const std::vector<std::pair<std::string, std::function<void(TrainOptions&)>>> bad = {
      {"--lr", [&](TrainOptions& o) { o.lr.base = nan; }},
      {"--lr", [](TrainOptions& o) { o.lr.base = -1; }},
      {"--lr", [](TrainOptions& o) { o.lr.base = INFINITY; }},
      {"--weight-decay", [](TrainOptions& o) { o.weight_decay = -1e-5; }},
      {"--momentum", [](TrainOptions& o) { o.momentum = 1; }},
      {"--momentum", [&](TrainOptions& o) { o.momentum = nan; }},
      {"--epochs", [](TrainOptions& o) { o.epochs = -1; }},
      {"--max-steps", [](TrainOptions& o) { o.max_steps = -1; }},
      {"--batch", [](TrainOptions& o) { o.batch = 0; }},
      {"--accumulate", [](TrainOptions& o) { o.accumulate = 0; }},
      {"--val-every", [](TrainOptions& o) { o.val_every = 0; }},
      {"--save-every", [](TrainOptions& o) { o.save_every = 0; }},
      {"--save-minutes", [&](TrainOptions& o) { o.save_minutes = nan; }},
      {"--train-split", [](TrainOptions& o) { o.train_split = "bogus"; }},
      {"--val-split", [](TrainOptions& o) { o.val_split = ""; }},
      {"--augment", [](TrainOptions& o) { o.augment = "mixup"; }},
      {"--precision", [](TrainOptions& o) { o.precision = "fp8"; }},
      {"--optimizer", [](TrainOptions& o) { o.optimizer = "lion"; }},
      {"--schedule", [](TrainOptions& o) { o.lr.kind = "linear"; }},
      {"--step-epochs", [](TrainOptions& o) { o.lr.step_epochs = 0; }},
      {"--gamma", [](TrainOptions& o) { o.lr.gamma = 0; }},
      {"--power", [&](TrainOptions& o) { o.lr.power = nan; }},
      {"--min-lr", [](TrainOptions& o) { o.lr.min_lr = -1; }},
      {"--warmup", [](TrainOptions& o) { o.lr.warmup = -1; }},
      {"--loss", [](TrainOptions& o) { o.loss.strategy = "focal"; }},
      {"--alpha", [](TrainOptions& o) { o.loss.fixed.alpha = -0.5; }},
      {"--beta", [&](TrainOptions& o) { o.loss.fixed.beta = nan; }},
      {"--loss-phases", [](TrainOptions& o) { o.loss.phases[0].w.alpha = -1; }},
      {"--dynamic-a", [](TrainOptions& o) { o.loss.A = 1.5; }},
      {"--dynamic-b", [](TrainOptions& o) { o.loss.B = -0.1; }},
      {"--dynamic-k", [](TrainOptions& o) { o.loss.k = 0; }},
      {"--oversample-foreground", [](TrainOptions& o) { o.oversample_foreground = 1; }},
      {"--oversample-foreground", [](TrainOptions& o) { o.oversample_foreground = -0.1; }},
      {"--nesterov", [](TrainOptions& o) { o.nesterov = true; }}, // with Adam
      {"--nesterov", [](TrainOptions& o) { o.nesterov = true; o.optimizer = "sgd"; o.momentum = 0; }},
  };
  for (auto& [option, spoil] : bad) {
    TrainOptions o;
    spoil(o);
    INFO(option);
    try {
      o.validate();
      FAIL("accepted");
    } catch (const UsageError& e) {
      CHECK(std::string(e.what()).rfind(option + ": ", 0) == 0);
    }
  }
  TrainOptions edge; // the bounds themselves
  edge.weight_decay = 0;
  edge.momentum = 0;
  edge.epochs = 0;
  edge.save_minutes = 0;
  edge.train_split = "all";
  edge.loss.A = 1;
  CHECK_NOTHROW(edge.validate());
}

TEST_CASE("resampling to a spacing: block means by hand, nearest labels, rounded sizes", "[train]") {
  // 4 x 6 at 1 mm to 2 mm: with align_corners false, output pixel i samples the input at 2i + 0.5,
  // the mean of input pixels 2i and 2i + 1, so each output pixel is its 2x2 block's mean.
  auto image = torch::empty({1, 4, 6});
  auto label = torch::empty({4, 6}, torch::kInt64);
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 6; ++c) {
      image[0][r][c] = 10.0 * r + c;
      label[r][c] = 6 * r + c;
    }
  auto [img, lab] = resample_slice(image, label, {{1.0, 1.0}}, {2.0, 2.0});
  REQUIRE(img.sizes() == torch::IntArrayRef({1, 2, 3}));
  for (int r = 0; r < 2; ++r)
    for (int c = 0; c < 3; ++c) {
      CHECK(img[0][r][c].item<float>() == Approx(10.0 * (2 * r + 0.5) + (2 * c + 0.5)));
      CHECK(lab[r][c].item<int64_t>() == 6 * (2 * r) + 2 * c); // nearest: input pixel 2i
    }
  // x and y apart: 10 columns at 0.7 mm to 1 mm is 7; 10 rows at 1.5 mm to 1 mm is 15.
  auto [wide, none] = resample_slice(torch::zeros({2, 10, 10}), torch::Tensor(), {{0.7, 1.5}}, {1.0, 1.0});
  CHECK(wide.sizes() == torch::IntArrayRef({2, 15, 7}));
  CHECK_FALSE(none.defined());
}

TEST_CASE("crop or pad to the model size: centred without a random stream", "[train]") {
  auto seq = [](int64_t h, int64_t w) { return torch::arange(h * w, torch::kFloat32).view({1, h, w}) + 1; };
  // 5 x 5 to 3 x 3: the centre, rows and columns 1..3.
  auto [c, cl] = crop_or_pad(seq(5, 5), seq(5, 5)[0].to(torch::kInt64), 3, 3, nullptr);
  CHECK(torch::equal(c[0], torch::tensor({7.f, 8.f, 9.f, 12.f, 13.f, 14.f, 17.f, 18.f, 19.f}).view({3, 3})));
  CHECK(torch::equal(cl, c[0].to(torch::kInt64)));
  // 5 rows x 2 columns to 3 x 4: rows 1..3 cropped, the two columns padded with one zero each side.
  auto [m, ml] = crop_or_pad(seq(5, 2), torch::Tensor(), 3, 4, nullptr);
  CHECK(torch::equal(m[0], torch::tensor({0.f, 3.f, 4.f, 0.f, 0.f, 5.f, 6.f, 0.f, 0.f, 7.f, 8.f, 0.f}).view({3, 4})));
  // With a stream the window moves, but always holds a whole block of the slice.
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20; ++i) {
    auto [r, rl] = crop_or_pad(seq(6, 6), seq(6, 6)[0].to(torch::kInt64), 4, 4, &rng);
    const float first = r[0][0][0].item<float>();
    CHECK(torch::equal(r[0], seq(6, 6)[0].narrow(0, int64_t(first - 1) / 6, 4).narrow(1, int64_t(first - 1) % 6, 4)));
    CHECK(torch::equal(rl, r[0].to(torch::kInt64)));
  }
}

// Semi-supervised training's pieces, against values worked out by hand.
TEST_CASE("semi-supervised: the sigmoid ramp-up, exp(-5 (1 - t)^2)", "[train][semi]") {
  CHECK(sigmoid_rampup(0, 10) == Approx(0.006737947)); // exp(-5)
  CHECK(sigmoid_rampup(5, 10) == Approx(0.286504797)); // exp(-1.25)
  CHECK(sigmoid_rampup(9, 10) == Approx(0.951229425)); // exp(-0.05)
  CHECK(sigmoid_rampup(10, 10) == 1.0);
  CHECK(sigmoid_rampup(30, 10) == 1.0);
  CHECK(sigmoid_rampup(0, 0) == 1.0);
  for (int e = 0; e < 10; ++e) CHECK(sigmoid_rampup(e, 10) < sigmoid_rampup(e + 1, 10)); // rising
}

TEST_CASE("semi-supervised: the teacher's moving average", "[train][semi]") {
  CHECK(ema_decay_at(0.99, 0) == 0.0);            // the first step copies the student
  CHECK(ema_decay_at(0.99, 4) == Approx(0.8));    // 1 - 1/5: the mean of the five students so far
  CHECK(ema_decay_at(0.99, 1000) == Approx(0.99)); // then the decay asked for
  auto teacher = torch::tensor({1.0f, 2.0f}), count = torch::tensor({7}, torch::kInt64);
  const auto student = torch::tensor({3.0f, 6.0f}, torch::requires_grad());
  ema_update({teacher, count}, {student, torch::tensor({9}, torch::kInt64)}, 0.9, 100);
  CHECK(teacher[0].item<float>() == Approx(0.9 * 1 + 0.1 * 3));
  CHECK(teacher[1].item<float>() == Approx(0.9 * 2 + 0.1 * 6));
  CHECK(count.item<int64_t>() == 9); // an integer buffer follows the student
  CHECK_FALSE(teacher.requires_grad());
  ema_update({teacher}, {student}, 0.9, 0); // step 0: decay 0
  CHECK(torch::equal(teacher, student.detach()));
}

TEST_CASE("semi-supervised: the consistency loss and its gradient reach the student only", "[train][semi]") {
  // One pixel, two classes: the student's logits (0, 0) give p = (1/2, 1/2); the teacher's
  // (ln 3, 0) give q = (3/4, 1/4). Loss = mean((p - q)^2) = 1/16. dL/dp = 2 (p - q) / 2 =
  // (-1/4, 1/4); the softmax's Jacobian diag(p) - p p^T = [[1/4, -1/4], [-1/4, 1/4]] makes it
  // (-1/8, 1/8) for the student's logits.
  auto s = torch::zeros({1, 2, 1, 1}, torch::requires_grad());
  auto t = torch::tensor({std::log(3.0f), 0.0f}).view({1, 2, 1, 1}).set_requires_grad(true);
  auto loss = consistency_loss(s, t);
  CHECK(loss.item<double>() == Approx(1.0 / 16));
  loss.backward();
  CHECK(s.grad()[0][0][0][0].item<double>() == Approx(-1.0 / 8));
  CHECK(s.grad()[0][1][0][0].item<double>() == Approx(1.0 / 8));
  CHECK_FALSE(t.grad().defined()); // the teacher learns only by the moving average
}

TEST_CASE("semi-supervised: pseudo-labels keep the teacher's confident pixels", "[train][semi]") {
  // Pixel 0: logits (ln 19, 0) -> p = 0.95 for class 0; pixel 1: (0, ln 1.5) -> 0.6 for class 1.
  auto logits = torch::stack({torch::tensor({std::log(19.0f), 0.0f}), torch::tensor({0.0f, std::log(1.5f)})}, 1).view({1, 2, 1, 2});
  CHECK(torch::equal(pseudo_labels(logits, 0.9), torch::tensor({0, -100}, torch::kInt64).view({1, 1, 2})));
  CHECK(torch::equal(pseudo_labels(logits, 0.5, -1), torch::tensor({0, 1}, torch::kInt64).view({1, 1, 2})));
}

TEST_CASE("semi-supervised: pseudo-labels' loss is the masked mean of the cross-entropy", "[train][semi]") {
  // Two pixels, two classes, the student's logits (0, 0): each pixel's cross-entropy is ln 2.
  // Only pixel 0 has a target, so the loss is ln 2 summed over it, divided by both pixels.
  auto s = torch::zeros({1, 2, 1, 2}, torch::requires_grad());
  auto loss = pseudo_label_loss(s, torch::tensor({0, -100}, torch::kInt64).view({1, 1, 2}));
  CHECK(loss.item<double>() == Approx(std::log(2.0) / 2));
  loss.backward();
  // d/dz of -log softmax(z)_0 at z = 0 is (p - onehot) = (-1/2, 1/2), over 2 pixels: (-1/4, 1/4).
  CHECK(s.grad()[0][0][0][0].item<double>() == Approx(-0.25));
  CHECK(s.grad()[0][1][0][0].item<double>() == Approx(0.25));
  CHECK(s.grad()[0][0][0][1].item<double>() == 0.0); // no target, no gradient
  auto none = pseudo_label_loss(torch::zeros({1, 2, 1, 2}), torch::full({1, 1, 2}, -100, torch::kInt64));
  CHECK(none.item<double>() == 0.0); // no confident pixel: 0, not NaN
}

TEST_CASE("semi-supervised: input noise is clipped at two SDs and follows its stream", "[train][semi]") {
  std::mt19937_64 a(7), b(7);
  const auto x = gaussian_noise({4, 100, 100}, 0.1, a, 2), y = gaussian_noise({4, 100, 100}, 0.1, b, 2);
  CHECK(torch::equal(x, y));
  CHECK(x.abs().max().item<float>() <= 0.2f + 1e-7f);
  CHECK(std::abs(x.mean().item<double>()) < 0.003); // 40000 draws: SE of the mean 0.0005
  // A standard normal clamped to [-2, 2] has E[X^2] = P(|X| < 2) - 4 phi(2) + 4 P(|X| > 2)
  // = 0.95450 - 0.21596 + 0.18200 = 0.92054: SD 0.9594.
  CHECK(torch::sqrt((x * x).mean()).item<double>() == Approx(0.09594).epsilon(0.02));
  CHECK(torch::equal(gaussian_noise({3}, 0.0, a, 2), torch::zeros({3})));
  // Unclipped (nnU-Net's): P(|X| > 2) = 4.55%, about 1820 of 40000 draws beyond 0.2, the SD 0.1.
  const auto z = gaussian_noise({4, 100, 100}, 0.1, a);
  CHECK((z.abs() > 0.2f).sum().item<int64_t>() == Approx(1820).margin(200)); // SD of the count 42
  CHECK(torch::sqrt((z * z).mean()).item<double>() == Approx(0.1).epsilon(0.02));
}

TEST_CASE("semi-supervised options: defaults by method, checks, config.json", "[train][semi]") {
  TrainOptions t;
  t.epochs = 40;
  CHECK(t.to_json().find("semi") == nullptr); // a supervised run's config.json is as before
  t.semi.method = "mean-teacher";
  t.semi.resolve_defaults(t.epochs);
  CHECK(t.semi.weight == 0.1);
  CHECK(t.semi.ramp_epochs == 10.0);
  CHECK(t.semi.network == "teacher");
  SemiOptions p;
  p.method = "pseudo-label";
  p.resolve_defaults(8);
  CHECK(p.weight == 1.0);
  CHECK(p.network == "student");
  t.semi.ignore_labels_of = {"pat0005", "pat0006"};
  const TrainOptions back = TrainOptions::from_json(t.to_json());
  CHECK(back.semi.method == "mean-teacher");
  CHECK(back.semi.ignore_labels_of == t.semi.ignore_labels_of);
  CHECK(back.semi.ramp_epochs == 10.0);
  auto bad = [](std::function<void(SemiOptions&)> f) {
    SemiOptions s;
    s.method = "mean-teacher";
    f(s);
    return s;
  };
  CHECK_THROWS_WITH(bad([](SemiOptions& s) { s.method = "cotraining"; }).validate(), Catch::Contains("--semi"));
  CHECK_THROWS_WITH(bad([](SemiOptions& s) { s.ema_decay = 1.5; }).validate(), Catch::Contains("--ema-decay"));
  CHECK_THROWS_WITH(bad([](SemiOptions& s) { s.threshold = -0.1; }).validate(), Catch::Contains("--pseudo-threshold"));
  CHECK_THROWS_WITH(bad([](SemiOptions& s) { s.weight = std::nan(""); }).validate(), Catch::Contains("--semi-weight"));
  // -1 given is an error, not the default (issue 25): only an unset value takes the method's.
  CHECK_THROWS_WITH(bad([](SemiOptions& s) { s.weight = -1; }).validate(), Catch::Contains("--semi-weight"));
  CHECK_THROWS_WITH(bad([](SemiOptions& s) { s.ramp_epochs = -1; }).validate(), Catch::Contains("--semi-ramp"));
  CHECK_NOTHROW(bad([](SemiOptions& s) { s.weight = 0; s.ramp_epochs = 0; }).validate());
  SemiOptions given = bad([](SemiOptions& s) { s.weight = 0.5; });
  given.resolve_defaults(40);
  CHECK(given.weight == 0.5); // kept; the ramp unset takes a quarter of the epochs
  CHECK(given.ramp_epochs == 10.0);
  CHECK_THROWS_WITH(bad([](SemiOptions& s) { s.network = "both"; }).validate(), Catch::Contains("--semi-network"));
}

TEST_CASE("semi-supervised: unlabelled batches pass over every slice once per pass", "[train][semi]") {
  std::vector<SliceRef> all;
  for (int32_t s = 0; s < 2; ++s)
    for (int64_t i = 0; i < 5; ++i) all.push_back({s, i}); // 10 slices
  const auto key = [](const SliceRef& r) { return r.shard * 100 + r.slice; };
  // 4 batches of 6: 24 slices, passes of 10, 10 and the first 4 of a third.
  const auto b = unlabelled_batches(all, 42, 3, 4, 6);
  REQUIRE(b.size() == 4);
  std::vector<int64_t> flat;
  for (auto& batch : b) {
    CHECK(batch.size() == 6);
    for (auto& r : batch) flat.push_back(key(r));
  }
  for (int pass = 0; pass < 2; ++pass) {
    std::vector<int64_t> p(flat.begin() + pass * 10, flat.begin() + pass * 10 + 10);
    std::sort(p.begin(), p.end());
    CHECK(p == std::vector<int64_t>{0, 1, 2, 3, 4, 100, 101, 102, 103, 104});
  }
  CHECK(!std::equal(flat.begin(), flat.begin() + 10, flat.begin() + 10)); // each pass in its own order
  const auto again = unlabelled_batches(all, 42, 3, 4, 6), other = unlabelled_batches(all, 42, 4, 4, 6);
  auto same = [&](const std::vector<std::vector<SliceRef>>& x) {
    for (size_t i = 0; i < x.size(); ++i)
      for (size_t j = 0; j < x[i].size(); ++j)
        if (key(x[i][j]) != key(b[i][j])) return false;
    return true;
  };
  CHECK(same(again));  // a pure function of (seed, epoch)
  CHECK_FALSE(same(other));
  CHECK(unlabelled_batches({}, 42, 3, 4, 6)[0].empty()); // nothing unlabelled: empty batches
}

TEST_CASE("semi-supervised: batch-norm statistics made for a network's own weights", "[train][semi]") {
  // A network whose running statistics are far off (as an average of other networks' would be):
  // after recomputing, the first batch norm's running mean is the mean of its inputs over the
  // batches, and its running variance the mean of the batches' unbiased variances (the
  // cumulative average of the batch statistics), computed here from the layer before it.
  torch::manual_seed(3);
  ModelConfig cfg;
  cfg.in_channels = 2;
  cfg.classes = 3;
  cfg.base_channels = 8;
  DLKUNet net(cfg);
  net->stem->bn1->running_mean.fill_(5.0);
  net->stem->bn1->running_var.fill_(100.0);
  net->eval();
  std::vector<torch::Tensor> batches = {torch::randn({4, 2, 32, 32}), torch::randn({4, 2, 32, 32}) * 2 + 1};
  recompute_batch_norm_statistics(net, [&](DLKUNet& m) {
    for (auto& x : batches) m->forward(x);
  });
  torch::NoGradGuard no_grad;
  torch::Tensor mean = torch::zeros({8}), var = torch::zeros({8});
  for (auto& x : batches) {
    const auto y = net->stem->sep1->forward(x).transpose(0, 1).reshape({8, -1}); // [channels, N*H*W]
    mean += y.mean(1) / 2;
    var += y.var(1, /*unbiased=*/true) / 2;
  }
  CHECK(torch::allclose(net->stem->bn1->running_mean, mean, 1e-4, 1e-5));
  CHECK(torch::allclose(net->stem->bn1->running_var, var, 1e-4, 1e-5));
  CHECK(net->stem->bn1->num_batches_tracked.item<int64_t>() == 2);
  CHECK(net->stem->bn1->options.momentum() == c10::optional<double>(0.1)); // restored, and the mode
  CHECK_FALSE(net->is_training());
}

TEST_CASE("resume: config.json's threads are restored; another -j is refused when deterministic", "[train]") {
  test::TempDir dir;
  TrainOptions run;
  run.dataset = dir / "ds";
  run.run_dir = dir.path.string();
  run.model.classes = 3;
  run.model.in_channels = 1;
  run.threads = 1;
  write_file_atomic(dir / "config.json", run.to_json().dump(2));
  TrainOptions cmd; // the command line: --resume RUNDIR, and -j 2 given or (all cores) not
  cmd.resume = dir.path.string();
  cmd.threads = 2;
  CHECK(TrainOptions::resumed(cmd, false, false, false).threads == 1); // not given: the run's
  CHECK(TrainOptions::resumed(cmd, false, false, true).threads == 2);  // given: a notice, then this
  run.deterministic = true;
  write_file_atomic(dir / "config.json", run.to_json().dump(2));
  CHECK_THROWS_AS(TrainOptions::resumed(cmd, false, false, true), UsageError);
  CHECK(TrainOptions::resumed(cmd, false, false, false).threads == 1);
  cmd.threads = 1; // the same value given is no change
  CHECK(TrainOptions::resumed(cmd, false, false, true).threads == 1);
  run.threads = 0; // a run of an older version recorded none: this command line's
  write_file_atomic(dir / "config.json", run.to_json().dump(2));
  cmd.threads = 2;
  CHECK(TrainOptions::resumed(cmd, false, false, false).threads == 2);
}

// --- nnU-Net's recipe (issue 30) ---

TEST_CASE("deep supervision: nnU-Net's weights, nearest targets, one head per coarser level", "[train][recipe]") {
  // 1/2^l normalised, by hand.
  auto near = [](const std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (std::abs(a[i] - b[i]) > 1e-12) return false;
    return true;
  };
  CHECK(near(deep_supervision_weights(2), {2.0 / 3, 1.0 / 3}));
  CHECK(near(deep_supervision_weights(3), {4.0 / 7, 2.0 / 7, 1.0 / 7}));
  CHECK(near(deep_supervision_weights(4), {8.0 / 15, 4.0 / 15, 2.0 / 15, 1.0 / 15}));
  // Nearest neighbour at half size keeps each 2x2 block's top-left label (no new values).
  auto y = torch::tensor({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, torch::kInt64).view({1, 4, 4});
  CHECK(torch::equal(downsample_labels(y, 2, 2), torch::tensor({0, 2, 8, 10}, torch::kInt64).view({1, 2, 2})));

  ModelConfig cfg;
  cfg.variant = "M";
  cfg.base_channels = 4;
  cfg.classes = 3;
  cfg.in_channels = 2;
  CHECK(resolve_deep_supervision(0, cfg, 32, 32) == 3); // all
  CHECK(resolve_deep_supervision(2, cfg, 32, 32) == 2);
  auto refused = [&](int v, int64_t size, const std::string& says) {
    INFO(v << " at " << size);
    try {
      resolve_deep_supervision(v, cfg, size, size);
      FAIL("accepted");
    } catch (const UsageError& e) {
      CHECK_THAT(e.what(), Catch::Contains(says));
    }
  };
  refused(4, 32, "--supervised-levels: 4, but DLKUNet-M has 3 decoder levels");
  refused(1, 32, "--supervised-levels: 1 (2 or more");
  refused(-1, 32, "--supervised-levels: -1");
  refused(0, 12, "--deep-supervision: at --size 12x12 level 2 is 3x3 pixels"); // 12 / 4
  CHECK(resolve_deep_supervision(2, cfg, 12, 12) == 2);

  torch::manual_seed(3);
  DLKUNet model(cfg);
  DeepSupervision ds(cfg, 3);
  model->train();
  // Heads on levels 1 (8 channels) and 2 (16): (8 + 16) x 3 weights + 2 x 3 biases.
  CHECK(parameter_count(*ds) == (8 + 16) * 3 + 2 * 3);
  auto x = torch::randn({2, 2, 32, 32});
  auto outs = ds->forward(model, x);
  REQUIRE(outs.size() == 3);
  CHECK(outs[0].sizes() == torch::IntArrayRef({2, 3, 32, 32}));
  CHECK(outs[1].sizes() == torch::IntArrayRef({2, 3, 16, 16}));
  CHECK(outs[2].sizes() == torch::IntArrayRef({2, 3, 8, 8}));
  CHECK(torch::allclose(outs[0], model->forward(x), 1e-5, 1e-6)); // level 0 is the model's own output
  // The heads are not the model's: a checkpoint of the model alone loads without them.
  for (auto& [name, t] : model_tensors(model)) CHECK(name.find("head1") == std::string::npos);
}

TEST_CASE("foreground oversampling: the last third of each batch holds foreground, seeded", "[train][recipe]") {
  // 20 slices of one shard; the odd ones hold foreground.
  std::vector<SliceRef> all, fg;
  std::vector<std::vector<uint8_t>> has(1, std::vector<uint8_t>(20, 0));
  for (int64_t i = 0; i < 20; ++i) {
    all.push_back({0, i});
    if (i % 2) {
      fg.push_back({0, i});
      has[0][size_t(i)] = 1;
    }
  }
  const auto order = epoch_order(all, 7, 3);
  const auto over = oversample_foreground(order, fg, has, 8, 0.33, 7, 3);
  REQUIRE(over.size() == order.size());
  // Batches of 8, 8 and 4: nnU-Net forces the places from round(n * 0.67) on: 5, 5 and 3.
  for (size_t i = 0; i < over.size(); ++i) {
    const size_t in_batch = i % 8, n = i < 16 ? 8 : 4, first = n == 8 ? 5 : 3;
    INFO("place " << i);
    if (in_batch >= first) CHECK(over[i].slice % 2 == 1);
    else CHECK(over[i].slice == order[i].slice); // the others as the epoch's order has them
    if (order[i].slice % 2 == 1) CHECK(over[i].slice == order[i].slice); // foreground is never replaced
  }
  // A pure function of (seed, epoch): resumable; another epoch draws others.
  const auto again = oversample_foreground(order, fg, has, 8, 0.33, 7, 3);
  CHECK(std::equal(over.begin(), over.end(), again.begin(), [](auto a, auto b) { return a.slice == b.slice; }));
  const auto off = oversample_foreground(order, fg, has, 8, 0, 7, 3);
  CHECK(std::equal(off.begin(), off.end(), order.begin(), [](auto a, auto b) { return a.slice == b.slice; }));
}

namespace {
NnunetAugmentation identity_augmentation(int64_t channels) {
  NnunetAugmentation a;
  a.blur_sigma.assign(size_t(channels), {0, 0});
  a.brightness.assign(size_t(channels), 1);
  a.contrast.assign(size_t(channels), 1);
  a.low_resolution.assign(size_t(channels), 1);
  a.gamma_inverted.assign(size_t(channels), 0);
  a.gamma.assign(size_t(channels), 0);
  return a;
}
} // namespace

TEST_CASE("nnU-Net augmentation: the geometry moves the label with the image", "[train][recipe]") {
  std::mt19937_64 rng(1);
  auto label = torch::randint(0, 4, {9, 9}, torch::kInt64);
  auto image = torch::stack({label.to(torch::kFloat32), torch::randn({9, 9})});
  auto a = identity_augmentation(2);
  CHECK(torch::equal(apply_nnunet_augmentation(a, image, label, rng).second, label)); // nothing drawn: unchanged
  // A quarter turn samples pixel centres exactly: both are rot90 of the input, the same way.
  a.spatial = true;
  a.rotation = M_PI / 2;
  auto r = apply_nnunet_augmentation(a, image, label, rng);
  const bool ccw = torch::equal(r.second, torch::rot90(label, 1, {0, 1}));
  const bool cw = torch::equal(r.second, torch::rot90(label, -1, {0, 1}));
  REQUIRE((ccw || cw));
  CHECK(torch::allclose(r.first, torch::rot90(image, ccw ? 1 : -1, {1, 2}), 0, 1e-4));
  // Mirroring both axes = a half turn.
  a = identity_augmentation(2);
  a.mirror_rows = a.mirror_columns = true;
  r = apply_nnunet_augmentation(a, image, label, rng);
  CHECK(torch::equal(r.second, torch::rot90(label, 2, {0, 1})));
  CHECK(torch::equal(r.first, torch::rot90(image, 2, {1, 2})));
  // Scaling by 2 samples twice as far from the centre: the centre pixel stays, the label keeps
  // only its values, zeros (background) come in from outside.
  a = identity_augmentation(2);
  a.spatial = true;
  a.scale = 2;
  r = apply_nnunet_augmentation(a, image, label, rng);
  CHECK(r.second[4][4].item<int64_t>() == label[4][4].item<int64_t>());
  CHECK(r.second[0][0].item<int64_t>() == 0);
  // Over many drawn slices of a blocky label (4x4 blocks), image channel 0 (= the label) and the
  // label agree away from block edges, with the intensity transforms set aside. (48 pixels: the
  // elastic field's reach is 39.)
  auto blocks = torch::randint(1, 4, {1, 1, 12, 12}).to(torch::kFloat32);
  auto big = torch::nn::functional::interpolate(blocks, torch::nn::functional::InterpolateFuncOptions().size(std::vector<int64_t>{48, 48}).mode(torch::kNearest)).view({48, 48});
  auto big_label = big.to(torch::kInt64);
  auto big_image = torch::stack({big, torch::randn({48, 48})});
  int64_t agree = 0, total = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    std::mt19937_64 g(seed);
    auto d = draw_nnunet_augmentation(2, 48, 48, seed % 2 == 1, g);
    auto spatial_only = identity_augmentation(2);
    spatial_only.spatial = d.spatial;
    spatial_only.rotation = d.rotation;
    spatial_only.scale = d.scale;
    spatial_only.elastic = d.elastic;
    spatial_only.elastic_alpha = d.elastic_alpha;
    spatial_only.elastic_sigma = d.elastic_sigma;
    spatial_only.mirror_rows = d.mirror_rows;
    spatial_only.mirror_columns = d.mirror_columns;
    auto out = apply_nnunet_augmentation(spatial_only, big_image, big_label, g);
    REQUIRE(out.second.min().item<int64_t>() >= 0);
    REQUIRE(out.second.max().item<int64_t>() <= 3);
    agree += (out.first[0].round().to(torch::kInt64) == out.second).sum().item<int64_t>();
    total += out.second.numel();
  }
  CHECK(double(agree) / double(total) > 0.9);
}

TEST_CASE("nnU-Net augmentation: intensities as each transform promises", "[train][recipe]") {
  std::mt19937_64 rng(5);
  auto image = torch::randn({1, 32, 32}) * 2 + 1;
  auto label = torch::zeros({32, 32}, torch::kInt64);
  const double lo = image.min().item<double>(), hi = image.max().item<double>(), mean = image.mean().item<double>();
  auto run = [&](const NnunetAugmentation& a) { return apply_nnunet_augmentation(a, image, label, rng).first; };
  auto a = identity_augmentation(1);
  a.brightness = {1.2};
  CHECK(torch::allclose(run(a), image * 1.2));
  a = identity_augmentation(1);
  a.contrast = {1.25}; // about the mean, clipped to the channel's range
  auto c = run(a);
  CHECK(c.min().item<double>() >= lo - 1e-6);
  CHECK(c.max().item<double>() <= hi + 1e-6);
  CHECK(torch::allclose(c, torch::clamp((image - mean) * 1.25 + mean, lo, hi), 1e-5, 1e-5));
  for (bool inverted : {false, true}) { // mean and SD retained
    a = identity_augmentation(1);
    (inverted ? a.gamma_inverted : a.gamma) = {1.5};
    auto gm = run(a);
    CHECK(gm.mean().item<double>() == Approx(mean).margin(1e-4));
    CHECK(gm.std().item<double>() == Approx(image.std().item<double>()).epsilon(1e-4));
    CHECK_FALSE(torch::allclose(gm, image, 1e-3, 1e-3));
  }
  a = identity_augmentation(1);
  a.low_resolution = {0.5};
  auto lr = run(a);
  CHECK(lr.sizes() == image.sizes());
  CHECK(lr.min().item<double>() >= lo - 1e-5); // bilinear between the kept pixels' values
  CHECK(lr.max().item<double>() <= hi + 1e-5);
  a = identity_augmentation(1);
  a.blur_sigma = {{1.0, 1.0}};
  auto flat = torch::full({1, 16, 16}, 3.0f); // reflected borders keep a constant image constant
  CHECK(torch::allclose(apply_nnunet_augmentation(a, flat, label.narrow(0, 0, 16).narrow(1, 0, 16), rng).first, flat));
  CHECK(run(a).std().item<double>() < 0.6 * image.std().item<double>()); // white noise loses most of its variance
  a = identity_augmentation(1);
  a.noise_sd = 0.3;
  auto noisy = run(a) - image;
  CHECK(noisy.std().item<double>() == Approx(0.3).epsilon(0.1));
  // The same stream, the same slice.
  std::mt19937_64 r1(9), r2(9);
  auto d1 = draw_nnunet_augmentation(1, 32, 32, true, r1), d2 = draw_nnunet_augmentation(1, 32, 32, true, r2);
  CHECK(torch::equal(apply_nnunet_augmentation(d1, image, label, r1).first, apply_nnunet_augmentation(d2, image, label, r2).first));
}

TEST_CASE("nnU-Net augmentation: nnU-Net's probabilities and ranges", "[train][recipe]") {
  std::mt19937_64 rng(11);
  const int n = 20000;
  int spatial = 0, rotated = 0, scaled = 0, elastic = 0, noise = 0, blur = 0, bright = 0, contrast = 0, lowres = 0,
      ginv = 0, gam = 0, mirror = 0, below = 0;
  for (int i = 0; i < n; ++i) {
    auto a = draw_nnunet_augmentation(1, 64, 64, true, rng);
    spatial += a.spatial;
    rotated += a.rotation != 0;
    scaled += a.scale != 1;
    elastic += a.elastic;
    noise += a.noise_sd > 0;
    blur += a.blur_sigma[0][0] > 0;
    bright += a.brightness[0] != 1;
    contrast += a.contrast[0] != 1;
    lowres += a.low_resolution[0] != 1;
    ginv += a.gamma_inverted[0] > 0;
    gam += a.gamma[0] > 0;
    mirror += a.mirror_rows;
    REQUIRE(std::abs(a.rotation) <= M_PI);
    REQUIRE((a.scale >= 0.7 && a.scale <= 1.4));
    REQUIRE((a.noise_sd == 0 || a.noise_sd * a.noise_sd <= 0.1));
    REQUIRE((a.blur_sigma[0][0] == 0 || (a.blur_sigma[0][0] >= 0.5 && a.blur_sigma[0][1] <= 1)));
    REQUIRE((a.contrast[0] >= 0.75 && a.contrast[0] <= 1.25));
    REQUIRE((a.brightness[0] >= 0.75 && a.brightness[0] <= 1.25));
    REQUIRE((a.low_resolution[0] >= 0.5 && a.low_resolution[0] <= 1));
    REQUIRE((a.gamma[0] == 0 || (a.gamma[0] >= 0.7 && a.gamma[0] <= 1.5)));
    REQUIRE((!a.elastic || (a.elastic_alpha <= 200 && a.elastic_sigma >= 9 && a.elastic_sigma <= 13)));
    if (a.gamma[0] > 0) below += a.gamma[0] < 1;
  }
  auto share = [&](int k) { return double(k) / n; };
  CHECK(share(rotated) == Approx(0.2).margin(0.015));
  CHECK(share(scaled) == Approx(0.2).margin(0.015));
  CHECK(share(elastic) == Approx(0.2).margin(0.015));
  CHECK(share(spatial) == Approx(1 - 0.8 * 0.8 * 0.8).margin(0.015));
  CHECK(share(noise) == Approx(0.1).margin(0.01));
  CHECK(share(blur) == Approx(0.2 * 0.5).margin(0.01));
  CHECK(share(bright) == Approx(0.15).margin(0.01));
  CHECK(share(contrast) == Approx(0.15).margin(0.01));
  CHECK(share(lowres) == Approx(0.25 * 0.5).margin(0.01));
  CHECK(share(ginv) == Approx(0.1).margin(0.01));
  CHECK(share(gam) == Approx(0.3).margin(0.015));
  CHECK(share(mirror) == Approx(0.5).margin(0.015));
  CHECK(double(below) / gam == Approx(0.5).margin(0.03)); // BGContrast: below 1 half the time
  // An elongated slice (over 1.5:1) turns by 15 degrees at most; nnunet alone never deforms.
  for (int i = 0; i < 2000; ++i) {
    auto a = draw_nnunet_augmentation(1, 64, 32, false, rng);
    REQUIRE(std::abs(a.rotation) <= M_PI / 12);
    REQUIRE_FALSE(a.elastic);
  }
  CHECK_THROWS_AS(check_augmentation_size("nnunet", 7, 64), UsageError);
  CHECK_NOTHROW(check_augmentation_size("nnunet", 8, 8));
  CHECK_THROWS_AS(check_augmentation_size("nnunet-elastic", 64, 39), UsageError);
  CHECK_NOTHROW(check_augmentation_size("paper", 2, 2));
}

namespace {
// `steps` Adam(W) steps of --optimizer-step `how` on three tensors (one channels-last) with
// gradients from a seeded stream; the final weights.
std::vector<torch::Tensor> adam_steps(const std::string& kind, const std::string& how, int steps, double weight_decay) {
  torch::manual_seed(3);
  std::vector<torch::Tensor> p = {torch::randn({8, 3, 3, 3}), torch::randn({8}),
                                  torch::randn({4, 8, 1, 1}).contiguous(torch::MemoryFormat::ChannelsLast)};
  for (auto& t : p) t.set_requires_grad(true);
  TrainOptions o;
  o.optimizer = kind;
  o.optimizer_step = how;
  o.lr.base = 0.01;
  o.weight_decay = weight_decay;
  auto opt = make_optimizer(o, p);
  REQUIRE(o.optimizer_step == how);
  for (int k = 0; k < steps; ++k) {
    for (auto& t : p) t.mutable_grad() = torch::randn_like(t);
    opt->step();
  }
  return p;
}
} // namespace

TEST_CASE("optimizer step: foreach and fused Adam/AdamW equal torch::optim's loop", "[train][optimizer]") {
  std::vector<std::string> ways = {"foreach"};
  if (compat::has_fused_adam(torch::kCPU)) ways.push_back("fused"); // LibTorch >= 2.4
  for (const std::string kind : {"adam", "adamw"})
    for (const std::string& how : ways) {
      INFO(kind << " " << how);
      const auto want = adam_steps(kind, "loop", 6, 0.1), got = adam_steps(kind, how, 6, 0.1);
      const auto start = adam_steps(kind, "loop", 0, 0.1);
      for (size_t i = 0; i < want.size(); ++i) {
        CHECK(!torch::allclose(start[i], want[i])); // the steps moved the weights
        CHECK(torch::allclose(got[i], want[i], 1e-5, 1e-6));
      }
      // Adam's first step without weight decay moves every weight by lr against its gradient's
      // sign: m/sqrt(v) = g/|g| after bias correction (eps 1e-8 aside).
      torch::manual_seed(3);
      const auto p0 = torch::randn({8, 3, 3, 3});
      const auto one = adam_steps(kind, how, 1, 0.0);
      torch::manual_seed(3); // adam_steps' draws: the three weights, then the first gradients
      for (auto n : {int64_t(8 * 27), int64_t(8), int64_t(32)}) (void)torch::randn({n});
      const auto g = torch::randn({8, 3, 3, 3});
      CHECK(torch::allclose(one[0] - p0, -0.01 * g.sign(), 0, 1e-6));
    }
}

TEST_CASE("optimizer step: checkpoints move between the loop and the multi-tensor step", "[train][optimizer]") {
  // Three steps of foreach, its state saved; a fresh loop optimizer loads it and the weights after
  // three more steps equal foreach's own three more (the same gradient stream from step 4).
  torch::manual_seed(3);
  std::vector<torch::Tensor> a = {torch::randn({8, 3, 3, 3}), torch::randn({8})};
  for (auto& t : a) t.set_requires_grad(true);
  std::vector<torch::Tensor> b = {a[0].detach().clone().set_requires_grad(true), a[1].detach().clone().set_requires_grad(true)};
  TrainOptions o;
  o.optimizer = "adam";
  o.weight_decay = 0.1;
  o.optimizer_step = "foreach";
  auto fa = make_optimizer(o, a);
  std::vector<std::vector<torch::Tensor>> grads;
  for (int k = 0; k < 6; ++k) grads.push_back({torch::randn({8, 3, 3, 3}), torch::randn({8})});
  auto run = [&](torch::optim::Optimizer& opt, std::vector<torch::Tensor>& p, int from, int to) {
    for (int k = from; k < to; ++k) {
      for (size_t i = 0; i < p.size(); ++i) p[i].mutable_grad() = grads[size_t(k)][i].clone();
      opt.step();
    }
  };
  run(*fa, a, 0, 3);
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < a.size(); ++i) b[i].copy_(a[i]);
  }
  o.optimizer_step = "loop";
  auto lb = make_optimizer(o, b);
  load_optimizer_blob(*lb, optimizer_blob(*fa), torch::kCPU);
  run(*fa, a, 3, 6);
  run(*lb, b, 3, 6);
  for (size_t i = 0; i < a.size(); ++i) CHECK(torch::allclose(a[i], b[i], 1e-5, 1e-6));
}

TEST_CASE("optimizer step: auto, and what is refused", "[train][optimizer]") {
  std::vector<torch::Tensor> p = {torch::zeros({2}, torch::requires_grad())};
  TrainOptions o;
  o.optimizer = "adam";
  make_optimizer(o, p);
  CHECK(o.optimizer_step == "loop"); // auto on a CPU: the loop, a CPU run's numbers as before
  TrainOptions s;
  s.optimizer = "sgd";
  s.optimizer_step = "foreach";
  CHECK_THROWS_AS(s.validate(), UsageError);
  s.optimizer_step = "fast";
  s.optimizer = "adam";
  CHECK_THROWS_WITH(s.validate(), Catch::Contains("--optimizer-step"));
  if (!compat::has_fused_adam(torch::kCPU)) { // LibTorch 1.13: named, refused with the way out
    TrainOptions f;
    f.optimizer = "adam";
    f.optimizer_step = "fused";
    CHECK_THROWS_WITH(make_optimizer(f, p), Catch::Contains("foreach"));
  }
}

TEST_CASE("optimizer step: on a GPU fused and foreach equal the loop (runs where a GPU is)", "[optimizer][cuda]") {
  if (!compat::cuda_available()) {
    WARN("SKIP: no CUDA device; the fused Adam step on CUDA is tested on the GPU machine");
    return;
  }
  REQUIRE(compat::has_fused_adam(torch::kCUDA));
  for (const std::string kind : {"adam", "adamw"}) {
    std::map<std::string, std::vector<torch::Tensor>> after;
    for (const std::string how : {"loop", "foreach", "fused"}) {
      torch::manual_seed(5);
      std::vector<torch::Tensor> p = {torch::randn({16, 1, 7, 7}, torch::kCUDA),
                                      torch::randn({16, 8, 1, 1}, torch::kCUDA).contiguous(torch::MemoryFormat::ChannelsLast),
                                      torch::randn({16}, torch::kCUDA)};
      for (auto& t : p) t.set_requires_grad(true);
      TrainOptions o;
      o.optimizer = kind;
      o.optimizer_step = how;
      o.weight_decay = 0.1;
      auto opt = make_optimizer(o, p);
      for (int k = 0; k < 5; ++k) {
        for (auto& t : p) t.mutable_grad() = torch::randn_like(t);
        opt->step();
      }
      after[how] = p;
    }
    for (const std::string how : {"foreach", "fused"})
      for (size_t i = 0; i < after[how].size(); ++i) {
        INFO(kind << " " << how << " tensor " << i);
        CHECK(torch::allclose(after[how][i].cpu(), after["loop"][i].cpu(), 1e-5, 1e-6));
      }
  }
  TrainOptions o;
  o.optimizer = "adam";
  std::vector<torch::Tensor> q = {torch::zeros({2}, torch::TensorOptions().device(torch::kCUDA).requires_grad(true))};
  make_optimizer(o, q);
  CHECK(o.optimizer_step == "fused"); // auto on a GPU
}
