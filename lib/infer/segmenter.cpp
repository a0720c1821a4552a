#include "dlk/infer/segmenter.h"
#include "dlk/core/bounded_queue.h"
#include "dlk/core/error.h"
#include "dlk/core/thread_group.h"
#include "dlk/infer/cpu_network.h"
#include "dlk/io/resampling.h"
#include "dlk/io/slices.h"
#include "dlk/kernels/depthwise_kernels.h"
#include "dlk/model/depthwise_conv.h"
#include "dlk/model/torch_compat.h"
#include "dlk/prep/prep_case.h"

#include <fmt/format.h>

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <thread>
#include <filesystem>

namespace dlk {

namespace F = torch::nn::functional;

Segmenter::Segmenter(const std::vector<std::string>& paths, const InferOptions& opt) : opt_(opt) {
  if (paths.empty()) throw UsageError("no checkpoint: give -m CHECKPOINT");
  const std::string& path = paths[0];
  model_ = load_model(path, nullptr, &ckpt_);
  if (!opt_.network.empty()) load_network(model_, ckpt_, path, opt_.network);
  const json::Value* p = ckpt_.meta.find("preprocessing");
  if (!p) fail(path, "checkpoint has no preprocessing record (was it written by dlk-train?)");
  axis_ = int(p->at("axis").as_int("preprocessing.axis"));
  canonical_ = preprocessing_orientation(*p) == "canonical";
  auto size = p->at("input_size").as_numbers("preprocessing.input_size");
  if (size.size() != 2) fail(path, "preprocessing.input_size needs two numbers");
  height_ = int64_t(size[0]);
  width_ = int64_t(size[1]);
  if (const json::Value* s = p->find("spacing")) {
    spacing_ = s->as_numbers("preprocessing.spacing");
    if (spacing_.size() != 2) fail(path, "preprocessing.spacing needs two numbers");
    for (double x : spacing_)
      if (std::string why = target_spacing_problem(x); !why.empty()) fail(path, "preprocessing.spacing: " + why);
  }
  const torch::Device dev(opt_.device);
  if (dev.is_cuda() && !compat::cuda_available()) throw UsageError("--device cuda: no CUDA device");
  if (opt_.resize != "labels" && opt_.resize != "logits") throw UsageError(fmt::format("--resize: '{}' (labels or logits)", opt_.resize));
  if (opt_.depthwise != "dlk" && opt_.depthwise != "torch") throw UsageError(fmt::format("--depthwise: '{}' (dlk or torch)", opt_.depthwise));
  use_depthwise_kernels(opt_.depthwise == "dlk");
  ensemble_.push_back(model_);
  for (size_t i = 1; i < paths.size(); ++i) { // the ensemble's others: the same task, the same input
    Checkpoint other;
    ensemble_.push_back(load_model(paths[i], nullptr, &other));
    if (!opt_.network.empty()) load_network(ensemble_.back(), other, paths[i], opt_.network);
    for (const char* key : {"classes", "in_channels", "preprocessing"}) {
      const json::Value *a = other.meta.find(key), *b = ckpt_.meta.find(key);
      if (!a || !b || *a != *b)
        fail(paths[i], fmt::format("its {} differ from {}'s: an ensemble's checkpoints segment alike", key, path));
    }
  }
  for (auto& m : ensemble_) {
    m->to(dev);
    m->eval();
  }
  if (dev.is_cuda()) at::globalContext().setBenchmarkCuDNN(true); // fastest algorithms per shape
  if (opt_.prefetch < 0) throw UsageError("--prefetch must be 0 or more");
  lane_ = std::make_unique<DeviceLane>(dev);
  // On a CPU the network runs on dlk's own kernels (dlk/infer/cpu_network.h) except in bf16 with
  // AMX, where oneDNN's bf16 convolutions are faster, with --depthwise torch, or where
  // DLK_CPU_NETWORK=libtorch asks for LibTorch's (to compare).
  const char* engine = std::getenv("DLK_CPU_NETWORK");
  if (dev.is_cpu() && !uses_cpu_bf16(opt_) && opt_.depthwise == "dlk" && !(engine && std::string(engine) == "libtorch"))
    for (auto& m : ensemble_) cpu_networks_.push_back(std::make_unique<CpuNetwork>(m->config, network_weights(m)));
  // Slices in parallel, one thread each, where the network runs on dlk's kernels or in bf16 on a
  // CPU (there oneDNN runs every convolution). Not with LibTorch in fp32, which sends a one-thread
  // 1x1 convolution of one slice to its im2col path and the system BLAS (Debian's: the reference
  // one, 20x slower).
  workers_ = uses_cpu_bf16(opt_) || !cpu_networks_.empty() ? std::max(1, torch::get_num_threads()) : 1;
}

std::vector<std::string> Segmenter::classes() const { return ckpt_.meta.at("classes").as_strings("classes"); }

NormalizeSpec Segmenter::normalization() const {
  return NormalizeSpec::from_json(ckpt_.meta.at("preprocessing").at("normalization"));
}

bool uses_cpu_bf16(const InferOptions& o) {
  return torch::Device(o.device).is_cpu() && o.precision == "bf16" && kernels::cpu_has_native_bf16() && kernels::cpu_has_amx_bf16();
}

bool Segmenter::runs_cpu_network(int64_t h, int64_t w) const { return !cpu_networks_.empty() && cpu_networks_[0]->supports(h, w); }

torch::Tensor Segmenter::model_logits(const torch::Tensor& xd, bool amp, bool cpu_bf16) {
  const bool own = runs_cpu_network(xd.size(2), xd.size(3));
  auto forward = [&](size_t i, const torch::Tensor& in) {
    if (own) { // each slice on this thread; the logits channels-last, as the network makes them
      const auto x = in.contiguous();
      const int64_t n = x.size(0), h = x.size(2), w = x.size(3), k = model_->config.classes;
      auto out = torch::empty({n, k, h, w}, x.options().memory_format(torch::MemoryFormat::ChannelsLast));
      for (int64_t j = 0; j < n; ++j)
        cpu_networks_[i]->forward(x[j].data_ptr<float>(), h, w, out.data_ptr<float>() + j * h * w * k);
      return out;
    }
    compat::CudaAutocast ac(amp, opt_.precision == "fp16" ? at::kHalf : at::kBFloat16);
    compat::CpuAutocast cpu_ac(cpu_bf16, at::kBFloat16);
    return ensemble_[i]->forward(in).to(torch::kFloat32);
  };
  if (!opt_.tta && ensemble_.size() == 1) return forward(0, xd);
  torch::Tensor p; // the mean of the softmax over flips and models, returned as log-probabilities
  for (size_t m = 0; m < ensemble_.size(); ++m) {
    auto add = [&](const torch::Tensor& q) { p = p.defined() ? p + q : q; };
    add(torch::softmax(forward(m, xd), 1));
    if (!opt_.tta) continue;
    add(torch::softmax(forward(m, xd.flip({3})), 1).flip({3}));
    add(torch::softmax(forward(m, xd.flip({2})), 1).flip({2}));
    add(torch::softmax(forward(m, xd.flip({2, 3})), 1).flip({2, 3}));
  }
  return (p / double(ensemble_.size() * (opt_.tta ? 4 : 1))).clamp_min(1e-12).log();
}

Segmenter::Fit Segmenter::fit(const InferCase& c) const {
  Fit f;
  int64_t n;
  slice_shape(c.geometry, axis_, n, f.h, f.w);
  f.th = height_;
  f.tw = width_;
  f.resample = !spacing_.empty();
  if (f.resample) { // the slice resampled as dlk-train resampled it, whole: the network is convolutional
    try {
      const auto [th, tw] = resampled_size(f.h, f.w, slice_spacing(c.geometry, axis_), {{spacing_[0], spacing_[1]}});
      f.th = th;
      f.tw = tw;
    } catch (const Error& e) { // before anything of that size is allocated
      fail(c.source, fmt::format("case {}: {} (the model's training spacing)", c.id, e.what()));
    }
  }
  // Padded to a multiple of 32 when resampled, so that every level's pooling halves it exactly.
  f.ph = f.resample ? (f.th + 31) / 32 * 32 : f.th;
  f.pw = f.resample ? (f.tw + 31) / 32 * 32 : f.tw;
  return f;
}

torch::Tensor Segmenter::to_model(torch::Tensor x, const Fit& f) const {
  if (x.size(2) != f.th || x.size(3) != f.tw) {
    auto o = F::InterpolateFuncOptions().size(std::vector<int64_t>{f.th, f.tw}).align_corners(false);
    if (f.resample) o.mode(torch::kBilinear); // as dlk-train resamples
    else o.mode(torch::kBicubic);             // as dlk-train resizes
    x = F::interpolate(x, o);
  }
  if (f.ph != f.th || f.pw != f.tw) x = torch::constant_pad_nd(x, {0, f.pw - f.tw, 0, f.ph - f.th});
  return x;
}

std::pair<torch::Tensor, torch::Tensor> Segmenter::from_model(torch::Tensor logits, const Fit& f) const {
  if (f.ph != f.th || f.pw != f.tw) logits = logits.narrow(2, 0, f.th).narrow(3, 0, f.tw);
  const bool same = f.h == f.th && f.w == f.tw;
  torch::Tensor labels, probs;
  if (opt_.resize == "logits" || opt_.probabilities) {
    auto back = same ? logits
                     : F::interpolate(logits, F::InterpolateFuncOptions().size(std::vector<int64_t>{f.h, f.w}).mode(torch::kBilinear).align_corners(false));
    if (opt_.resize == "logits") labels = back.argmax(1);
    if (opt_.probabilities) probs = torch::softmax(back, 1);
  }
  if (opt_.resize == "labels") { // argmax at the model size, nearest neighbour back (TransUNet)
    labels = logits.argmax(1);
    if (!same)
      labels = F::interpolate(labels.unsqueeze(1).to(torch::kFloat32), F::InterpolateFuncOptions().size(std::vector<int64_t>{f.h, f.w}).mode(torch::kNearest))
                   .squeeze(1)
                   .to(torch::kInt64);
  }
  return {labels, probs};
}

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
} // namespace

