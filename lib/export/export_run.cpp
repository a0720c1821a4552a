#include "dlk/export/export_run.h"

#include "dlk/core/error.h"
#include "dlk/core/output_file.h"
#include "dlk/export/sha256.h"
#include "dlk/export/model_metadata.h"
#include "dlk/export/onnx_model.h"
#include "dlk/export/torchscript_source.h"
#include "dlk/model/checkpoint.h"

#include <fmt/format.h>

#include <torch/script.h>
#include <torch/torch.h>

#include <sstream>

namespace dlk {

namespace {

// The checkpoints as networks; an ensemble's members must segment alike (as dlk-infer's).
std::vector<ExportNetwork> load_networks(const ExportOptions& o, ExportDescription& d) {
  std::vector<ExportNetwork> nets;
  for (size_t i = 0; i < o.checkpoints.size(); ++i) {
    const std::string& path = o.checkpoints[i];
    Checkpoint ck;
    DLKUNet model = load_model(path, nullptr, &ck);
    if (!o.network.empty()) load_network(model, ck, path, o.network);
    if (i == 0) {
      d.network = o.network.empty() ? checkpoint_network(ck) : o.network; // "": not a semi-supervised run's
      d.checkpoint = ck.meta;
      d.checkpoint.set("tensors", nullptr); // not metadata of the model
    } else {
      for (const char* key : {"classes", "in_channels", "preprocessing"}) {
        const json::Value *a = ck.meta.find(key), *b = d.checkpoint.find(key);
        if ((a == nullptr) != (b == nullptr) || (a && *a != *b))
          fail(path, fmt::format("its {} differ from {}'s: an ensemble's checkpoints segment alike", key, o.checkpoints[0]));
      }
    }
    d.sources.push_back({path, sha256_file(path)});
    nets.push_back({model->config, network_weights(model)});
    d.architectures.push_back(model->config);
  }
  return nets;
}

std::string torchscript_bytes(const std::vector<ExportNetwork>& nets, const ExportOptions& o,
                              const std::vector<std::pair<std::string, std::string>>& meta) {
  const TorchScriptSource src = torchscript_source(nets, o.model_output, o.fp16);
  torch::jit::Module m("DLKUNet");
  for (const auto& [name, a] : src.buffers) {
    auto t = torch::from_blob(const_cast<float*>(a.values.data()), a.shape, torch::kFloat32).clone();
    m.register_buffer(name, o.fp16 ? t.to(torch::kFloat16) : t);
  }
  m.define(src.code);
  json::Value j = json::Object{};
  for (const auto& [k, v] : meta) j.set(k, v);
  std::ostringstream os;
  m.save(os, {{"dlk_metadata.json", j.dump(2)}}); // torch.jit.load(f, _extra_files={"dlk_metadata.json": ""})
  return os.str();
}

} // namespace

ExportSummary run_export(const ExportOptions& o) {
  if (o.checkpoints.empty()) throw UsageError("no checkpoint: give -m CHECKPOINT");
  if (o.format != "onnx" && o.format != "torchscript") throw UsageError(fmt::format("--format: '{}' (onnx or torchscript)", o.format));
  ExportDescription d;
  d.output = o.model_output;
  d.fp16 = o.fp16;
  d.format = o.format;
  const std::vector<ExportNetwork> nets = load_networks(o, d);
  check_export_networks(nets, o.model_output);
  ExportSummary sum;
  auto meta = model_metadata(d, &sum.missing);
  std::string bytes;
  if (o.format == "onnx") {
    OnnxOptions oo;
    oo.output = o.model_output;
    oo.fp16 = o.fp16;
    oo.producer_version = DLK_VERSION;
    oo.metadata = meta;
    bytes = onnx_model_bytes(nets, oo);
  } else {
    bytes = torchscript_bytes(nets, o, meta);
  }
  OutputFile out(o.output);
  out.write(bytes);
  out.commit();
  sum.bytes = bytes.size();
  return sum;
}

} // namespace dlk
