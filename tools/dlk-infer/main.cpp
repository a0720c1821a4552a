// dlk-infer: segments volumes with a dlk-train checkpoint, writes or streams the label maps.
#include "dlk/cli/tool.h"
#include "dlk/cli/validate.h"
#include "dlk/core/error.h"
#include "dlk/core/whole_file.h"
#include "dlk/infer/infer_run.h"
#include "dlk/infer/segmenter.h"
#include "dlk/model/device.h"

#include <fmt/format.h>

#include <torch/torch.h>

#include <iostream>

namespace po = boost::program_options;
using namespace dlk;

namespace {

struct Options {
  InferRun r;
  std::string part, device, stats;
};

cli::ToolSpec spec(Options& o) {
  cli::ToolSpec s;
  s.name = "dlk-infer";
  s.synopsis = "dlk-infer -m CHECKPOINT INPUT -o OUTDIR|-\n"
               "dlk-infer -m CHECKPOINT --image FILE [--image FILE...] [--case NAME] -o OUTDIR|-";
  s.description =
      "Segments volumes slice by slice along the training axis with the preprocessing the checkpoint\n"
      "records (as dlk-prep applied it to the training data: normalization, reorientation to LPS,\n"
      "resampling to the training spacing) and writes each label map back on its input's exact grid: OUTDIR/CASE.nii.gz (the input's format; uint8, uint16 beyond 255 classes), or with\n"
      "-o - a stream of label shards for dlk-score. INPUT: a volume, a directory of volumes (nnU-Net's\n"
      "CASE_0000 naming for channels), a dlk-prep dataset (its --split), or shards (- for stdin).";
  s.group("Input")
    ("checkpoint,m", po::value(&o.r.checkpoints)->value_name("FILE")->composing(), "checkpoint written by dlk-train; repeat for an ensemble")
    ("input", po::value(&o.r.input)->value_name("INPUT"), "volume, directory, dataset or shards (also the operand)")
    ("image,i", po::value(&o.r.images)->value_name("FILE")->composing(), "one case's image; repeat for more channels")
    ("case,c", po::value(&o.r.case_id)->value_name("NAME"), "that case's id [the image's name]")
    ("split", po::value(&o.r.split)->value_name("S")->default_value("test"), "cases of a dataset: train, val, test or all")
    ("part", po::value(&o.part)->value_name("K/N")->default_value("1/1"), "only the K-th of N equal parts of the cases (job arrays)");
  s.group("Segmentation")
    ("device", po::value(&o.device)->value_name("D")->default_value("auto"), kDeviceHelp)
    ("precision", po::value(&o.r.options.precision)->value_name("P")->default_value("bf16"), "bf16, fp16 or fp32 (a CPU computes bf16 where it has AVX512-BF16, else fp32; fp16 is for GPUs)")
    ("batch,b", po::value(&o.r.options.batch)->value_name("B")->default_value(0), "slices per forward pass (0: 1 on a CPU, where small batches stay in cache, 32 on a GPU)")
    ("resize", po::value(&o.r.options.resize)->value_name("R")->default_value("labels"),
     "labels: argmax at the model size, nearest back (TransUNet's protocol); logits: interpolate, then argmax")
    ("tta", po::bool_switch(&o.r.options.tta), "average the softmax over horizontal and vertical flips")
    ("probabilities", po::bool_switch(&o.r.options.probabilities), "also write class probabilities (CASE.probs.dlks; in the stream)")
    ("probability-maps", po::value(&o.r.options.probability_maps)->value_name("DIR"), "per-class probability maps as NIfTI: DIR/CASE_CLASS.nii.gz, uint8 (p x 255)")
    ("keep-largest", po::value(&o.r.options.keep_largest)->value_name("C"), "keep each class's largest 3-D component: all, or classes by name or value")
    ("depthwise", po::value(&o.r.options.depthwise)->value_name("K")->default_value("dlk"), "depthwise convolutions: dlk's kernels or torch (LibTorch's, for comparisons)")
    ("network", po::value(&o.r.options.network)->value_name("N"), "of a dlk-train --semi checkpoint: teacher or student [the one it holds as its model]");
  s.group("Output")
    ("output,o", po::value(&o.r.output)->value_name("DIR"), "directory of label volumes, or - for label shards on stdout")
    ("stats", po::value(&o.stats)->value_name("FILE"), "write timings as JSON (- for stdout)");
  s.positional.add("input", 1);
  s.examples = "  dlk-infer -m runs/L/final.dlkc synapse/ -o pred/\n"
               "  dlk-infer -m runs/L/final.dlkc synapse/ -o - | dlk-score --pred - --truth synapse/\n"
               "  dlk-infer -m best.dlkc --image ct.nii.gz -o out/ --device cpu\n"
               "  dlk-infer -m best.dlkc imagesTs/ -o pred/ --part $SLURM_ARRAY_TASK_ID/8\n";
  return s;
}

int run(int argc, char** argv) {
  Options o;
  cli::Common common;
  auto vm = cli::parse(spec(o), argc, argv, common);
  if (o.r.checkpoints.empty()) throw UsageError("no checkpoint: give -m CHECKPOINT");
  if (vm.count("case")) cli::require_name("--case", o.r.case_id);
  cli::require_split("--split", o.r.split);
  cli::require_precision("--precision", o.r.options.precision);
  cli::require_one_of("--depthwise", o.r.options.depthwise, {"dlk", "torch"});
  if (!o.r.options.network.empty()) cli::require_one_of("--network", o.r.options.network, {"teacher", "student"});
  if (std::sscanf(o.part.c_str(), "%d/%d", &o.r.part, &o.r.parts) != 2) throw UsageError(fmt::format("--part: '{}' is not K/N", o.part));
  o.r.options.device = resolve_device(o.device);
  if (o.r.options.batch == 0) o.r.options.batch = default_batch(o.r.options.device);
  if (o.r.options.batch < 0) throw UsageError("--batch must be 0 (automatic) or more");
  if (o.r.output == "-") cli::refuse_binary_to_terminal("label shards");
  torch::set_num_threads(common.resolved_threads()); // 0 = all cores (LibTorch alone may use one)
  cli::keep_freed_memory();
  InferStats st = run_infer(o.r, [](const std::string& line) { cli::verbose(line); });
  cli::info(fmt::format("{} case(s), {} slices in {:.2f} s: {:.1f} slices/s ({:.1f} slices/s the network alone) on {}", st.cases,
                        st.slices, st.seconds, st.seconds > 0 ? double(st.slices) / st.seconds : 0.0,
                        st.network_slices_per_s(), o.r.options.device));
  if (!o.stats.empty()) {
    write_text(o.stats, st.to_json(o.r).dump(2) + "\n");
  }
  return cli::kOk;
}

} // namespace

int main(int argc, char** argv) {
  return cli::run("dlk-infer", [&] { return run(argc, argv); });
}
