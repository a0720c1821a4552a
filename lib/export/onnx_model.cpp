#include "dlk/export/onnx_model.h"

#include "dlk/core/error.h"
#include "dlk/core/half.h"

#include <fmt/format.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

namespace dlk {

namespace {

constexpr int kOpset = 17;    // the first with every operator here in its current form; ORT 1.14+
constexpr int kIrVersion = 8; // the IR of opset 17

void ints(onnx::NodeProto& n, const char* name, const std::vector<int64_t>& v) {
  onnx::AttributeProto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}
void integer(onnx::NodeProto& n, const char* name, int64_t v) {
  onnx::AttributeProto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}

// Layers as ONNX nodes; values and initializers are named by module path, with "m1/" and so on
// before the names of an ensemble's networks.
class OnnxSink : public LayerSink {
public:
  OnnxSink(onnx::GraphProto& g, bool fp16) : g_(g), fp16_(fp16) {}
  void set_prefix(std::string p) { prefix_ = std::move(p); }

  onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& in, const std::string& out) {
    onnx::NodeProto* n = g_.add_node();
    n->set_op_type(op);
    n->set_name(out);
    for (const auto& i : in) n->add_input(i);
    n->add_output(out);
    return *n;
  }

  std::string conv(const std::string& name, const std::string& x, const WeightArray& w, const WeightArray& b, int64_t groups,
                   int64_t dilation) override {
    const int64_t k = w.shape[2], pad = dilation * (k - 1) / 2;
    auto& n = node("Conv", {x, initializer(name + ".weight", w), initializer(name + ".bias", b)}, prefix_ + name);
    ints(n, "kernel_shape", {k, k});
    ints(n, "pads", {pad, pad, pad, pad});
    ints(n, "dilations", {dilation, dilation});
    integer(n, "group", groups);
    return n.output(0);
  }
  std::string relu(const std::string& name, const std::string& x) override { return node("Relu", {x}, prefix_ + name).output(0); }
  std::string mul(const std::string& name, const std::string& a, const std::string& b) override {
    return node("Mul", {a, b}, prefix_ + name).output(0);
  }
  std::string max_pool(const std::string& name, const std::string& x) override {
    auto& n = node("MaxPool", {x}, prefix_ + name);
    ints(n, "kernel_shape", {2, 2});
    ints(n, "strides", {2, 2});
    return n.output(0);
  }
  std::string up(const std::string& name, const std::string& x, const WeightArray& w, const WeightArray& b) override {
    auto& n = node("ConvTranspose", {x, initializer(name + ".weight", w), initializer(name + ".bias", b)}, prefix_ + name);
    ints(n, "kernel_shape", {2, 2});
    ints(n, "strides", {2, 2});
    return n.output(0);
  }
  std::string concat(const std::string& name, const std::string& skip, const std::string& u) override {
    auto& n = node("Concat", {skip, u}, prefix_ + name);
    integer(n, "axis", 1);
    return n.output(0);
  }

private:
  std::string initializer(const std::string& name, const WeightArray& a) {
    onnx::TensorProto* t = g_.add_initializer();
    t->set_name(prefix_ + name);
    for (int64_t d : a.shape) t->add_dims(d);
    if (fp16_) {
      std::vector<uint16_t> h(a.values.size());
      floats_to_halves(a.values.data(), h.data(), h.size());
      t->set_data_type(onnx::TensorProto::FLOAT16);
      t->set_raw_data(h.data(), h.size() * sizeof(uint16_t)); // little-endian, as ONNX's raw_data
    } else {
      t->set_data_type(onnx::TensorProto::FLOAT);
      t->set_raw_data(a.values.data(), a.values.size() * sizeof(float));
    }
    return t->name();
  }
  onnx::GraphProto& g_;
  bool fp16_;
  std::string prefix_;
};

void tensor_type(onnx::ValueInfoProto& v, const std::string& name, int elem, const std::vector<std::string>& dims,
                 const std::vector<int64_t>& fixed) {
  v.set_name(name);
  auto* t = v.mutable_type()->mutable_tensor_type();
  t->set_elem_type(elem);
  for (size_t i = 0; i < dims.size(); ++i) {
    auto* d = t->mutable_shape()->add_dim();
    if (dims[i].empty()) d->set_dim_value(fixed[i]);
    else d->set_dim_param(dims[i]);
  }
}

// The networks' outputs combined into the graph's output `out`: logits as they are; softmax (an
// ensemble: the mean of each network's); or the argmax of either.
void add_head(OnnxSink& s, const std::vector<std::string>& scores, ModelOutput output, const std::string& out) {
  std::string y = scores[0];
  if (scores.size() > 1) {
    std::vector<std::string> soft;
    for (const auto& v : scores) {
      integer(s.node("Softmax", {v}, v + ".softmax"), "axis", 1);
      soft.push_back(v + ".softmax");
    }
    y = s.node("Mean", soft, output == ModelOutput::Probabilities ? out : "mean_probabilities").output(0);
    if (output == ModelOutput::Probabilities) return;
  }
  if (output == ModelOutput::Logits) {
    s.node("Identity", {y}, out);
  } else if (output == ModelOutput::Probabilities) {
    integer(s.node("Softmax", {y}, out), "axis", 1);
  } else {
    auto& am = s.node("ArgMax", {y}, out);
    integer(am, "axis", 1);
    integer(am, "keepdims", 0);
  }
}

} // namespace