torch::Tensor Segmenter::host_batch(const InferCase& c, const Fit& fit, int64_t s0, int64_t b, const DeviceLane& lane) const {
  const int64_t nc = int64_t(c.channels.size());
  auto x = lane.host_empty({b, nc, fit.h, fit.w}, torch::kFloat32);
  for (int64_t i = 0; i < b; ++i)
    for (int64_t ch = 0; ch < nc; ++ch)
      extract_slice(c.channels[size_t(ch)].data(), c.geometry, axis_, s0 + i, x[i][ch].data_ptr<float>());
  return x;
}

DeviceLane::Transfer Segmenter::device_batch(DeviceLane& lane, const torch::Tensor& x, const Fit& fit, StageSeconds& t) {
  const torch::Device dev(opt_.device);
  const int64_t b = x.size(0), nc = x.size(1);
  auto lap = [at = Clock::now()](double& stage) mutable { // adds the time since the last lap to `stage`
    const auto now = Clock::now();
    stage += std::chrono::duration<double>(now - at).count();
    at = now;
  };
  auto xd = lane.upload(x);
  // On a GPU a batch is padded with zero slices to a multiple of 8 (their outputs dropped):
  // few distinct shapes, so cuDNN's algorithm search (on) runs a few times per process, not for
  // every case's remainder; at most 7 wasted slices per case.
  if (const int64_t padded = std::min(opt_.batch, (b + 7) / 8 * 8); dev.is_cuda() && padded > b)
    xd = torch::cat({xd, torch::zeros({padded - b, nc, fit.h, fit.w}, xd.options())});
  xd = to_model(xd, fit);
  // Channels-last where the depthwise convs prefer it: on a CPU (oneDNN's convolutions are much
  // faster so, and dlk's kernels as fast) and on a GPU with cuDNN's or dlk's NHWC kernels.
  if (depthwise_prefers_channels_last(dev, false) && !runs_cpu_network(fit.ph, fit.pw)) xd = channels_last_input(xd);
  lap(t.preprocess);
  const torch::Tensor logits = model_logits(xd, dev.is_cuda() && opt_.precision != "fp32", uses_cpu_bf16(opt_));
  lap(t.network); // on a GPU: the launches; the device's own time is in device_busy_seconds()
  auto [labels, probs] = from_model(logits, fit);
  if (labels.size(0) > b) labels = labels.narrow(0, 0, b);
  if (probs.defined() && probs.size(0) > b) probs = probs.narrow(0, 0, b);
  auto r = lane.download(labels, probs);
  lap(t.postprocess);
  return r;
}

