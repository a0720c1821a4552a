// Needs LibTorch. Expected numbers come from ../shared/spec/dlkunet-architecture.md (Table 1 and
// section 4), not from this code.
#include "dlk/core/error.h"
#include "dlk/model/checkpoint.h"
#include "dlk/model/model.h"
#include "dlk/model/model_summary.h"
#include "test_util.h"

#include <catch2/catch.hpp>

#include <torch/torch.h>

using namespace dlk;

namespace {
ModelConfig config(const std::string& v, int64_t classes = 9, int64_t base = 96, int64_t in = 1) {
  ModelConfig c;
  c.variant = v;
  c.classes = classes;
  c.base_channels = base;
  c.in_channels = in;
  return c;
}
struct Totals {
  int64_t params = 0, true_macs = 0, paper_macs = 0;
};
Totals totals(const DLKUNet& m, int64_t h, int64_t w) {
  Totals t;
  for (auto& s : summarize(m, h, w)) {
    t.params += s.params;
    t.true_macs += s.true_macs;
    t.paper_macs += s.paper_macs;
  }
  return t;
}
} // namespace

TEST_CASE("model: parameter counts of S, M, L for 9 and 4 classes", "[model]") {
  CHECK(parameter_count(*DLKUNet(config("S"))) == 1131379);
  CHECK(parameter_count(*DLKUNet(config("M"))) == 4494451);
  CHECK(parameter_count(*DLKUNet(config("L"))) == 17708659);
  CHECK(parameter_count(*DLKUNet(config("S", 4))) == 1130894); // 485 fewer head parameters
  CHECK(parameter_count(*DLKUNet(config("M", 4))) == 4493966);
  CHECK(parameter_count(*DLKUNet(config("L", 4))) == 17708174);
}

TEST_CASE("model: summary totals reproduce the paper's Table 1 and the spec's MAC counts", "[model]") {
  const double G = 1e9;
  struct Row {
    const char* v;
    int64_t size, params;
    double true_g, paper_g;
  };
  // Spec section 4; the paper convention (torchinfo) at 3 decimals. M: the spec prints 22.842,
  // the sum of its rounded stage values; the rule itself gives 22.8415 (see the test below).
  for (Row r : {Row{"S", 224, 1131379, 10.280, 15.947}, Row{"M", 224, 4494451, 14.385, 22.8415},
                Row{"L", 224, 17708659, 18.403, 29.641}, Row{"L", 512, 17708659, 96.146, 154.860}}) {
    INFO(r.v << " at " << r.size);
    Totals t = totals(DLKUNet(config(r.v)), r.size, r.size);
    CHECK(t.params == r.params);
    CHECK(double(t.true_macs) / G == Approx(r.true_g).margin(0.0005));
    CHECK(double(t.paper_macs) / G == Approx(r.paper_g).margin(0.0005));
  }
  // Per stage, the spec's table 3.1 (L at 224): params exactly, MACs to its 3 decimals.
  auto stages = summarize(DLKUNet(config("L")), 224, 224);
  const int64_t params[] = {27466, 110976, 406272, 1549824, 6048768, 7165440, 1813248, 464256, 121536, 873};
  const double paper[] = {1.359, 1.382, 1.269, 1.213, 1.184, 5.615, 5.682, 5.814, 6.079, 0.044};
  REQUIRE(stages.size() == 10);
  for (size_t i = 0; i < 10; ++i) {
    INFO(stages[i].name);
    CHECK(stages[i].params == params[i]);
    CHECK(double(stages[i].paper_macs) / G == Approx(paper[i]).margin(0.0005));
  }
  CHECK(stages[5].output == std::vector<int64_t>{768, 28, 28});
}

TEST_CASE("model: the paper convention counted by hand for DLKUNet-M", "[model]") {
  // (weights + biases) x output pixels per conv, ConvT x its output pixels, + 2c per BN, summed
  // level by level from the spec's formulas: 22,841,478,400 (22.8415 G).
  auto conv = [](int64_t cin, int64_t cout, int64_t k, int64_t g, int64_t hw) { return (cout * (cin / g) * k * k + cout) * hw; };
  auto eblock = [&](int64_t cin, int64_t cout, int64_t s) {
    const int64_t hw = s * s;
    return conv(cin, cin, 3, cin, hw) + conv(cin, cout, 1, 1, hw) + 2 * cout + conv(cout, cout, 3, cout, hw) +
           conv(cout, cout, 1, 1, hw) + 2 * cout + conv(cout, cout, 5, cout, hw) + conv(cout, cout, 7, cout, hw) +
           conv(cout, cout, 1, 1, hw);
  };
  const int64_t c[] = {96, 192, 384, 768};
  int64_t sum = eblock(1, 96, 224);
  for (int i = 1; i <= 3; ++i) sum += eblock(c[i - 1], c[i], 224 >> i);
  for (int i = 2; i >= 0; --i) sum += (c[i + 1] * c[i] * 4 + c[i]) * (224 >> i) * (224 >> i) + eblock(2 * c[i], c[i], 224 >> i);
  sum += (96 * 9 + 9) * 224 * 224;
  CHECK(sum == 22841478400);
  CHECK(totals(DLKUNet(config("M")), 224, 224).paper_macs == sum);
}

