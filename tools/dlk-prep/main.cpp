// dlk-prep: volumes (NIfTI, NRRD, MHA) -> normalized, zstd-compressed slice shards.
#include "dlk/cli/option_groups.h"
#include "dlk/cli/option_values.h"
#include "dlk/cli/progress_bar.h"
#include "dlk/cli/tool.h"
#include "dlk/core/error.h"
#include "dlk/core/value_checks.h"
#include "dlk/core/share_dir.h"
#include "dlk/io/orientation.h"
#include "dlk/prep/check.h"
#include "dlk/prep/layout.h"
#include "dlk/prep/prep_case.h"
#include "dlk/prep/prep_run.h"
#include "dlk/shard/dataset.h"

#include <fmt/format.h>

#include <iostream>

namespace po = boost::program_options;
using namespace dlk;

namespace {

struct Options {
  cli::CaseInput one;
  cli::Naming naming;
  std::vector<std::string> check;
  std::string label, split_name, raw, preset, layout, split_list;
  std::string normalize, window, percentiles, label_map, orientation, axis, spacing, dtype, name, output;
  int zstd_level = 3, folds = 0;
  bool force = false;
  int64_t fold_seed = 1234;
};

cli::ToolSpec spec(Options& o) {
  cli::ToolSpec s;
  s.name = "dlk-prep";
  s.synopsis = "dlk-prep --image FILE [--image FILE...] [--label FILE] [--case ID] -o OUTDIR|-\n"
               "dlk-prep --raw DIR --preset NAME|--layout NAME [options] -o OUTDIR|-\n"
               "dlk-prep --check PATH [--check PATH...]";
  s.description =
      "Slices volumes along an axis, normalizes their intensities, maps their labels to classes and\n"
      "writes one zstd-compressed shard per case (dlk-shard(5)) into a dataset directory whose\n"
      "dataset.json lists the cases and their splits. Running it again on the same OUTDIR adds cases.\n"
      "With -o - the shards go to stdout as one stream. --check verifies shards, streams and datasets.";
  o.one.add(s, "Input, one case");
  s.group("Input, one case")
    ("label,l", po::value(&o.label)->value_name("FILE"), "label volume on the image's grid (optional)")
    ("split-name", po::value(&o.split_name)->value_name("SPLIT")->default_value("train"), "split of this case: train, val or test");
  s.group("Input, a raw dataset")
    ("raw", po::value(&o.raw)->value_name("DIR"), "raw dataset directory, in a --layout")
    ("preset", po::value(&o.preset)->value_name("NAME"), "settings for a known dataset: synapse, acdc, nnunet (or an INI file)")
    ("layout", po::value(&o.layout)->value_name("NAME"), "layout of DIR: synapse, acdc or nnunet")
    ("split-list", po::value(&o.split_list)->value_name("FILE"), "split list ('ID train|val|test' per line) or a name in share/dlk/splits");
  o.naming.add(s, "Processing", true);
  s.group("Processing")
    ("normalize", po::value(&o.normalize)->value_name("METHOD")->default_value("window"),
     "window, zscore, minmax, percentile or none (per volume and channel)")
    ("window", po::value(&o.window)->value_name("LO,HI")->default_value("-125,275"), "intensity window for 'window', mapped to [0, 1]")
    ("percentiles", po::value(&o.percentiles)->value_name("LO,HI")->default_value("0.5,99.5"), "clip percentiles for 'percentile', mapped to [0, 1]")
    ("label-map", po::value(&o.label_map)->value_name("MAP"),
     "raw:class pairs 'a:b,c:d' ('*:0' for the rest), a file of them, or a name in share/dlk/label-maps")
    ("orientation", po::value(&o.orientation)->value_name("HOW")->default_value("canonical"),
     "canonical: reorient volumes to LPS before slicing; stored: slice the voxel axes as stored")
    ("axis", po::value(&o.axis)->value_name("AXIS"),
     "slicing axis: axial, coronal, sagittal, or a voxel axis x, y, z [axial; z when stored]")
    ("spacing", po::value(&o.spacing)->value_name("X,Y")->default_value("none"),
     "in-plane spacing in mm dlk-train resamples slices to: X,Y, auto (the train cases' median) or none")
    ("dtype", po::value(&o.dtype)->value_name("TYPE")->default_value("float16"), "image storage: float16 or float32")
    ("zstd-level", po::value(&o.zstd_level)->value_name("N")->default_value(3), "zstd compression level, 1..19")
    ("dataset-name", po::value(&o.name)->value_name("NAME"), "the dataset's name [OUTDIR's name]")
    ("folds", po::value(&o.folds)->value_name("K")->default_value(0), "assign the train cases to K cross-validation folds, a subject whole")
    ("fold-seed", po::value(&o.fold_seed)->value_name("N")->default_value(1234), "seed of the fold assignment");
  s.group("Output")
    ("output,o", po::value(&o.output)->value_name("DIR"), "dataset directory, or - for a shard stream on stdout")
    ("force,f", po::bool_switch(&o.force), "replace cases already in the dataset")
    ("check", po::value(&o.check)->value_name("PATH")->composing(), "verify a shard, a stream (- for stdin) or a dataset; exit 1 on any fault");
  s.deprecated = {{"--dataset", "--raw"}, {"-d", "--raw"}, {"-p", "--preset"}, {"--split", "--split-list"},
                  {"--name", "--dataset-name"}};
  s.examples =
      "  dlk-prep --image ct.nii.gz --label seg.nii.gz --case ct01 --label-map '52:1,4:2,*:0' -o data/\n"
      "  dlk-prep --raw RawData --preset synapse -o synapse/\n"
      "  dlk-prep --image flair.nii.gz --image t1c.nii.gz --channels flair,t1c --normalize none \\\n"
      "           --label seg.nii.gz --case pat3 -o - | dlk-prep --check -\n"
      "  dlk-prep --check synapse/\n";
  return s;
}

int check(const std::vector<std::string>& paths) {
  bool ok = true;
  for (auto& p : paths) {
    ok = check_path(p, [](const CheckReport& r) {
      if (!r.error.empty()) {
        std::cout << fmt::format("FAIL  {}\n", r.case_id.empty() ? r.path : r.case_id);
        cli::error(r.error);
        return;
      }
      std::cout << fmt::format("ok    {:<20} {:<5} {:>5} slices  {} {}  {}  {:.2f} MiB  {}\n", r.case_id, r.split,
                               r.slices, r.shape, r.dtype,
                               r.has_label ? fmt::format("{} classes", r.classes.size()) : "unlabelled",
                               double(r.bytes) / (1 << 20), quoted_path(r.path));
      if (cli::verbosity() >= 2 && r.has_label)
        for (size_t c = 0; c < r.counts.size(); ++c)
          std::cout << fmt::format("      class {:>3} {:<20} {:>12} voxels\n", c, r.classes[c], r.counts[c]);
    }) && ok;
  }
  return ok ? cli::kOk : cli::kFailure;
}

// The processing options: what every case gets.
PrepOptions processing(const Options& o) {
  PrepOptions p;
  p.channel_names = o.naming.channel_names();
  p.normalize = cli::normalize_option(o.normalize, o.window, o.percentiles);
  if (!o.label_map.empty()) p.label_map = cli::label_map_option(o.label_map, "label-map");
  p.classes = o.naming.class_names();
  if (o.orientation != "canonical" && o.orientation != "stored")
    throw UsageError(fmt::format("--orientation {}: canonical or stored", o.orientation));
  p.canonical = o.orientation == "canonical";
  p.axis = cli::axis_option(o.axis, p.canonical);
  if (o.dtype == "float16") p.dtype = ImageDType::Float16;
  else if (o.dtype == "float32") p.dtype = ImageDType::Float32;
  else throw UsageError(fmt::format("--dtype: '{}' (float16 or float32)", o.dtype));
  if (o.zstd_level < 1 || o.zstd_level > 19) throw UsageError("--zstd-level must be within 1..19");
  p.zstd_level = o.zstd_level;
  p.tool = "dlk-prep " DLK_VERSION_STRING;
  p.series = o.one.series;

  return p;
}

int run(int argc, char** argv) {
  Options o;
  cli::Common common;
  cli::ToolSpec s = spec(o);
  auto vm = cli::parse(s, argc, argv, common, [](const po::variables_map& vm) {
    std::vector<std::string> extra;
    if (vm.count("preset")) extra.push_back(find_share_file(vm["preset"].as<std::string>(), "presets", ".ini", "preset"));
    return extra;
  });
  if (!o.check.empty()) {
    if (!o.one.images.empty() || !o.raw.empty() || !o.output.empty())
      throw UsageError("--check verifies existing output: it takes no --image, --raw or --output");
    return check(o.check);
  }
  if (o.output.empty()) throw UsageError("no output: give -o OUTDIR (or -o - for a stream on stdout)");
  if (o.one.images.empty() == o.raw.empty()) throw UsageError("give either --image (one case) or --raw (a raw dataset)");
  if (o.output == "-") cli::refuse_binary_to_terminal("shards");

  PrepRun run;
  run.options = processing(o);
  run.spacing = cli::spacing_option(o.spacing);
  PrepOptions& p = run.options;
  if (!o.one.images.empty()) {
    // A preset's layout and split list describe raw datasets; a single case ignores them.
    if ((!o.layout.empty() || !o.split_list.empty()) && o.preset.empty()) throw UsageError("--layout and --split-list are for --raw");
    const auto case_id = o.one.checked_case();
    require_split("--split-name", o.split_name, false);
    CaseInput c;
    c.images = o.one.images;
    c.label = o.label;
    c.id = case_id.value_or("").empty() ? volume_case_id(o.one.images[0]) : *case_id;
    c.group = c.id;
    c.split = o.split_name;
    run.cases.push_back(c);
  } else {
    if (!o.label.empty() || o.one.case_id.value_or("") != "" || !vm["split-name"].defaulted())
      throw UsageError("--label, --case and --split-name are for a single case (--image); a dataset's splits come from --split-list");
    if (o.layout.empty()) throw UsageError("--raw needs --layout or a --preset that sets it");
    Layout l = discover_cases(o.layout, o.raw);
    if (p.channel_names.empty()) p.channel_names = l.channels;
    if (p.classes.empty()) p.classes = l.classes;
    if (!o.split_list.empty()) {
      const std::string path = find_share_file(o.split_list, "splits", ".txt", "split");
      auto dropped = apply_split_list(l.cases, read_split_list(path), path);
      if (!dropped.empty())
        cli::warn(fmt::format("{} case(s) not in the split list, skipped: {}{}", dropped.size(), dropped[0],
                              dropped.size() > 1 ? ", ..." : ""));
    }
    run.cases = l.cases;
  }
  run.out_dir = o.output;
  run.name = o.name;
  run.force = o.force;
  run.threads = common.resolved_threads();
  run.folds = o.folds;
  run.fold_seed = o.fold_seed;
  run.progress = cli::progress_bar(common.show_progress());
  auto sum = run_prep(run, [](const ShardMeta& m, uint64_t bytes) {
    cli::verbose(fmt::format("{}: {} slices of {}x{}x{}, {:.2f} MiB", m.case_id, m.n_slices, m.channel_count(),
                             m.height, m.width, double(bytes) / (1 << 20)));
  });
  cli::info(fmt::format("{} case(s), {} slices, {:.2f} MiB from {:.2f} MiB of volumes in {:.2f} s ({:.0f} slices/s){}",
                        sum.cases, sum.slices, double(sum.bytes) / (1 << 20), double(sum.source_bytes) / (1 << 20),
                        sum.seconds, double(sum.slices) / std::max(sum.seconds, 1e-9),
                        o.output == "-" ? "" : " -> " + o.output));
  return cli::kOk;
}

} // namespace

int main(int argc, char** argv) {
  return cli::run("dlk-prep", [&] { return run(argc, argv); });
}