void Segmenter::put_batch(const InferCase& c, int64_t s0, const DeviceLane::Transfer& r, Segmentation& out) const {
  const int64_t b = r.labels.size(0), h = r.labels.size(1), w = r.labels.size(2);
  std::vector<uint16_t> one(size_t(h * w));
  for (int64_t i = 0; i < b; ++i) {
    const int32_t* src = r.labels[i].data_ptr<int32_t>();
    for (int64_t j = 0; j < h * w; ++j) one[size_t(j)] = uint16_t(src[j]);
    insert_slice(one.data(), c.geometry, axis_, s0 + i, out.labels.data());
    if (r.probabilities.defined())
      for (int64_t cl = 0; cl < r.probabilities.size(1); ++cl) {
        auto pc = r.probabilities[i][cl].contiguous();
        insert_slice(pc.data_ptr<float>(), c.geometry, axis_, s0 + i, out.probabilities[size_t(cl)].data());
      }
  }
}

void Segmenter::segment_batch(const InferCase& c, const Fit& fit, int64_t s0, int64_t b, Segmentation& out, StageSeconds& t,
                              DeviceLane& lane, double& busy) {
  const auto t0 = Clock::now();
  const torch::Tensor x = host_batch(c, fit, s0, b, lane);
  t.preprocess += seconds_since(t0);
  DeviceLane::Transfer r = device_batch(lane, x, fit, t);
  const auto t1 = Clock::now();
  busy += r.wait();
  put_batch(c, s0, r, out);
  t.postprocess += seconds_since(t1);
}

