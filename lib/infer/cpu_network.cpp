#include "dlk/infer/cpu_network.h"

#include "dlk/core/error.h"
#include "dlk/kernels/depthwise_kernels.h"
#include "dlk/kernels/pointwise_kernels.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <vector>

namespace dlk {

namespace {

using kernels::CpuIsa;
using kernels::PointwiseOutput;
using kernels::PointwiseWeights;

struct Depthwise {
  int c = 0, k = 0, d = 1;
  kernels::AlignedFloats taps, bias; // [k*k][c], [c]
  int pad() const { return d * (k - 1) / 2; }
};

struct EBlock {
  int cin = 0, cout = 0;
  Depthwise dw1, dw2, lka_dw, lka_dwd;
  PointwiseWeights pw1, pw2, lka_pw; // pw1 and pw2 with BN folded in
};

// Collects the layers network_plan emits (BN already folded) under their module names.
class Layers : public LayerSink {
public:
  struct Conv {
    WeightArray w, b;
    int64_t groups = 1, dilation = 1;
  };
  std::map<std::string, Conv> convs;
  std::string conv(const std::string& name, const std::string&, const WeightArray& w, const WeightArray& b, int64_t groups,
                   int64_t dilation) override {
    convs[name] = Conv{w, b, groups, dilation};
    return name;
  }
  std::string up(const std::string& name, const std::string&, const WeightArray& w, const WeightArray& b) override {
    convs[name] = Conv{w, b, 1, 1};
    return name;
  }
  std::string relu(const std::string& name, const std::string&) override { return name; }
  std::string mul(const std::string& name, const std::string&, const std::string&) override { return name; }
  std::string max_pool(const std::string& name, const std::string&) override { return name; }
  std::string concat(const std::string& name, const std::string&, const std::string&) override { return name; }
  const Conv& at(const std::string& name) const {
    auto it = convs.find(name);
    if (it == convs.end()) throw Error(fmt::format("the network has no layer '{}'", name));
    return it->second;
  }
};

Depthwise depthwise(const Layers::Conv& c) {
  Depthwise d;
  d.c = int(c.w.shape[0]), d.k = int(c.w.shape[2]), d.d = int(c.dilation);
  const int kk = d.k * d.k;
  d.taps.resize(size_t(kk) * d.c);
  for (int ch = 0; ch < d.c; ++ch)
    for (int t = 0; t < kk; ++t) d.taps[size_t(t) * d.c + ch] = c.w.values[size_t(ch) * kk + t];
  d.bias.assign(c.b.values.begin(), c.b.values.end());
  return d;
}

PointwiseWeights pointwise(const Layers::Conv& c, CpuIsa isa) {
  return kernels::pack_pointwise(c.w.values.data(), c.b.values.data(), int(c.w.shape[1]), int(c.w.shape[0]), isa);
}

// ConvTranspose(k2, s2) weight [cin][cout][2][2] as a 1x1 conv to 4*cout outputs ordered (a, b, o).
PointwiseWeights up_pointwise(const Layers::Conv& c, CpuIsa isa) {
  const int cin = int(c.w.shape[0]), cout = int(c.w.shape[1]);
  std::vector<float> w(size_t(4) * cout * cin), b(size_t(4) * cout);
  for (int ab = 0; ab < 4; ++ab)
    for (int o = 0; o < cout; ++o) {
      b[size_t(ab) * cout + o] = c.b.values[size_t(o)];
      for (int ci = 0; ci < cin; ++ci) w[(size_t(ab) * cout + o) * cin + ci] = c.w.values[(size_t(ci) * cout + o) * 4 + ab];
    }
  return kernels::pack_pointwise(w.data(), b.data(), cin, 4 * cout, isa);
}

// Per-thread scratch, grown to the largest image seen; every map starts on a cache line.
struct Scratch {
  kernels::AlignedFloats input, pooled, deep, a, t1, t2, band;
  std::vector<kernels::AlignedFloats> cat;
};
float* grown(kernels::AlignedFloats& v, int64_t n) {
  if (int64_t(v.size()) < n) v.resize(size_t(n));
  return v.data();
}

} // namespace

struct CpuNetwork::Impl {
  ModelConfig config;
  CpuIsa isa;
  std::vector<EBlock> encoders; // stem, enc1 .. encD
  std::vector<PointwiseWeights> ups;
  std::vector<EBlock> decoders; // dfb D-1 .. 0
  PointwiseWeights head;