std::string onnx_model_bytes(const std::vector<ExportNetwork>& nets, const OnnxOptions& opt) {
  check_export_networks(nets, opt.output);
  onnx::ModelProto model;
  model.set_ir_version(kIrVersion);
  model.add_opset_import()->set_version(kOpset); // the default domain
  model.set_producer_name("dlk");
  model.set_producer_version(opt.producer_version);
  model.set_doc_string(fmt::format("DLKUNet-{}{}, exported by dlk-export", nets[0].config.variant,
                                   nets.size() > 1 ? fmt::format(" (an ensemble of {})", nets.size()) : ""));
  for (const auto& [k, v] : opt.metadata) {
    auto* p = model.add_metadata_props();
    p->set_key(k);
    p->set_value(v);
  }
  onnx::GraphProto& g = *model.mutable_graph();
  g.set_name(fmt::format("DLKUNet-{}", nets[0].config.variant));
  tensor_type(*g.add_input(), kOnnxInputName, onnx::TensorProto::FLOAT, {"batch", "", "height", "width"},
              {0, nets[0].config.in_channels, 0, 0});
  OnnxSink s(g, opt.fp16);
  std::string x = kOnnxInputName;
  if (opt.fp16) { // the deployer feeds fp32; the network computes in fp16
    x = "image.fp16";
    integer(s.node("Cast", {kOnnxInputName}, x), "to", onnx::TensorProto::FLOAT16);
  }
  std::vector<std::string> scores; // each network's logits, in fp32
  for (size_t i = 0; i < nets.size(); ++i) {
    s.set_prefix(nets.size() > 1 ? fmt::format("m{}/", i) : "");
    std::string y = emit_network(s, nets[i].config, nets[i].weights, x);
    if (opt.fp16) {
      integer(s.node("Cast", {y}, y + ".fp32"), "to", onnx::TensorProto::FLOAT);
      y += ".fp32";
    }
    scores.push_back(y);
  }
  const std::string out = model_output_name(opt.output);
  add_head(s, scores, opt.output, out);
  if (opt.output == ModelOutput::Labels)
    tensor_type(*g.add_output(), out, onnx::TensorProto::INT64, {"batch", "height", "width"}, {});
  else
    tensor_type(*g.add_output(), out, onnx::TensorProto::FLOAT, {"batch", "", "height", "width"}, {0, nets[0].config.classes, 0, 0});
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    throw Error(fmt::format("ONNX's checker refuses the model dlk-export built (a bug: please report it): {}", e.what()));
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes)) throw Error("the ONNX model could not be serialized (over 2 GiB?)");
  return bytes;
}

} // namespace dlk