// Three threads: this one runs the network (on a GPU: launches it), one cuts the next batches out
// of the volume ahead of it and one puts the last batches' labels in behind it, each at most
// `prefetch` batches away. A batch's arithmetic is the same as one after another: the same labels.
void Segmenter::segment_pipelined(const InferCase& c, const Fit& fit, Segmentation& out) {
  struct Done {
    int64_t s0;
    DeviceLane::Transfer r;
  };
  int64_t n, h, w;
  slice_shape(c.geometry, axis_, n, h, w);
  BoundedQueue<std::pair<int64_t, torch::Tensor>> prepared(size_t(opt_.prefetch));
  BoundedQueue<Done> computed(size_t(opt_.prefetch));
  StageSeconds ahead, behind;
  double busy = 0;
  std::exception_ptr failed[2];
  auto stop = [&](std::exception_ptr& slot) {
    slot = std::current_exception();
    prepared.abort();
    computed.abort();
  };
  ThreadGroup stages;
  stages.start(1, [&] {
    try {
      for (int64_t s0 = 0; s0 < n; s0 += opt_.batch) {
        const auto t0 = Clock::now();
        auto x = host_batch(c, fit, s0, std::min(opt_.batch, n - s0), *lane_);
        ahead.preprocess += seconds_since(t0);
        if (!prepared.push({s0, std::move(x)})) return;
      }
      prepared.close();
    } catch (...) {
      stop(failed[0]);
    }
  });
  stages.start(1, [&] {
    try {
      while (auto d = computed.pop()) {
        busy += d->r.wait(); // the device's own time; waiting is not a stage's
        const auto t0 = Clock::now();
        put_batch(c, d->s0, d->r, out);
        behind.postprocess += seconds_since(t0);
      }
    } catch (...) {
      stop(failed[1]);
    }
  });
  try {
    while (auto p = prepared.pop())
      if (!computed.push({p->first, device_batch(*lane_, p->second, fit, seconds_)})) break;
    computed.close();
  } catch (...) {
    prepared.abort();
    computed.abort();
    throw; // ThreadGroup joins the stages as this unwinds
  }
  stages.join();
  for (auto& e : failed)
    if (e) std::rethrow_exception(e);
  seconds_.preprocess += ahead.preprocess;
  seconds_.postprocess += behind.postprocess;
  busy_ += busy;
}

