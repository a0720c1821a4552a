// dlk-export: a trained model that leaves the suite, as ONNX (or TorchScript) that a runtime
// without dlk runs, with the checkpoint's preprocessing in its metadata.
#include "dlk/cli/option_groups.h"
#include "dlk/cli/tool.h"
#include "dlk/core/error.h"
#include "dlk/core/value_checks.h"
#include "dlk/export/export_run.h"

#include <fmt/format.h>

namespace po = boost::program_options;
using namespace dlk;

namespace {

struct Options {
  ExportOptions r;
  std::string model_output, precision = "fp32";
};

cli::ToolSpec spec(Options& o) {
  cli::ToolSpec s;
  s.name = "dlk-export";
  s.synopsis = "dlk-export -m CHECKPOINT [-m CHECKPOINT...] -o MODEL.onnx|- [--format onnx|torchscript]";
  s.description =
      "Writes a dlk-train checkpoint as a model that runs without dlk: ONNX (opset 17) for ONNX Runtime,\n"
      "TensorRT, OpenVINO or Triton, or TorchScript for PyTorch. Batch normalisation is folded into the\n"
      "convolutions; batch, height and width are dynamic (height and width multiples of the model's\n"
      "input_multiple); several -m make one ensemble that averages their softmax. The model's metadata\n"
      "(ONNX metadata_props) holds what a deployer needs to feed it a scan: classes, channels,\n"
      "normalisation, orientation, slicing axis, input size or spacing, and the checkpoint's SHA-256.";
  s.group("Input")
    ("checkpoint,m", po::value(&o.r.checkpoints)->value_name("FILE")->composing(), "checkpoint written by dlk-train; repeat for an ensemble");
  cli::add_network(s, "Input", o.r.network);
  s.group("Model")
    ("model-output", po::value(&o.model_output)->value_name("K"),
     "logits, probabilities (softmax) or labels (argmax) [logits; an ensemble: probabilities]")
    ("precision", po::value(&o.precision)->value_name("P")->default_value("fp32"),
     "fp32, or fp16 (weights and arithmetic; the input and output stay fp32)");
  s.group("Output")
    ("output,o", po::value(&o.r.output)->value_name("FILE"), "the model file, or - for stdout")
    ("format", po::value(&o.r.format)->value_name("F")->default_value("onnx"), "onnx or torchscript");
  s.examples = "  dlk-export -m run/final.dlkc -o dlkunet.onnx\n"
               "  dlk-export -m a/final.dlkc -m b/final.dlkc --model-output labels -o ensemble.onnx\n"
               "  dlk-export -m run/final.dlkc --network teacher --precision fp16 -o teacher-fp16.onnx\n"
               "  dlk-export -m run/final.dlkc --format torchscript -o dlkunet.pt\n";
  s.with_threads = false; // nothing to run in parallel
  return s;
}

ModelOutput model_output(const std::string& v, size_t networks) {
  if (v.empty()) return networks > 1 ? ModelOutput::Probabilities : ModelOutput::Logits;
  require_one_of("--model-output", v, {"logits", "probabilities", "labels"});
  return v == "labels" ? ModelOutput::Labels : v == "probabilities" ? ModelOutput::Probabilities : ModelOutput::Logits;
}

int run(int argc, char** argv) {
  Options o;
  cli::Common common;
  cli::parse(spec(o), argc, argv, common);
  if (o.r.checkpoints.empty()) throw UsageError("no checkpoint: give -m CHECKPOINT");
  if (o.r.output.empty()) throw UsageError("no output: give -o MODEL.onnx (or - for stdout)");
  cli::check_network(o.r.network);
  require_one_of("--format", o.r.format, {"onnx", "torchscript"});
  require_one_of("--precision", o.precision, {"fp32", "fp16"});
  o.r.fp16 = o.precision == "fp16";
  o.r.model_output = model_output(o.model_output, o.r.checkpoints.size());
  if (o.r.output == "-") cli::refuse_binary_to_terminal("a model");
  const ExportSummary sum = run_export(o.r);
  for (const auto& m : sum.missing)
    cli::warn(fmt::format("the checkpoint records no {}: the model's metadata lacks it (was it written by dlk-train?)", m));
  if (o.r.output != "-")
    cli::info(fmt::format("wrote {}: {} network(s), {}, {}, output {}, {:.1f} MB", o.r.output, o.r.checkpoints.size(),
                          o.r.format == "onnx" ? "ONNX opset 17" : "TorchScript", o.precision,
                          model_output_name(o.r.model_output), double(sum.bytes) / 1e6));
  return cli::kOk;
}

} // namespace

int main(int argc, char** argv) {
  return cli::run("dlk-export", [&] { return run(argc, argv); });
}
