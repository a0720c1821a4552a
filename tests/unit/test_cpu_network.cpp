// dlk's CPU network (dlk/infer/cpu_network.h) against the LibTorch model of dlk/model/model.h, whose
// eval-mode forward test_model.cpp checks against the unfolded modules: random weights, BN
// statistics away from the identity, every vector width this CPU can run.
#include "dlk/infer/cpu_network.h"
#include "dlk/kernels/cpu_isa.h"
#include "dlk/kernels/pointwise_kernels.h"
#include "dlk/model/checkpoint.h"
#include "dlk/model/model.h"

#include <catch2/catch.hpp>

#include <torch/torch.h>

using namespace dlk;
using kernels::CpuIsa;

namespace {

ModelConfig config(const std::string& v, int64_t base, int64_t in, int64_t classes) {
  ModelConfig c;
  c.variant = v, c.base_channels = base, c.in_channels = in, c.classes = classes;
  return c;
}

DLKUNet random_model(const ModelConfig& c) {
  DLKUNet m(c);
  torch::NoGradGuard no_grad;
  for (auto& [name, t] : model_tensors(m)) {
    if (!t.is_floating_point()) continue;
    if (name.find("running_var") != std::string::npos) t.uniform_(0.5, 2.0);
    else if (name.find("running_mean") != std::string::npos) t.uniform_(-0.5, 0.5);
    else if (name.find(".bn") != std::string::npos && name.find(".weight") != std::string::npos) t.uniform_(0.5, 1.5);
  }
  m->eval();
  return m;
}

// max |cpu - torch| over the logits' range, for each ISA.
void check_against_torch(const ModelConfig& c, int64_t h, int64_t w) {
  torch::manual_seed(11);
  auto m = random_model(c);
  auto x = torch::randn({2, c.in_channels, h, w});
  torch::Tensor ref;
  {
    torch::NoGradGuard no_grad;
    ref = m->forward(x).permute({0, 2, 3, 1}).contiguous(); // [n][h][w][classes]
  }
  const double range = (ref.max() - ref.min()).item<double>();
  REQUIRE(range > 0);
  for (CpuIsa isa : kernels::cpu_isas_available()) {
    CpuNetwork net(c, network_weights(m), isa);
    REQUIRE(net.supports(h, w));
    auto out = torch::empty_like(ref);
    for (int64_t i = 0; i < 2; ++i) net.forward(x[i].contiguous().data_ptr<float>(), h, w, out[i].data_ptr<float>());
    const double err = (out - ref).abs().max().item<double>();
    INFO(c.variant << " base " << c.base_channels << " " << h << "x" << w << " on " << kernels::cpu_isa_name(isa)
                   << ": max |diff| " << err << " over a range of " << range);
    CHECK(err <= 1e-4 * range);
  }
}

} // namespace

TEST_CASE("cpu network: DLKUNet-S logits as LibTorch's, every vector width", "[cpu_network]") {
  check_against_torch(config("S", 96, 1, 9), 40, 24);
}

TEST_CASE("cpu network: M and L, two input channels, four classes", "[cpu_network]") {
  check_against_torch(config("M", 32, 2, 4), 16, 40);
  check_against_torch(config("L", 64, 1, 4), 32, 16);
}

TEST_CASE("cpu network: what it does not run", "[cpu_network]") {
  torch::manual_seed(1);
  auto m = random_model(config("S", 96, 1, 9));
  CpuNetwork net(m->config, network_weights(m), CpuIsa::avx2);
  CHECK(net.supports(224, 224));
  CHECK_FALSE(net.supports(30, 32)); // not halved exactly by both poolings: LibTorch's padding path
  auto odd = random_model(config("S", 40, 1, 9)); // 40 channels fill no 16-channel panel
  CHECK_FALSE(CpuNetwork(odd->config, network_weights(odd), CpuIsa::avx2).supports(32, 32));
  auto weights = network_weights(m);
  weights.erase("enc1.lka.pw.weight");
  CHECK_THROWS_WITH(CpuNetwork(m->config, weights), Catch::Contains("enc1.lka.pw.weight"));
}

TEST_CASE("cpu network: the 1x1 kernel's outputs by definition", "[cpu_network]") {
  // A ReLU then the gate into channels [0, 32) of 40-channel pixels, and a ConvTranspose layout:
  // both checked against plain loops over the definition.
  const int cin = 5, rows = 13;
  std::vector<float> x(size_t(rows) * cin), w(size_t(128) * cin), b(128), g(size_t(rows) * 40);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(int(i * 7 % 11) - 5) / 4;
  for (size_t i = 0; i < w.size(); ++i) w[i] = float(int(i * 5 % 13) - 6) / 8;
  for (size_t i = 0; i < b.size(); ++i) b[i] = float(int(i % 3) - 1) / 2;
  for (size_t i = 0; i < g.size(); ++i) g[i] = float(i % 5) / 2;
  auto sum = [&](int m, int n) {
    double s = b[size_t(n)];
    for (int k = 0; k < cin; ++k) s += double(x[size_t(m) * cin + k]) * w[size_t(n) * cin + k];
    return s;
  };
  for (CpuIsa isa : kernels::cpu_isas_available()) {
    INFO(kernels::cpu_isa_name(isa));
    auto p = kernels::pack_pointwise(w.data(), b.data(), cin, 32, isa);
    std::vector<float> y(size_t(rows) * 40, -7.f);
    kernels::PointwiseOutput o;
    o.y = y.data(), o.ldy = 40, o.relu = true, o.gate = g.data(), o.ldg = 40;
    kernels::pointwise_cpu(x.data(), cin, rows, p, o);
    for (int m = 0; m < rows; ++m) {
      for (int n = 0; n < 32; ++n) CHECK(y[size_t(m) * 40 + n] == Approx(std::max(0.0, sum(m, n)) * g[size_t(m) * 40 + n]).margin(1e-6));
      for (int n = 32; n < 40; ++n) CHECK(y[size_t(m) * 40 + n] == -7.f); // not the layer's
    }
    // The 13 pixels as a 1 x 13 map through a ConvTranspose(k2, s2) to 32 channels: 128 outputs
    // ordered (a, b, o) land on pixel (a, 2j + b) of the 2 x 26 map.
    auto q = kernels::pack_pointwise(w.data(), b.data(), cin, 128, isa);
    std::vector<float> u(size_t(2) * 26 * 32, -7.f);
    kernels::PointwiseOutput up;
    up.y = u.data(), up.ldy = 32, up.up_width = rows, up.up_channels = 32;
    kernels::pointwise_cpu(x.data(), cin, rows, q, up);
    for (int a = 0; a < 2; ++a)
      for (int j = 0; j < rows; ++j)
        for (int bb = 0; bb < 2; ++bb)
          for (int oc = 0; oc < 32; ++oc)
            CHECK(u[(size_t(a) * 26 + 2 * j + bb) * 32 + oc] == Approx(sum(j, (a * 2 + bb) * 32 + oc)).margin(1e-6));
  }
}