Segmentation Segmenter::segment(const InferCase& c) {
  torch::NoGradGuard no_grad;
  const int64_t k = model_->config.classes, nc = int64_t(c.channels.size());
  if (nc != model_->config.in_channels)
    throw Error(fmt::format("case {}: {} channels, the model wants {}", c.id, nc, model_->config.in_channels));
  int64_t n, h, w;
  slice_shape(c.geometry, axis_, n, h, w);
  const Fit fit = this->fit(c);
  const int64_t voxels = c.geometry.voxels();
  if (opt_.probabilities && k > kMaxCaseValues / std::max<int64_t>(voxels, 1))
    fail(c.source, fmt::format("case {}: the probabilities of {} classes over {} voxels are more than {} values (16 GiB); "
                               "segment it without --probabilities and --probability-maps",
                               c.id, k, voxels, kMaxCaseValues));
  Segmentation out;
  out.labels.assign(size_t(voxels), 0);
  if (opt_.probabilities) out.probabilities.assign(size_t(k), std::vector<float>(size_t(voxels)));
  const int64_t batches = (n + opt_.batch - 1) / opt_.batch;
  // LibTorch's fp32 network (sizes the CPU network does not run) splits each operation instead.
  const bool own = uses_cpu_bf16(opt_) || runs_cpu_network(fit.ph, fit.pw);
  const int workers = own ? int(std::min<int64_t>(workers_, batches)) : 1;
  auto batch = [&](int64_t i, StageSeconds& t, DeviceLane& lane, double& busy) {
    segment_batch(c, fit, i * opt_.batch, std::min(opt_.batch, n - i * opt_.batch), out, t, lane, busy);
  };
  if (workers <= 1 && opt_.prefetch > 0 && batches > 1) {
    segment_pipelined(c, fit, out);
  } else if (workers <= 1) {
    for (int64_t i = 0; i < batches; ++i) batch(i, seconds_, *lane_, busy_);
  } else {
    // On a CPU in bf16 each of the threads segments every workers-th batch alone, rather than all
    // of them splitting every operation of one slice: no barrier after each of the network's
    // hundreds of small operations, each slice's activations in one core's cache; 1.3x the rate
    // on 2 cores (BENCHMARKS.md). The labels are the same: a slice's arithmetic does not depend
    // on the threads.
    std::vector<StageSeconds> t(static_cast<size_t>(workers));
    std::vector<double> busy(static_cast<size_t>(workers));
    std::vector<std::exception_ptr> failed(static_cast<size_t>(workers));
    std::vector<std::thread> pool;
    const int threads = torch::get_num_threads();
    for (int wk = 0; wk < workers; ++wk)
      pool.emplace_back([&, wk] {
        try {
          at::set_num_threads(1); // this thread's OpenMP teams: itself
          torch::NoGradGuard no_grad_here;
          DeviceLane lane(torch::kCPU);
          for (int64_t i = wk; i < batches; i += workers) batch(i, t[size_t(wk)], lane, busy[size_t(wk)]);
        } catch (...) {
          failed[size_t(wk)] = std::current_exception();
        }
      });
    for (auto& th : pool) th.join();
    at::set_num_threads(threads);
    for (auto& e : failed)
      if (e) std::rethrow_exception(e);
    for (auto& x : t) { // concurrent: a stage's time is the workers' mean
      seconds_.preprocess += x.preprocess / workers;
      seconds_.network += x.network / workers;
      seconds_.postprocess += x.postprocess / workers;
    }
    for (double x : busy) busy_ += x / workers;
  }
  slices_ += n;
  return out;
}

InferCase read_case(const std::string& id, const std::vector<std::string>& images, const NormalizeSpec& norm, bool canonical,
                    const std::string& series) {
  const auto t0 = std::chrono::steady_clock::now();
  InferCase c;
  c.id = id;
  c.source = images.at(0);
  const std::string file = std::filesystem::path(images[0]).filename().string();
  c.extension = file.substr(strip_volume_extension(file).size());
  if (c.extension.empty()) c.extension = ".nii.gz"; // a DICOM series' labels as NIfTI (or DICOM SEG)
  if (c.extension == ".mhd") c.extension = ".mha"; // written as single files
  if (c.extension == ".nhdr") c.extension = ".nrrd";
  std::vector<Volume> volumes = read_channels(images, series); // checked as dlk-prep checks its inputs
  const auto t1 = std::chrono::steady_clock::now();
  for (Volume& v : volumes) {
    c.geometry = c.stored = v.geometry;
    normalize(v.voxels, norm);
    c.channels.push_back(std::move(v.voxels));
  }
  if (canonical) {
    c.orientation = canonical_reorientation(c.stored);
    c.geometry = reoriented_geometry(c.stored, *c.orientation);
    if (!c.orientation->identity())
      for (auto& ch : c.channels) ch = reorient(ch, c.stored, *c.orientation);
  }
  c.spent.read = std::chrono::duration<double>(t1 - t0).count();
  c.spent.preprocess = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  return c;
}

} // namespace dlk
