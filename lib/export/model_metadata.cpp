#include "dlk/export/model_metadata.h"

#include "dlk/model/model_config.h"

#include <algorithm>
#include <filesystem>

namespace dlk {

namespace {

// The resize rule of dlk-infer (lib/infer/segmenter.cpp), for a runtime to redo: to the input size
// (bicubic), or to the training spacing (bilinear, then zero-padded right and bottom to a
// multiple of 32); labels back to the slice's size by nearest neighbour (half-pixel centres, as
// PyTorch's "bicubic", "bilinear" with align_corners=False and "nearest" sample).
json::Value resize_rule(const json::Value& p) {
  json::Value r;
  if (const json::Value* s = p.find("spacing")) {
    r.set("mode", "spacing");
    r.set("spacing", *s);
    r.set("image", "bilinear");
    r.set("pad_to_multiple", 32);
  } else {
    r.set("mode", "size");
    r.set("size", p.at("input_size"));
    r.set("image", "bicubic");
  }
  r.set("align_corners", false);
  r.set("labels", "nearest");
  return r;
}

} // namespace

std::vector<std::pair<std::string, std::string>> model_metadata(const ExportDescription& d, std::vector<std::string>* missing) {
  std::vector<std::pair<std::string, std::string>> m;
  auto put = [&](const std::string& k, const std::string& v) { m.emplace_back(k, v); };
  const ModelConfig cfg = ModelConfig::from_json(d.checkpoint.at("model"));
  put("dlk.metadata_version", std::to_string(kModelMetadataVersion));
  put("dlk.version", DLK_VERSION);
  json::Value sources = json::Array{};
  for (const auto& s : d.sources) {
    json::Value one;
    one.set("file", std::filesystem::path(s.file).filename().string());
    one.set("sha256", s.sha256);
    sources.array().push_back(one);
  }
  put("dlk.checkpoints", sources.dump());
  put("dlk.network", d.network.empty() ? "model" : d.network);
  put("model.variant", cfg.variant);
  put("model.architecture", cfg.to_json().dump());
  put("model.output", model_output_name(d.output));
  put("model.precision", d.fp16 ? "fp16" : "fp32");
  int depth = cfg.depth(); // an ensemble's input must suit its deepest network
  for (const ModelConfig& a : d.architectures) depth = std::max(depth, a.depth());
  put("model.input_multiple", std::to_string(int64_t(1) << depth));
  if (const json::Value* c = d.checkpoint.find("classes"); c && !c->as_array().empty()) {
    put("classes", c->dump());
    std::vector<int64_t> values;
    for (int64_t i = 0; i < cfg.classes; ++i) values.push_back(i);
    put("class_values", json::Value(values).dump());
  } else if (missing) {
    missing->push_back("classes");
  }
  const json::Value* p = d.checkpoint.find("preprocessing");
  if (!p) {
    if (missing) missing->push_back("preprocessing");
    return m;
  }
  put("channels", p->at("channels").dump());
  put("normalization", p->at("normalization").dump());
  const std::string orientation = p->find("orientation") ? p->at("orientation").as_string() : "stored";
  put("orientation", orientation == "canonical" ? "LPS" : "stored");
  put("axis", std::string(1, "xyz"[p->at("axis").as_int("preprocessing.axis")]));
  put("input_size", p->at("input_size").dump());
  if (const json::Value* s = p->find("spacing")) put("spacing", s->dump());
  put("resize", resize_rule(*p).dump());
  if (const json::Value* l = p->find("label_map"); l && !l->is_null()) put("label_map", l->dump());
  if (const json::Value* n = p->find("dataset"); n && n->is_string()) put("dataset", n->as_string());
  return m;
}

} // namespace dlk
