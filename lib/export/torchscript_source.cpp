#include "dlk/export/torchscript_source.h"

#include <fmt/format.h>

namespace dlk {

namespace {

// Each layer a line of the forward; values v0, v1, ...; buffers named by module path with '_'
// for '.' ("m1_" before an ensemble member's).
class ScriptSink : public LayerSink {
public:
  explicit ScriptSink(TorchScriptSource& s) : s_(s) {}
  void set_prefix(std::string p) { prefix_ = std::move(p); }
  std::string line(const std::string& expr) {
    std::string v = fmt::format("v{}", n_++);
    s_.code += fmt::format("    {} = {}\n", v, expr);
    return v;
  }
  std::string conv(const std::string& name, const std::string& x, const WeightArray& w, const WeightArray& b, int64_t groups,
                   int64_t dilation) override {
    const int64_t pad = dilation * (w.shape[2] - 1) / 2;
    return line(fmt::format("torch.conv2d({}, {}, {}, [1, 1], [{}, {}], [{}, {}], {})", x, buffer(name + ".weight", w),
                            buffer(name + ".bias", b), pad, pad, dilation, dilation, groups));
  }
  std::string relu(const std::string&, const std::string& x) override { return line(fmt::format("torch.relu({})", x)); }
  std::string mul(const std::string&, const std::string& a, const std::string& b) override { return line(a + " * " + b); }
  std::string max_pool(const std::string&, const std::string& x) override {
    return line(fmt::format("torch.max_pool2d({}, [2, 2], [2, 2])", x));
  }
  std::string up(const std::string& name, const std::string& x, const WeightArray& w, const WeightArray& b) override {
    return line(fmt::format("torch.conv_transpose2d({}, {}, {}, [2, 2])", x, buffer(name + ".weight", w), buffer(name + ".bias", b)));
  }
  std::string concat(const std::string&, const std::string& skip, const std::string& u) override {
    return line(fmt::format("torch.cat([{}, {}], 1)", skip, u));
  }

private:
  std::string buffer(const std::string& name, const WeightArray& a) {
    std::string id = prefix_ + name;
    for (char& c : id)
      if (c == '.' || c == '+') c = '_';
    s_.buffers.emplace_back(id, a);
    return "self." + id;
  }
  TorchScriptSource& s_;
  std::string prefix_;
  int n_ = 0;
};

} // namespace

TorchScriptSource torchscript_source(const std::vector<ExportNetwork>& nets, ModelOutput output, bool fp16) {
  check_export_networks(nets, output);
  TorchScriptSource src;
  src.code = "def forward(self, image):\n";
  ScriptSink s(src);
  const std::string x = fp16 ? s.line("image.to(torch.float16)") : "image";
  std::vector<std::string> scores;
  for (size_t i = 0; i < nets.size(); ++i) {
    s.set_prefix(nets.size() > 1 ? fmt::format("m{}_", i) : "");
    std::string y = emit_network(s, nets[i].config, nets[i].weights, x);
    if (fp16) y = s.line(y + ".to(torch.float32)");
    if (nets.size() > 1) y = s.line(fmt::format("torch.softmax({}, 1)", y));
    scores.push_back(y);
  }
  std::string y = scores[0];
  if (scores.size() > 1) {
    std::string sum = scores[0];
    for (size_t i = 1; i < scores.size(); ++i) sum += " + " + scores[i];
    y = s.line(fmt::format("({}) / {}.0", sum, scores.size()));
  } else if (output != ModelOutput::Logits) {
    y = s.line(fmt::format("torch.softmax({}, 1)", y));
  }
  if (output == ModelOutput::Labels) y = s.line(fmt::format("torch.argmax({}, 1)", y));
  src.code += "    return " + y + "\n";
  return src;
}

} // namespace dlk