TEST_CASE("model: output shapes for 224, 512 and odd sizes", "[model]") {
  torch::NoGradGuard no_grad;
  // Spatial logic does not depend on the width: C = 8 keeps these fast on a CPU.
  for (const char* v : {"S", "M", "L"}) {
    DLKUNet m(config(v, 9, 8, 2));
    m->eval();
    for (auto hw : {std::pair<int64_t, int64_t>{224, 224}, {512, 512}, {100, 75}, {37, 130}}) {
      INFO(v << " " << hw.first << "x" << hw.second);
      auto y = m->forward(torch::randn({2, 2, hw.first, hw.second}));
      CHECK(y.sizes() == torch::IntArrayRef({2, 9, hw.first, hw.second}));
    }
  }
  DLKUNet s(config("S")); // the real width once
  s->eval();
  CHECK(s->forward(torch::randn({1, 1, 224, 224})).sizes() == torch::IntArrayRef({1, 9, 224, 224}));
}

TEST_CASE("model: gradients reach every parameter", "[model]") {
  for (const char* v : {"S", "M", "L"}) {
    DLKUNet m(config(v, 4, 8));
    m->train();
    auto y = m->forward(torch::randn({2, 1, 48, 40}));
    torch::nn::functional::cross_entropy(y, torch::randint(0, 4, {2, 48, 40})).backward();
    for (const auto& p : m->named_parameters()) {
      INFO(v << " " << p.key());
      REQUIRE(p.value().grad().defined());
      CHECK(p.value().grad().abs().sum().item<double>() > 0);
    }
  }
}

TEST_CASE("model: the attention part gates by multiplication", "[model]") {
  torch::NoGradGuard no_grad;
  EBlock b(3, 8, config("S"));
  b->eval();
  auto x = torch::randn({2, 3, 16, 16});
  CHECK(b->forward(x).abs().sum().item<double>() > 0);
  b->lka->pw->weight.zero_();
  b->lka->pw->bias.zero_();
  CHECK(b->forward(x).abs().max().item<double>() == 0); // t * 0
  // And the gate is t * a: a 1x1 that passes channels through gives t * (dwd(dw(t)) + 1).
  LKA l(4, 5, 7, 3);
  auto t = torch::randn({1, 4, 12, 12});
  l->pw->weight.zero_();
  for (int c = 0; c < 4; ++c) l->pw->weight[c][c][0][0] = 1;
  l->pw->bias.fill_(1);
  CHECK(torch::allclose(l->forward(t), t * (l->dwd(l->dw(t)) + 1)));
}

TEST_CASE("model: odd sizes pad the upsampled map centred, extra pixel right and bottom", "[model]") {
  torch::NoGradGuard no_grad;
  DFB d(4, 2, config("S"));
  d->eval();
  auto deep = torch::randn({1, 4, 3, 3});
  auto u = d->up(deep); // 6x6, to be padded to 9x8: top 1, bottom 2, left 1, right 1
  auto skip = torch::randn({1, 2, 9, 8});
  auto expect = torch::zeros({1, 2, 9, 8});
  expect.slice(2, 1, 7).slice(3, 1, 7).copy_(u);
  CHECK(torch::allclose(d->forward(deep, skip), d->block(torch::cat({skip, expect}, 1))));
}

TEST_CASE("checkpoint: round trip gives bit-identical outputs", "[checkpoint]") {
  test::TempDir dir;
  torch::manual_seed(7);
  DLKUNet a(config("M", 4, 16));
  a->train();
  a->forward(torch::randn({2, 1, 32, 32})); // move BN running statistics off their defaults
  a->eval();
  json::Value extra;
  extra.set("epoch", 3);
  save_checkpoint(dir / "m.dlkc", make_checkpoint(a, {"background", "RV", "Myo", "LV"}, extra));
  Checkpoint meta;
  DLKUNet b = load_model(dir / "m.dlkc", nullptr, &meta);
  b->eval();
  CHECK(meta.meta.at("epoch").as_int() == 3);
  CHECK(meta.meta.at("classes").as_strings() == std::vector<std::string>{"background", "RV", "Myo", "LV"});
  CHECK(b->config.difference(a->config).empty());
  torch::NoGradGuard no_grad;
  auto x = torch::randn({2, 1, 40, 24});
  CHECK(torch::equal(a->forward(x), b->forward(x)));
  for (auto& [name, t] : model_tensors(a)) {
    INFO(name);
    CHECK(torch::equal(t, *load_checkpoint(dir / "m.dlkc").find(name)));
  }
}

