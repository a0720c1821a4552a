#include "dlk/model/checkpoint.h"
#include "dlk/core/error.h"
#include "dlk/core/random_access_file.h"
#include "dlk/model/checkpoint_format.h"
#include "dlk/model/torch_compat.h"
#include "dlk/shard/shard_meta.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace dlk {

namespace {
// The same names as checkpoint_format::dtype_size, which validated them before any tensor exists.
struct DType {
  const char* name;
  torch::ScalarType type;
};
constexpr DType kTypes[] = {{"float32", torch::kFloat32}, {"float64", torch::kFloat64}, {"float16", torch::kFloat16},
                            {"bfloat16", torch::kBFloat16}, {"int64", torch::kInt64}, {"int32", torch::kInt32},
                            {"uint8", torch::kUInt8}};
const char* dtype_name(torch::ScalarType t) {
  for (auto& d : kTypes)
    if (d.type == t) return d.name;
  throw Error(fmt::format("checkpoint: unsupported tensor type {}", c10::toString(t)));
}
torch::ScalarType dtype_of(const std::string& s, const std::string& path) {
  for (auto& d : kTypes)
    if (s == d.name) return d.type;
  fail(path, fmt::format("unknown tensor type '{}'", s));
}
} // namespace

const torch::Tensor* Checkpoint::find(const std::string& name) const {
  for (auto& kv : tensors)
    if (kv.first == name) return &kv.second;
  return nullptr;
}

void save_checkpoint(const std::string& path, const Checkpoint& ckpt) {
  std::vector<torch::Tensor> keep; // CPU, contiguous copies alive while their bytes are written
  std::vector<CheckpointTensorBytes> tensors;
  for (auto& [name, t] : ckpt.tensors) {
    torch::Tensor c = t.detach().to(torch::kCPU).contiguous();
    tensors.push_back({name, dtype_name(c.scalar_type()), std::vector<int64_t>(c.sizes().begin(), c.sizes().end()),
                       c.data_ptr(), uint64_t(c.numel()) * c.element_size()});
    keep.push_back(std::move(c));
  }
  write_checkpoint(path, ckpt.meta, tensors);
}

Checkpoint load_checkpoint(const std::string& path) {
  RandomAccessFile f(path);
  // The whole table is validated first: only then is anything allocated, and only what it says.
  CheckpointIndex ix = read_checkpoint_index(f);
  Checkpoint ck;
  ck.meta = std::move(ix.meta);
  for (auto& t : ix.tensors) {
    torch::Tensor x = torch::empty(t.shape, torch::TensorOptions().dtype(dtype_of(t.dtype, path)));
    read_checkpoint_tensor(f, t, x.data_ptr());
    ck.tensors.emplace_back(t.name, x);
  }
  return ck;
}

NamedTensors model_tensors(const DLKUNet& model) {
  NamedTensors out;
  for (const auto& p : model->named_parameters(true)) out.emplace_back(p.key(), p.value());
  for (const auto& b : model->named_buffers(true)) out.emplace_back(b.key(), b.value());
  return out;
}

NetworkWeights network_weights(const DLKUNet& model) {
  NetworkWeights w;
  for (const auto& [name, t] : model_tensors(model)) {
    if (!t.is_floating_point()) continue;
    auto c = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
    w.emplace(name, WeightArray{c.sizes().vec(), std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel())});
  }
  return w;
}

void load_model_tensors(DLKUNet& model, const Checkpoint& ck, const std::string& path, const std::string& prefix) {
  torch::NoGradGuard no_grad;
  size_t used = 0;
  for (auto& [name, dst] : model_tensors(model)) {
    const torch::Tensor* src = ck.find(prefix + name);
    if (!src) fail(path, fmt::format("checkpoint lacks tensor {}{}", prefix, name));
    if (src->sizes() != dst.sizes())
      fail(path, fmt::format("tensor {}{} has shape {} in the checkpoint, the model wants {}", prefix, name,
                             c10::str(src->sizes()), c10::str(dst.sizes())));
    torch::Tensor d = dst; // shares storage with the module's tensor
    d.copy_(*src);
    ++used;
  }
  size_t model_side = 0; // module paths have no '/'; "optim/state" and "teacher/..." are not the model's
  for (auto& kv : ck.tensors)
    if (prefix.empty() ? kv.first.find('/') == std::string::npos : kv.first.rfind(prefix, 0) == 0) ++model_side;
  if (used != model_side)
    fail(path, fmt::format("checkpoint holds {} {}model tensors, the model has {}", model_side, prefix, used));
}

