#include "dlk/checkpoint.h"
#include "dlk/crc32.h"
#include "dlk/error.h"
#include "dlk/io.h"
#include "dlk/torch_compat.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstring>

namespace dlk {

namespace {
constexpr unsigned char kMagic[8] = {0x89, 'D', 'L', 'K', 'C', '\r', '\n', 0x1A};
constexpr size_t kHeader = 24, kTrailer = 16, kAlign = 64;
constexpr uint32_t kMaxMeta = 64u << 20;

void put32(unsigned char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (8 * i));
}
uint32_t get32(const unsigned char* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint64_t align(uint64_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

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
  std::vector<torch::Tensor> data;
  json::Array table;
  uint64_t offset = 0;
  for (auto& [name, t] : ckpt.tensors) {
    torch::Tensor c = t.detach().to(torch::kCPU).contiguous();
    const uint64_t bytes = uint64_t(c.numel()) * c.element_size();
    json::Value e;
    e.set("name", name);
    e.set("dtype", dtype_name(c.scalar_type()));
    e.set("shape", std::vector<int64_t>(c.sizes().begin(), c.sizes().end()));
    e.set("offset", offset);
    e.set("bytes", bytes);
    e.set("crc32", int64_t(crc32(c.data_ptr(), bytes)));
    table.push_back(std::move(e));
    data.push_back(c);
    offset = align(offset + bytes);
  }
  json::Value meta = ckpt.meta.is_null() ? json::Value(json::Object{}) : ckpt.meta;
  meta.set("format", "dlk-checkpoint");
  meta.set("tensors", json::Value(std::move(table)));
  const std::string m = meta.dump();

  unsigned char h[kHeader] = {};
  std::memcpy(h, kMagic, 8);
  h[8] = 1; // major
  h[10] = 0; // minor
  put32(h + 16, uint32_t(m.size()));
  put32(h + 20, crc32(m.data(), m.size(), crc32(h, 20)));

  OutputFile out(path);
  out.write(h, kHeader);
  out.write(m);
  const uint64_t start = align(kHeader + m.size());
  std::string pad(kAlign, '\0');
  out.write(pad.data(), size_t(start - kHeader - m.size()));
  uint64_t at = 0;
  for (auto& c : data) {
    const uint64_t bytes = uint64_t(c.numel()) * c.element_size();
    out.write(c.data_ptr(), bytes);
    out.write(pad.data(), size_t(align(at + bytes) - at - bytes));
    at = align(at + bytes);
  }
  unsigned char t[kTrailer] = {'D', 'L', 'K', 'Z'};
  const uint64_t total = start + at + kTrailer;
  for (int i = 0; i < 8; ++i) t[8 + i] = uint8_t(total >> (8 * i));
  out.write(t, kTrailer);
  out.commit();
}

Checkpoint load_checkpoint(const std::string& path) {
  RandomAccessFile f(path);
  unsigned char h[kHeader];
  f.read_at(0, h, kHeader, "checkpoint header");
  if (std::memcmp(h, kMagic, 8) != 0) fail(path, "not a dlk checkpoint (bad magic)");
  if (h[8] != 1 || h[9] != 0) fail(path, fmt::format("checkpoint format version {} is not supported", h[8] | h[9] << 8));
  const uint32_t mlen = get32(h + 16);
  if (mlen == 0 || mlen > kMaxMeta) fail(path, "corrupt checkpoint header");
  std::string m(mlen, '\0');
  f.read_at(kHeader, m.data(), mlen, "checkpoint metadata");
  if (crc32(m.data(), m.size(), crc32(h, 20)) != get32(h + 20)) fail(path, "checkpoint header or metadata checksum mismatch");
  unsigned char t[kTrailer];
  if (f.size() < kTrailer) fail(path, "truncated checkpoint");
  f.read_at(f.size() - kTrailer, t, kTrailer, "checkpoint trailer");
  uint64_t total = 0;
  for (int i = 0; i < 8; ++i) total |= uint64_t(t[8 + i]) << (8 * i);
  if (std::memcmp(t, "DLKZ", 4) != 0 || total != f.size())
    fail(path, fmt::format("truncated or damaged checkpoint ({} bytes, its trailer is missing or says otherwise)", f.size()));

  Checkpoint ck;
  const uint64_t start = align(kHeader + mlen);
  try {
    ck.meta = json::Value::parse(m);
    for (auto& e : ck.meta.at("tensors").as_array("tensors")) {
      const std::string name = e.at("name").as_string("tensor name");
      const auto type = dtype_of(e.at("dtype").as_string("dtype"), path);
      std::vector<int64_t> shape;
      int64_t n = 1;
      for (auto& d : e.at("shape").as_array("shape")) {
        shape.push_back(d.as_int("shape"));
        if (shape.back() < 0 || shape.back() > (int64_t(1) << 40)) fail(path, fmt::format("tensor {}: bad shape", name));
        n *= shape.back();
      }
      const uint64_t off = uint64_t(e.at("offset").as_int("offset")), bytes = uint64_t(e.at("bytes").as_int("bytes"));
      torch::Tensor x = torch::empty(shape, torch::TensorOptions().dtype(type));
      if (uint64_t(n) * x.element_size() != bytes) fail(path, fmt::format("tensor {}: size disagrees with its shape", name));
      if (start + off + bytes + kTrailer > f.size()) fail(path, fmt::format("tensor {} lies beyond the end of the file", name));
      f.read_at(start + off, x.data_ptr(), bytes, "tensor " + name);
      if (crc32(x.data_ptr(), bytes) != uint32_t(e.at("crc32").as_int("crc32")))
        fail(path, fmt::format("tensor {}: checksum mismatch (corrupt checkpoint)", name));
      ck.tensors.emplace_back(name, x);
    }
  } catch (const Error& e) {
    fail_naming(path, e, "checkpoint metadata: ");
  }
  return ck;
}

NamedTensors model_tensors(const DLKUNet& model) {
  NamedTensors out;
  for (const auto& p : model->named_parameters(true)) out.emplace_back(p.key(), p.value());
  for (const auto& b : model->named_buffers(true)) out.emplace_back(b.key(), b.value());
  return out;
}

void load_model_tensors(DLKUNet& model, const Checkpoint& ck, const std::string& path) {
  torch::NoGradGuard no_grad;
  size_t used = 0;
  for (auto& [name, dst] : model_tensors(model)) {
    const torch::Tensor* src = ck.find(name);
    if (!src) fail(path, fmt::format("checkpoint lacks tensor {}", name));
    if (src->sizes() != dst.sizes())
      fail(path, fmt::format("tensor {} has shape {} in the checkpoint, the model wants {}", name, c10::str(src->sizes()),
                             c10::str(dst.sizes())));
    torch::Tensor d = dst; // shares storage with the module's tensor
    d.copy_(*src);
    ++used;
  }
  size_t model_side = 0;
  for (auto& kv : ck.tensors)
    if (kv.first.rfind("optim/", 0) != 0) ++model_side;
  if (used != model_side) fail(path, fmt::format("checkpoint holds {} model tensors, the model has {}", model_side, used));
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

json::Value preprocessing_json(const Dataset& d, int64_t height, int64_t width) {
  json::Value p;
  p.set("dataset", d.name);
  p.set("channels", d.channels);
  p.set("normalization", d.normalization);
  p.set("label_map", d.label_map);
  p.set("axis", d.axis);
  p.set("dtype", d.dtype);
  p.set("input_size", std::vector<int64_t>{height, width});
  return p;
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
    if (p->at("axis").as_int("axis") != d.axis) return fmt::format("axis {} vs {}", p->at("axis").as_int(), d.axis);
  }
  return {};
}

DLKUNet load_model(const std::string& path, const ModelConfig* expect, Checkpoint* out) {
  Checkpoint ck = load_checkpoint(path);
  ModelConfig cfg;
  try {
    cfg = ModelConfig::from_json(ck.meta.at("model"));
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