  EBlock block(const Layers& l, const std::string& m) const {
    EBlock b;
    b.dw1 = depthwise(l.at(m + ".sep1.dw"));
    b.pw1 = pointwise(l.at(m + ".sep1.pw"), isa);
    b.dw2 = depthwise(l.at(m + ".sep2.dw"));
    b.pw2 = pointwise(l.at(m + ".sep2.pw"), isa);
    b.lka_dw = depthwise(l.at(m + ".lka.dw"));
    b.lka_dwd = depthwise(l.at(m + ".lka.dwd"));
    b.lka_pw = pointwise(l.at(m + ".lka.pw"), isa);
    b.cin = b.pw1.cin, b.cout = b.pw1.cout;
    return b;
  }

  // Rows a band: about 512 KB of the widest of the block's maps, so that a band's depthwise
  // output, the 1x1's inputs and the gate stay in the core's L2.
  static int band_rows(int64_t w, int channels) { return int(std::max<int64_t>(1, 512 * 1024 / (w * channels * 4))); }

  // Output rows [r0, r1) of a depthwise conv into `band`, which holds just those rows.
  void depthwise_band(const Depthwise& d, const float* x, float* band, int64_t h, int64_t w, int r0, int r1) const {
    kernels::depthwise_band_nhwc_cpu(x, d.taps.data(), d.bias.data(), band, int(h), int(w), d.c, d.k, d.d, r0, r1, isa);
  }

  // A SepConv-BN-ReLU: the depthwise conv a band ahead of the 1x1 that reads it, into a band
  // buffer that stays in cache from one band to the next.
  void separable(const Depthwise& dw, const PointwiseWeights& pw, const float* x, float* band, float* y, int64_t h,
                 int64_t w) const {
    const int rows = band_rows(w, std::max(pw.cin, pw.cout));
    for (int r0 = 0; r0 < h; r0 += rows) {
      const int r1 = int(std::min<int64_t>(h, r0 + rows));
      depthwise_band(dw, x, band, h, w, r0, r1);
      PointwiseOutput o;
      o.y = y + int64_t(r0) * w * pw.cout, o.ldy = pw.cout, o.relu = true;
      kernels::pointwise_cpu(band, pw.cin, int64_t(r1 - r0) * w, pw, o);
    }
  }

  // EBlock of x [h][w][cin] into out (pixels ldo apart).
  void eblock(const EBlock& b, const float* x, int64_t h, int64_t w, float* out, int64_t ldo, Scratch& s) const {
    const int64_t hw = h * w;
    float* a = grown(s.a, hw * b.cout);
    float* t1 = grown(s.t1, hw * b.cout);
    float* t2 = grown(s.t2, hw * b.cout);
    const int widest = std::max(b.cin, b.cout);
    float* band = grown(s.band, std::max<int64_t>(band_rows(w, widest) * widest, band_rows(w, b.cout) * b.cout) * w);
    separable(b.dw1, b.pw1, x, band, t1, h, w);
    separable(b.dw2, b.pw2, t1, band, t2, h, w);
    // LKA: t2 * pw(dwd(dw(t2))). The 5x5 runs far enough ahead for the dilated 7x7's band.
    const int rows = band_rows(w, b.cout), reach = b.lka_dwd.pad();
    int done5 = 0;
    for (int r0 = 0; r0 < h; r0 += rows) {
      const int r1 = int(std::min<int64_t>(h, r0 + rows)), need = int(std::min<int64_t>(h, r1 + reach));
      if (need > done5) depthwise_band(b.lka_dw, t2, a + int64_t(done5) * w * b.cout, h, w, done5, need);
      done5 = std::max(done5, need);
      depthwise_band(b.lka_dwd, a, band, h, w, r0, r1);
      PointwiseOutput o;
      o.y = out + int64_t(r0) * w * ldo, o.ldy = ldo;
      o.gate = t2 + int64_t(r0) * w * b.cout, o.ldg = b.cout;
      kernels::pointwise_cpu(band, b.cout, int64_t(r1 - r0) * w, b.lka_pw, o);
    }
  }

