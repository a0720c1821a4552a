// Shapes, parameters and MACs per stage, read off the modules' own options and weights.
#include "dlk/model/model_summary.h"
#include "dlk/core/error.h"
#include "dlk/model/checkpoint.h"
#include "dlk/model/model.h"
#include "dlk/model/torch_compat.h"

#include <fmt/format.h>

#include <torch/torch.h>

namespace dlk {

namespace {

struct Count {
  int64_t params = 0, true_macs = 0, paper_macs = 0;
  void operator+=(const Count& o) {
    params += o.params;
    true_macs += o.true_macs;
    paper_macs += o.paper_macs;
  }
};
struct Shape {
  int64_t c, h, w;
};

int64_t count(const torch::Tensor& t) { return t.defined() ? t.numel() : 0; }

// A conv: out = floor((in + 2p - d(k-1) - 1) / s) + 1. Each output pixel costs one MAC per
// weight (grouped convs included); the paper counts (weights + biases) per output pixel.
Shape conv(const torch::nn::Conv2d& m, Shape in, Count& n) {
  const auto& o = m->options;
  auto side = [&](int64_t x, int i) {
    const int64_t p = compat::conv_padding(o)[size_t(i)];
    return (x + 2 * p - o.dilation()->at(size_t(i)) * (o.kernel_size()->at(size_t(i)) - 1) - 1) / o.stride()->at(size_t(i)) + 1;
  };
  Shape out{o.out_channels(), side(in.h, 0), side(in.w, 1)};
  const int64_t w = count(m->weight), b = count(m->bias);
  n.params += w + b;
  n.true_macs += w * out.h * out.w;
  n.paper_macs += (w + b) * out.h * out.w;
  return out;
}

// ConvTranspose(k2, s2): each input pixel meets every weight once (true MACs = weights x input
// pixels); torchinfo multiplies by the output pixels, 4x more (spec 4, quirk 2).
Shape conv_transpose(const torch::nn::ConvTranspose2d& m, Shape in, Count& n) {
  const auto& o = m->options;
  Shape out{o.out_channels(), (in.h - 1) * o.stride()->at(0) + o.kernel_size()->at(0),
            (in.w - 1) * o.stride()->at(1) + o.kernel_size()->at(1)};
  const int64_t w = count(m->weight), b = count(m->bias);
  n.params += w + b;
  n.true_macs += w * in.h * in.w;
  n.paper_macs += (w + b) * out.h * out.w;
  return out;
}

void batch_norm(const torch::nn::BatchNorm2d& m, Count& n) {
  const int64_t p = count(m->weight) + count(m->bias);
  n.params += p;
  n.paper_macs += p; // torchinfo: batch (1) x parameters
}

Shape sep(const SepConv& m, Shape in, Count& n) { return conv(m->pw, conv(m->dw, in, n), n); }

Shape eblock(const EBlock& m, Shape in, Count& n) {
  Shape t = sep(m->sep1, in, n);
  batch_norm(m->bn1, n);
  t = sep(m->sep2, t, n);
  batch_norm(m->bn2, n);
  Shape a = conv(m->lka->pw, conv(m->lka->dwd, conv(m->lka->dw, t, n), n), n);
  return a;
}

std::string si(int64_t v) { return fmt::format("{:.3f}G", double(v) / 1e9); }
std::string grouped(int64_t v) {
  std::string s = std::to_string(v), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}

} // namespace

std::vector<StageSummary> summarize(const DLKUNet& model, int64_t height, int64_t width) {
  std::vector<StageSummary> out;
  const ModelConfig& cfg = model->config;
  auto add = [&](std::string name, Shape s, const Count& n) {
    out.push_back({std::move(name), {s.c, s.h, s.w}, n.params, n.true_macs, n.paper_macs});
  };
  std::vector<Shape> skips;
  Count n;
  Shape s = eblock(model->stem, {cfg.in_channels, height, width}, n);
  add(fmt::format("stem EBlock({}->{})", cfg.in_channels, s.c), s, n);
  skips.push_back(s);
  for (size_t i = 0; i < model->encoders.size(); ++i) {
    n = Count{};
    Shape pooled{s.c, s.h / 2, s.w / 2}; // max-pool 2x2, stride 2, floor
    s = eblock(model->encoders[i], pooled, n);
    add(fmt::format("enc{} pool+EBlock({}->{})", i + 1, pooled.c, s.c), s, n);
    skips.push_back(s);
  }
  for (size_t k = 0; k < model->decoders.size(); ++k) {
    n = Count{};
    const Shape skip = skips[skips.size() - 2 - k];
    Shape u = conv_transpose(model->decoders[k]->up, s, n);
    u.h = skip.h; // zero-padded to the skip's size
    u.w = skip.w;
    const int64_t cin = s.c;
    s = eblock(model->decoders[k]->block, {skip.c + u.c, skip.h, skip.w}, n);
    add(fmt::format("DFB({}->{})", cin, s.c), s, n);
  }
  n = Count{};
  s = conv(model->head, s, n);
  add(fmt::format("head 1x1 ({}->{})", cfg.channels(0), s.c), s, n);
  return out;
}

std::string format_summary(const DLKUNet& model, int64_t height, int64_t width) {
  const auto stages = summarize(model, height, width);
  const ModelConfig& c = model->config;
  std::string out = fmt::format("DLKUNet-{}  input {}x{}x{}  classes {}  base channels {}  kernels dw {} lka {} + {} (dilation {})\n\n",
                                c.variant, c.in_channels, height, width, c.classes, c.base_channels, c.dw_kernel,
                                c.lka_kernel, c.lka_dilated_kernel, c.lka_dilation);
  out += fmt::format("{:<28} {:>16} {:>12} {:>10} {:>12}\n", "stage", "output", "params", "true MACs", "paper MACs");
  int64_t p = 0, t = 0, q = 0;
  for (auto& s : stages) {
    out += fmt::format("{:<28} {:>16} {:>12} {:>10} {:>12}\n", s.name, fmt::format("{}x{}x{}", s.output[0], s.output[1], s.output[2]),
                       grouped(s.params), si(s.true_macs), si(s.paper_macs));
    p += s.params;
    t += s.true_macs;
    q += s.paper_macs;
  }
  out += fmt::format("{:<28} {:>16} {:>12} {:>10} {:>12}\n", "total", "", grouped(p), si(t), si(q));
  out += fmt::format("\nparams:     {:>16} ({:.2f}M)\n", grouped(p), double(p) / 1e6);
  out += fmt::format("true MACs:  {:>16} ({}; conv weight multiply-accumulates, batch 1)\n", grouped(t), si(t));
  out += fmt::format("paper MACs: {:>16} ({}; the paper's \"FLOPs\": torchinfo's mult-adds, biases counted,\n"
                     "                             ConvTranspose x output pixels, BN parameters)\n",
                     grouped(q), si(q));
  return out;
}

StageSummary summarize_total(const DLKUNet& model, int64_t height, int64_t width) {
  StageSummary total;
  for (auto& st : summarize(model, height, width)) {
    total.params += st.params;
    total.true_macs += st.true_macs;
    total.paper_macs += st.paper_macs;
  }
  return total;
}

std::pair<double, double> checkpoint_cost(const std::string& path) {
  Checkpoint ck;
  DLKUNet m = load_model(path, nullptr, &ck);
  int64_t h = 224, w = 224;
  if (auto p = ck.meta.find("preprocessing")) {
    auto s = p->at("input_size").as_numbers();
    h = int64_t(s[0]);
    w = int64_t(s[1]);
  }
  const StageSummary total = summarize_total(m, h, w);
  return {double(total.params) / 1e6, double(total.paper_macs) / 1e9};
}

std::string configurations_table(const std::string& format) {
  std::string out;
  const bool md = format == "markdown", tex = format == "latex";
  if (!md && !tex && format != "csv") throw UsageError(fmt::format("--format: '{}' (markdown, csv, latex)", format));
  out += md ? "| Model | Channels Num | Params (M) | Params | FLOPs (G) | true MACs (G) |\n|---|---|---|---|---|---|\n"
            : tex ? "\\begin{tabular}{llrrrr}\n\\hline\nModel & Channels Num & Params (M) & Params & FLOPs (G) & true MACs (G) \\\\\n\\hline\n"
                  : "model,channels,params_m,params,flops_g,true_macs_g\n";
  for (const char* v : {"S", "M", "L"}) {
    ModelConfig cfg;
    cfg.variant = v;
    DLKUNet m(cfg);
    const StageSummary total = summarize_total(m, 224, 224);
    const int64_t params = total.params, paper = total.paper_macs, macs = total.true_macs;
    std::string ch;
    for (int i = 0; i < cfg.depth(); ++i) ch += (i ? "," : "") + std::to_string(cfg.channels(i));
    ch = "{" + ch + "}";
    const std::string name = std::string("DLKUNet-") + v;
    out += md ? fmt::format("| {} | {} | {:.2f} | {} | {:.2f} | {:.2f} |\n", name, ch, params / 1e6, params, paper / 1e9, macs / 1e9)
          : tex ? fmt::format("{} & \\{{{}\\}} & {:.2f} & {} & {:.2f} & {:.2f} \\\\\n", name, ch.substr(1, ch.size() - 2), params / 1e6,
                              params, paper / 1e9, macs / 1e9)
                : fmt::format("{},\"{}\",{:.2f},{},{:.3f},{:.3f}\n", name, ch, params / 1e6, params, paper / 1e9, macs / 1e9);
  }
  if (tex) out += "\\hline\n\\end{tabular}\n";
  return out;
}

} // namespace dlk
