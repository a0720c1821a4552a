// dlk-export's graph without LibTorch: the layers DLKUNet's spec gives, BN folded by hand, missing
// or misshapen tensors named, ensembles checked, the metadata taken from a checkpoint's record,
// and the ONNX model read back with ONNX's own classes.
#include "dlk/core/error.h"
#include "dlk/export/model_metadata.h"
#include "dlk/export/onnx_model.h"

#include <catch2/catch.hpp>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <map>

using namespace dlk;

namespace {

// Every tensor of one EBlock as ../shared/spec/dlkunet-architecture.md names and shapes them,
// 0.5 + 0.001 x its index (so that no two elements are alike).
void block_weights(NetworkWeights& w, const std::string& m, int64_t cin, int64_t cout, const ModelConfig& c) {
  auto put = [&](const std::string& name, std::vector<int64_t> shape) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    std::vector<float> v(static_cast<size_t>(n));
    for (size_t i = 0; i < v.size(); ++i) v[i] = 0.5f + 0.001f * float(i);
    w[name] = {std::move(shape), std::move(v)};
  };
  auto conv = [&](const std::string& name, int64_t ci, int64_t co, int64_t k, int64_t groups) {
    put(name + ".weight", {co, ci / groups, k, k});
    put(name + ".bias", {co});
  };
  auto bn = [&](const std::string& name, int64_t ch) {
    for (const char* p : {".weight", ".bias", ".running_mean", ".running_var"}) put(name + p, {ch});
  };
  conv(m + ".sep1.dw", cin, cin, c.dw_kernel, cin);
  conv(m + ".sep1.pw", cin, cout, 1, 1);
  bn(m + ".bn1", cout);
  conv(m + ".sep2.dw", cout, cout, c.dw_kernel, cout);
  conv(m + ".sep2.pw", cout, cout, 1, 1);
  bn(m + ".bn2", cout);
  conv(m + ".lka.dw", cout, cout, c.lka_kernel, cout);
  conv(m + ".lka.dwd", cout, cout, c.lka_dilated_kernel, cout);
  conv(m + ".lka.pw", cout, cout, 1, 1);
}

ExportNetwork spec_network(const std::string& variant, int64_t classes = 3) {
  ExportNetwork n;
  n.config.variant = variant;
  n.config.in_channels = 2;
  n.config.classes = classes;
  n.config.base_channels = 2;
  const int d = n.config.depth();
  auto ch = [&](int i) { return int64_t(2) << i; };
  block_weights(n.weights, "stem", 2, ch(0), n.config);
  for (int i = 1; i <= d; ++i) block_weights(n.weights, "enc" + std::to_string(i), ch(i - 1), ch(i), n.config);
  for (int i = d - 1; i >= 0; --i) {
    const std::string m = "dfb" + std::to_string(i);
    n.weights[m + ".up.weight"] = {{ch(i + 1), ch(i), 2, 2}, std::vector<float>(size_t(ch(i + 1) * ch(i) * 4), 0.1f)};
    n.weights[m + ".up.bias"] = {{ch(i)}, std::vector<float>(size_t(ch(i)), 0.2f)};
    block_weights(n.weights, m + ".block", 2 * ch(i), ch(i), n.config);
  }
  n.weights["head.weight"] = {{classes, ch(0), 1, 1}, std::vector<float>(size_t(classes * ch(0)), 0.3f)};
  n.weights["head.bias"] = {{classes}, std::vector<float>(size_t(classes), 0.0f)};
  return n;
}

struct Layer {
  std::string op, name;
  int64_t groups = 0, dilation = 0;
  WeightArray w, b;
};

struct RecordingSink : LayerSink {
  std::vector<Layer> layers;
  std::string add(Layer l) {
    layers.push_back(std::move(l));
    return layers.back().name;
  }
  std::string conv(const std::string& n, const std::string&, const WeightArray& w, const WeightArray& b, int64_t g,
                   int64_t d) override {
    return add({"conv", n, g, d, w, b});
  }
  std::string relu(const std::string& n, const std::string&) override { return add({"relu", n}); }
  std::string mul(const std::string& n, const std::string&, const std::string&) override { return add({"mul", n}); }
  std::string max_pool(const std::string& n, const std::string&) override { return add({"pool", n}); }
  std::string up(const std::string& n, const std::string&, const WeightArray& w, const WeightArray& b) override {
    return add({"up", n, 0, 0, w, b});
  }
  std::string concat(const std::string& n, const std::string&, const std::string&) override { return add({"cat", n}); }
  size_t count(const std::string& op) const {
    size_t k = 0;
    for (const auto& l : layers) k += l.op == op;
    return k;
  }
  const Layer& find(const std::string& name) const {
    for (const auto& l : layers)
      if (l.name == name) return l;
    throw std::runtime_error("no layer " + name);
  }
};

} // namespace