  // 2x2 max-pooling of the first c channels of x [h][w] (pixels ldx apart) into y [h/2][w/2][c].
  static void max_pool(const float* x, int64_t ldx, int c, int64_t h, int64_t w, float* y) {
    for (int64_t i = 0; i < h / 2; ++i)
      for (int64_t j = 0; j < w / 2; ++j) {
        const float* p = x + ((2 * i) * w + 2 * j) * ldx;
        const float *q = p + ldx, *r = p + w * ldx, *t = r + ldx;
        float* o = y + (i * (w / 2) + j) * c;
        for (int ch = 0; ch < c; ++ch) o[ch] = std::max(std::max(p[ch], q[ch]), std::max(r[ch], t[ch]));
      }
  }

  void forward(const float* x, int64_t h, int64_t w, float* logits) const {
    thread_local Scratch s;
    const int depth = config.depth(), in = int(config.in_channels);
    s.cat.resize(size_t(depth));
    const float* input = x;
    if (in > 1) { // planes to channels-last
      float* t = grown(s.input, h * w * in);
      for (int c = 0; c < in; ++c)
        for (int64_t p = 0; p < h * w; ++p) t[p * in + c] = x[c * h * w + p];
      input = t;
    }
    // Encoder: level i < depth writes into the first half of its decoder's concatenation.
    int64_t lh = h, lw = w;
    for (int i = 0; i <= depth; ++i) {
      const int c = int(config.channels(i));
      const float* src = input;
      if (i > 0) {
        const int pc = int(config.channels(i - 1));
        src = grown(s.pooled, (lh / 2) * (lw / 2) * pc);
        max_pool(s.cat[size_t(i - 1)].data(), 2 * pc, pc, lh, lw, s.pooled.data());
        lh /= 2, lw /= 2;
      }
      if (i < depth) eblock(encoders[size_t(i)], src, lh, lw, grown(s.cat[size_t(i)], lh * lw * 2 * c), 2 * c, s);
      else eblock(encoders[size_t(i)], src, lh, lw, grown(s.deep, lh * lw * c), c, s);
    }
    // Decoder: the ConvTranspose writes the second half of the concatenation; the level's output
    // replaces the deeper map it was made from.
    for (int k = 0; k < depth; ++k) {
      const int i = depth - 1 - k, c = int(config.channels(i));
      PointwiseOutput o;
      o.y = s.cat[size_t(i)].data() + c, o.ldy = 2 * c, o.up_width = int(lw), o.up_channels = c;
      kernels::pointwise_cpu(s.deep.data(), config.channels(i + 1), lh * lw, ups[size_t(k)], o);
      lh *= 2, lw *= 2;
      eblock(decoders[size_t(k)], s.cat[size_t(i)].data(), lh, lw, grown(s.deep, lh * lw * c), c, s);
    }
    PointwiseOutput o;
    o.y = logits, o.ldy = int(config.classes);
    kernels::pointwise_cpu(s.deep.data(), config.channels(0), h * w, head, o);
  }
};

CpuNetwork::CpuNetwork(const ModelConfig& config, const NetworkWeights& weights, CpuIsa isa) : impl_(new Impl) {
  Layers l;
  emit_network(l, config, weights, "x"); // checks every tensor's presence and shape
  Impl& m = *impl_;
  m.config = config, m.isa = isa;
  const int depth = config.depth();
  m.encoders.push_back(m.block(l, "stem"));
  for (int i = 1; i <= depth; ++i) m.encoders.push_back(m.block(l, fmt::format("enc{}", i)));
  for (int i = depth - 1; i >= 0; --i) {
    m.ups.push_back(up_pointwise(l.at(fmt::format("dfb{}.up", i)), isa));
    m.decoders.push_back(m.block(l, fmt::format("dfb{}.block", i)));
  }
  // A few classes fill a third of a 32-channel AVX-512 panel: 16-channel AVX2 panels waste less.
  m.head = pointwise(l.at("head"), isa == CpuIsa::avx512 && config.classes <= 16 ? CpuIsa::avx2 : isa);
}

CpuNetwork::~CpuNetwork() = default;

bool CpuNetwork::supports(int64_t h, int64_t w) const {
  const int64_t m = int64_t(1) << impl_->config.depth();
  return h > 0 && w > 0 && h % m == 0 && w % m == 0 && impl_->config.channels(0) % kernels::pointwise_panel_width(impl_->isa) == 0;
}

void CpuNetwork::forward(const float* x, int64_t h, int64_t w, float* logits) const { impl_->forward(x, h, w, logits); }

} // namespace dlk