Checkpoint make_checkpoint(const DLKUNet& model, const std::vector<std::string>& classes, const json::Value& extra) {
  Checkpoint ck;
  ck.meta.set("format", "dlk-checkpoint");
  ck.meta.set("model", model->config.to_json());
  ck.meta.set("classes", classes);
  ck.meta.set("in_channels", model->config.in_channels);
  ck.meta.set("tool", "dlk " DLK_VERSION);
  ck.meta.set("libtorch", TORCH_VERSION);
  if (extra.is_object())
    for (auto& kv : extra.as_object()) ck.meta.set(kv.first, kv.second);
  ck.tensors = model_tensors(model);
  return ck;
}

json::Value preprocessing_json(const Dataset& d, int64_t height, int64_t width, const std::vector<double>& spacing) {
  json::Value p;
  p.set("dataset", d.name);
  p.set("channels", d.channels);
  p.set("normalization", d.normalization);
  p.set("label_map", d.label_map);
  if (d.orientation != "stored") p.set("orientation", d.orientation);
  p.set("axis", d.axis);
  p.set("dtype", d.dtype);
  p.set("input_size", std::vector<int64_t>{height, width});
  if (!spacing.empty()) p.set("spacing", spacing);
  return p;
}

std::string preprocessing_orientation(const json::Value& p) {
  const json::Value* o = p.find("orientation");
  return o ? o->as_string("preprocessing.orientation") : "stored";
}

std::string checkpoint_dataset_mismatch(const Checkpoint& ck, const Dataset& d) {
  auto list = [](const std::vector<std::string>& v) { return fmt::format("[{}]", fmt::join(v, ", ")); };
  const auto classes = ck.meta.at("classes").as_strings("classes");
  if (classes != d.classes) return fmt::format("classes {} vs {}", list(classes), list(d.classes));
  const int64_t in = ck.meta.at("in_channels").as_int("in_channels");
  if (in != int64_t(d.channels.size()))
    return fmt::format("input channels {} vs {} ({})", in, d.channels.size(), list(d.channels));
  if (const json::Value* p = ck.meta.find("preprocessing")) {
    if (p->at("channels").as_strings("channels") != d.channels)
      return fmt::format("channels {} vs {}", list(p->at("channels").as_strings()), list(d.channels));
    if (p->at("normalization") != d.normalization)
      return fmt::format("normalization {} vs {}", p->at("normalization").dump(), d.normalization.dump());
    if (preprocessing_orientation(*p) != d.orientation)
      return fmt::format("orientation {} vs {}", preprocessing_orientation(*p), d.orientation);
    if (p->at("axis").as_int("axis") != d.axis) return fmt::format("axis {} vs {}", p->at("axis").as_int(), d.axis);
  }
  return {};
}

std::string checkpoint_network(const Checkpoint& ck) {
  const json::Value* semi = ck.meta.find("semi");
  return semi ? semi->at("model").as_string("semi.model") : std::string();
}

void load_network(DLKUNet& model, const Checkpoint& ck, const std::string& path, const std::string& network) {
  const std::string held = checkpoint_network(ck);
  if (held.empty()) fail(path, fmt::format("holds one network, not a {} (it was not trained with dlk-train --semi)", network));
  if (network != "teacher" && network != "student") throw UsageError(fmt::format("--network: '{}' (teacher or student)", network));
  load_model_tensors(model, ck, path, network == held ? "" : network + "/");
}

DLKUNet load_model(const std::string& path, const ModelConfig* expect, Checkpoint* out) {
  Checkpoint ck = load_checkpoint(path);
  ModelConfig cfg;
  try {
    cfg = ModelConfig::from_json(ck.meta.at("model"));
    // Names become table cells, CSV fields and file names downstream (dlk-shard(5)'s rule).
    if (const json::Value* c = ck.meta.find("classes")) {
      const auto classes = c->as_strings("classes");
      if (!classes.empty() && int64_t(classes.size()) != cfg.classes) // none: a bare model (tests, parity)
        throw Error(fmt::format("classes: {} names for a model of {} classes", classes.size(), cfg.classes));
      if (std::string why = names_problem(classes, "class name"); !why.empty()) throw Error("classes: " + why);
    }
    if (const json::Value* p = ck.meta.find("preprocessing"))
      if (const json::Value* ch = p->find("channels"))
        if (std::string why = names_problem(ch->as_strings("preprocessing.channels"), "channel name", false); !why.empty())
          throw Error("preprocessing.channels: " + why);
  } catch (const Error& e) {
    fail(path, e.what());
  }
  if (expect) {
    std::string d = expect->difference(cfg);
    if (!d.empty()) fail(path, fmt::format("checkpoint does not match: asked for {}", d));
  }
  DLKUNet model(cfg);
  load_model_tensors(model, ck, path);
  if (out) *out = std::move(ck);
  return model;
}

} // namespace dlk