TEST_CASE("export graph: the spec's layers for S, M and L", "[export]") {
  for (auto [variant, depth] : {std::pair<const char*, size_t>{"S", 2}, {"M", 3}, {"L", 4}}) {
    ExportNetwork n = spec_network(variant);
    RecordingSink s;
    CHECK(emit_network(s, n.config, n.weights, "x") == "head");
    const size_t blocks = 2 * depth + 1; // stem, depth encoders, depth decoders
    CHECK(s.count("conv") == 7 * blocks + 1); // 2 x (dw, pw), LKA dw, dwd, pw; the head
    CHECK(s.count("relu") == 2 * blocks);
    CHECK(s.count("mul") == blocks);
    CHECK(s.count("pool") == depth);
    CHECK(s.count("up") == depth);
    CHECK(s.count("cat") == depth);
  }
  ExportNetwork n = spec_network("S");
  RecordingSink s;
  emit_network(s, n.config, n.weights, "x");
  const Layer& dwd = s.find("enc1.lka.dwd");
  CHECK(dwd.dilation == 3);
  CHECK(dwd.groups == 4); // depthwise over enc1's 4 channels
  CHECK(dwd.w.shape == std::vector<int64_t>{4, 1, 7, 7});
  CHECK(s.find("stem.sep1.dw").groups == 2);
}

TEST_CASE("export graph: batch normalisation folded into the pointwise convolution", "[export]") {
  ExportNetwork n = spec_network("S");
  // stem.sep1.pw: 2 -> 2 channels; output channel 1 by hand.
  n.weights["stem.sep1.pw.weight"].values = {1, 2, 3, 4}; // [o][i]
  n.weights["stem.sep1.pw.bias"].values = {0, 0.5f};
  n.weights["stem.bn1.weight"].values = {1, 2};        // gamma
  n.weights["stem.bn1.bias"].values = {0, 0.25f};      // beta
  n.weights["stem.bn1.running_mean"].values = {0, 0.1f};
  n.weights["stem.bn1.running_var"].values = {1, 3};
  RecordingSink s;
  emit_network(s, n.config, n.weights, "x");
  const Layer& pw = s.find("stem.sep1.pw");
  const double scale = 2 / std::sqrt(3 + 1e-5); // gamma / sqrt(var + eps), eps of BatchNorm2d
  CHECK(pw.w.values[2] == Approx(3 * scale));
  CHECK(pw.w.values[3] == Approx(4 * scale));
  CHECK(pw.b.values[1] == Approx((0.5 - 0.1) * scale + 0.25));
  CHECK(pw.groups == 1);
}

TEST_CASE("export graph: a missing or misshapen tensor is named", "[export]") {
  ExportNetwork n = spec_network("S");
  n.weights.erase("enc2.lka.pw.bias");
  RecordingSink s;
  CHECK_THROWS_WITH(emit_network(s, n.config, n.weights, "x"), Catch::Contains("enc2.lka.pw.bias"));
  n = spec_network("S");
  n.weights["dfb0.up.weight"].shape = {4, 2, 3, 3};
  CHECK_THROWS_WITH(emit_network(s, n.config, n.weights, "x"), Catch::Contains("'dfb0.up.weight' is [4, 2, 3, 3]"));
}

TEST_CASE("export graph: ensembles", "[export]") {
  std::vector<ExportNetwork> two{spec_network("S"), spec_network("M")};
  CHECK_THROWS_AS(check_export_networks(two, ModelOutput::Logits), UsageError);
  CHECK_NOTHROW(check_export_networks(two, ModelOutput::Probabilities));
  two[1] = spec_network("M", 4);
  CHECK_THROWS_AS(check_export_networks(two, ModelOutput::Labels), Error);
  CHECK_THROWS(check_export_networks({}, ModelOutput::Labels));
}

