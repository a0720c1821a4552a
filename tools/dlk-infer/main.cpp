// dlk-infer: segments volumes with a dlk-train checkpoint, writes or streams the label maps.
#include "dlk/cli/option_groups.h"
#include "dlk/cli/tool.h"
#include "dlk/core/error.h"
#include "dlk/core/value_checks.h"
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
  cli::CaseInput one;
  cli::CaseSelection selection;
  cli::DeviceOptions device;
  cli::KeepLargest keep_largest;
  std::string stats;
};

cli::ToolSpec spec(Options& o) {
  cli::ToolSpec s;
  s.name = "dlk-infer";
  s.synopsis = "dlk-infer -m CHECKPOINT INPUT -o OUTDIR|-\n"
               "dlk-infer -m CHECKPOINT --image FILE [--image FILE...] [--case ID] -o OUTDIR|-";
  s.description =
      "Segments volumes slice by slice along the training axis with the preprocessing the checkpoint\n"
      "records (as dlk-prep applied it to the training data: normalization, reorientation to LPS,\n"
      "resampling to the training spacing) and writes each label map back on its input's exact grid: OUTDIR/CASE.nii.gz (the input's format; uint8, uint16 beyond 255 classes), or with\n"
      "-o - a stream of label shards for dlk-score. INPUT: a volume, a directory of volumes (nnU-Net's\n"
      "CASE_0000 naming for channels), a dlk-prep dataset (its --split), or shards (- for stdin).";
  s.group("Input")
    ("checkpoint,m", po::value(&o.r.checkpoints)->value_name("FILE")->composing(), "checkpoint written by dlk-train; repeat for an ensemble")
    ("input", po::value(&o.r.input)->value_name("INPUT"), "volume, directory, dataset or shards (also the operand)");
  o.one.add(s, "Input");
  o.selection.add(s, "Input", true);
  o.device.add(s, "Segmentation");
  s.group("Segmentation")
    ("batch,b", po::value(&o.r.options.batch)->value_name("B")->default_value(0), "slices per forward pass (0: 1 on a CPU, where small batches stay in cache, 32 on a GPU)")
    ("resize", po::value(&o.r.options.resize)->value_name("R")->default_value("labels"),
     "labels: argmax at the model size, nearest back (TransUNet's protocol); logits: interpolate, then argmax")
    ("tta", po::bool_switch(&o.r.options.tta), "average the softmax over horizontal and vertical flips")
    ("probabilities", po::bool_switch(&o.r.options.probabilities), "also write class probabilities (CASE.probs.dlks; in the stream)")
    ("probability-maps", po::value(&o.r.options.probability_maps)->value_name("DIR"), "per-class probability maps as NIfTI: DIR/CASE_CLASS.nii.gz, uint8 (p x 255)");
  cli::add_network(s, "Segmentation", o.r.options.network);
  o.keep_largest.add(s, "Segmentation");
  s.group("Output")
    ("output,o", po::value(&o.r.output)->value_name("DIR"), "directory of label volumes, or - for label shards on stdout")
    ("format", po::value(&o.r.format)->value_name("F"), "of the label files: nifti, nrrd, mha or dicom-seg (DICOM input) [the input's; NIfTI for DICOM]")
    ("stats", po::value(&o.stats)->value_name("FILE"), "write timings as JSON (- for stdout)")
    ("prefetch", po::value(&o.r.options.prefetch)->value_name("N")->default_value(2),
     "batches prepared ahead of the network and finished behind it (0: one batch's stages after another)");
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
  o.r.images = o.one.images;
  o.r.case_id = o.one.checked_case().value_or("");
  o.r.options.series = o.one.series;
  if (!o.r.format.empty()) require_one_of("--format", o.r.format, {"nifti", "nrrd", "mha", "dicom-seg"});
  if (o.r.format == "dicom-seg" && o.r.output == "-") throw UsageError("--format dicom-seg writes files: give -o DIR");
  o.selection.check();
  o.r.split = o.selection.split;
  const auto part = o.selection.parts();
  o.r.part = part[0];
  o.r.parts = part[1];
  o.device.check();
  o.r.options.precision = o.device.precision;
  o.r.options.depthwise = o.device.depthwise;
  o.r.options.keep_largest = o.keep_largest.classes();
  cli::check_network(o.r.options.network);
  o.r.options.device = resolve_device(o.device.device);
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