TEST_CASE("checkpoint: class names are checked as shards' are (issue 25)", "[checkpoint][untrusted]") {
  test::TempDir dir;
  DLKUNet a(config("S", 3, 8));
  // A '|' would shift a report's columns; a newline split a CSV row; two names one JSON key.
  for (const auto& names : std::vector<std::vector<std::string>>{{"background", "a|b", "c"}, {"background", "a\nb", "c"},
                                                                  {"background", "x", "x"}}) {
    save_checkpoint(dir / "bad.dlkc", make_checkpoint(a, names));
    CHECK_THROWS_WITH(load_model(dir / "bad.dlkc"), Catch::Contains("bad.dlkc'") && Catch::Contains("classes: "));
  }
  save_checkpoint(dir / "few.dlkc", make_checkpoint(a, {"background", "tumour"}));
  CHECK_THROWS_WITH(load_model(dir / "few.dlkc"), Catch::Contains("2 names for a model of 3 classes"));
  save_checkpoint(dir / "ok.dlkc", make_checkpoint(a, {"background", "non-enhancing tumor", "kidney_left"}));
  CHECK_NOTHROW(load_model(dir / "ok.dlkc"));
}

TEST_CASE("checkpoint: preprocessing from dataset.json, and mismatches with a dataset", "[checkpoint]") {
  Dataset d;
  d.name = "acdc";
  d.channels = {"MRI"};
  d.classes = {"background", "RV", "Myo", "LV"};
  d.normalization = json::Value::parse(R"({"method":"minmax"})");
  json::Value extra;
  extra.set("preprocessing", preprocessing_json(d, 224, 224));
  DLKUNet m(config("S", 4, 8));
  Checkpoint ck = make_checkpoint(m, d.classes, extra);
  CHECK(checkpoint_dataset_mismatch(ck, d).empty());
  CHECK(ck.meta.at("preprocessing").at("input_size").as_numbers() == std::vector<double>{224, 224});
  Dataset other = d;
  other.classes = {"background", "aorta", "liver", "spleen"};
  CHECK(checkpoint_dataset_mismatch(ck, other) == "classes [background, RV, Myo, LV] vs [background, aorta, liver, spleen]");
  other = d;
  other.channels = {"flair", "t1c"};
  CHECK_THAT(checkpoint_dataset_mismatch(ck, other), Catch::StartsWith("input channels 1 vs 2"));
  other = d;
  other.normalization = json::Value::parse(R"({"method":"zscore"})");
  CHECK_THAT(checkpoint_dataset_mismatch(ck, other), Catch::StartsWith("normalization"));
}

TEST_CASE("checkpoint: corruption, truncation and mismatches are clear errors", "[checkpoint]") {
  test::TempDir dir;
  DLKUNet a(config("S", 9, 8));
  save_checkpoint(dir / "s.dlkc", make_checkpoint(a, {}));
  const std::string good = test::read_bytes(dir / "s.dlkc");
  std::string bad = good;
  bad[good.size() / 2] = char(bad[good.size() / 2] ^ 0x10); // inside some tensor
  test::write_bytes(dir / "bad.dlkc", bad);
  CHECK_THROWS_WITH(load_checkpoint(dir / "bad.dlkc"), Catch::Contains("bad.dlkc") && Catch::Contains("checksum mismatch"));
  test::write_bytes(dir / "short.dlkc", good.substr(0, good.size() - 1000));
  CHECK_THROWS_WITH(load_checkpoint(dir / "short.dlkc"), Catch::Contains("short.dlkc") && Catch::Contains("truncated"));
  test::write_bytes(dir / "junk.dlkc", "not a checkpoint at all, just some text of some length");
  CHECK_THROWS_WITH(load_checkpoint(dir / "junk.dlkc"), Catch::Contains("not a dlk checkpoint"));
  ModelConfig want = config("S", 4, 8);
  CHECK_THROWS_WITH(load_model(dir / "s.dlkc", &want), Catch::Contains("does not match") && Catch::Contains("classes 4 vs 9"));
  want = config("M", 9, 8);
  CHECK_THROWS_WITH(load_model(dir / "s.dlkc", &want), Catch::Contains("variant M vs S"));
}

TEST_CASE("model: evaluation folds BN into the conv and the transposed conv is a 1x1 conv + shuffle", "[model]") {
  torch::NoGradGuard no_grad;
  torch::manual_seed(3);
  EBlock b(3, 6, config("S"));
  for (auto* bn : {&b->bn1, &b->bn2}) { // statistics away from the identity
    (*bn)->running_mean.uniform_(-0.5, 0.5);
    (*bn)->running_var.uniform_(0.5, 2.0);
    (*bn)->weight.uniform_(0.5, 1.5);
    (*bn)->bias.uniform_(-0.2, 0.2);
  }
  b->eval();
  auto x = torch::randn({2, 3, 10, 9});
  auto t = torch::relu(b->bn1(b->sep1(x))); // the unfolded path, module by module
  t = torch::relu(b->bn2(b->sep2(t)));
  CHECK(torch::allclose(b->forward(x), b->lka(t), 1e-5, 1e-6));
  DFB d(4, 2, config("S"));
  d->eval();
  auto deep = torch::randn({1, 4, 3, 5}), skip = torch::randn({1, 2, 6, 10});
  CHECK(torch::allclose(d->forward(deep, skip), d->block(torch::cat({skip, d->up(deep)}, 1)), 1e-5, 1e-6));
}