TEST_CASE("export: ONNX model read back", "[export]") {
  OnnxOptions o;
  o.output = ModelOutput::Labels;
  o.fp16 = true;
  o.metadata = {{"classes", "[\"a\",\"b\",\"c\"]"}, {"axis", "z"}};
  const std::string bytes = onnx_model_bytes({spec_network("S"), spec_network("M")}, o);
  onnx::ModelProto m;
  REQUIRE(m.ParseFromString(bytes));
  CHECK(m.opset_import(0).version() == 17);
  CHECK(m.producer_name() == "dlk");
  REQUIRE(m.metadata_props_size() == 2);
  CHECK(m.metadata_props(1).key() == "axis");
  CHECK(m.metadata_props(1).value() == "z");
  const auto& g = m.graph();
  REQUIRE(g.input_size() == 1);
  const auto& in = g.input(0).type().tensor_type();
  CHECK(in.elem_type() == onnx::TensorProto::FLOAT);
  CHECK(in.shape().dim(0).dim_param() == "batch");
  CHECK(in.shape().dim(1).dim_value() == 2);
  CHECK(in.shape().dim(3).dim_param() == "width");
  CHECK(g.output(0).name() == "labels");
  CHECK(g.output(0).type().tensor_type().elem_type() == onnx::TensorProto::INT64);
  std::map<std::string, int> ops;
  for (const auto& node : g.node()) ++ops[node.op_type()];
  CHECK(ops["Mean"] == 1);
  CHECK(ops["Softmax"] == 2);
  CHECK(ops["ArgMax"] == 1);
  CHECK(ops["Cast"] == 3); // the input to fp16, each network's logits back to fp32
  CHECK(ops.count("BatchNormalization") == 0);
  CHECK(ops["Conv"] == 2 * (7 * 5 + 1) + 2 * 7); // S: 5 blocks, M: 7
  for (const auto& t : g.initializer()) CHECK(t.data_type() == onnx::TensorProto::FLOAT16);
  CHECK(g.initializer(0).name().rfind("m0/", 0) == 0);
}

TEST_CASE("export: metadata from a checkpoint's record", "[export]") {
  ExportDescription d;
  d.checkpoint = json::Value::parse(R"({"classes": ["background", "edema", "tumour"],
    "preprocessing": {"dataset": "brats", "channels": ["flair", "t1c"], "normalization": {"method": "zscore"},
                      "orientation": "canonical", "axis": 1, "dtype": "float16", "input_size": [96, 128],
                      "spacing": [1.5, 2], "label_map": null}})");
  ModelConfig c;
  c.variant = "M";
  c.in_channels = 2;
  c.classes = 3;
  d.checkpoint.set("model", c.to_json());
  d.sources = {{"/runs/a/final.dlkc", "ab12"}};
  d.network = "teacher";
  d.output = ModelOutput::Probabilities;
  std::vector<std::string> missing;
  const auto meta = model_metadata(d, &missing);
  std::map<std::string, std::string> m(meta.begin(), meta.end());
  CHECK(missing.empty());
  CHECK(m["dlk.checkpoints"] == R"([{"file":"final.dlkc","sha256":"ab12"}])");
  CHECK(m["dlk.network"] == "teacher");
  CHECK(m["model.input_multiple"] == "8");
  CHECK(m["model.output"] == "probabilities");
  CHECK(m["class_values"] == "[0,1,2]");
  CHECK(m["channels"] == R"(["flair","t1c"])");
  CHECK(m["orientation"] == "LPS");
  CHECK(m["axis"] == "y");
  CHECK(m["spacing"] == "[1.5,2]");
  CHECK(json::Value::parse(m["resize"]).at("mode").as_string() == "spacing");
  CHECK(json::Value::parse(m["resize"]).at("pad_to_multiple").as_int() == 32);
  CHECK(m.count("label_map") == 0);
  CHECK(m["dataset"] == "brats");
  ModelConfig deeper = c; // an ensemble of M and L takes multiples of L's 2^4
  deeper.variant = "L";
  d.architectures = {c, deeper};
  const auto ens = model_metadata(d);
  CHECK(std::find(ens.begin(), ens.end(), std::pair<std::string, std::string>{"model.input_multiple", "16"}) != ens.end());
  d.architectures.clear();

  d.checkpoint = json::Value::parse(R"({"classes": []})");
  d.checkpoint.set("model", ModelConfig().to_json());
  d.network.clear();
  const auto bare = model_metadata(d, &missing);
  CHECK(missing == std::vector<std::string>{"classes", "preprocessing"});
  CHECK(std::find_if(bare.begin(), bare.end(), [](auto& p) { return p.first == "normalization"; }) == bare.end());
}
