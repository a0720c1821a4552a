// dlk-score: DSC and HD95 (and more) per case and class, with the conventions of TransUNet,
// medpy, MONAI or nnU-Net.
#include "dlk/cli/option_groups.h"
#include "dlk/cli/option_values.h"
#include "dlk/cli/tool.h"
#include "dlk/core/error.h"
#include "dlk/core/whole_file.h"
#include "dlk/metrics/score_run.h"
#include "dlk/shard/shard_meta.h"

#include <fmt/format.h>

#include <iostream>

namespace po = boost::program_options;
using namespace dlk;

namespace {

struct Options {
  std::string pred, truth, mode, distance_unit, csv, json, truth_map;
  cli::CaseSelection selection;
  cli::Naming naming;
  cli::KeepLargest keep_largest;
  bool include_background = false, allow_missing = false, no_distances = false;
};

cli::ToolSpec spec(Options& o) {
  cli::ToolSpec s;
  s.name = "dlk-score";
  s.synopsis = "dlk-score --pred LABELS --truth LABELS [--mode transunet|medpy|monai|nnunet] [--csv FILE] [--json FILE]";
  s.description =
      "Scores predicted label volumes against references, matched by case id: DSC and HD95 per case and\n"
      "class (HD, ASSD, IoU and TP/FP/FN in the CSV and JSON), the mean per class over cases and the mean\n"
      "over classes. Each side is a label volume, a directory of them, a dlk-prep dataset, or a shard\n"
      "file or stream (- for stdin, e.g. from dlk-infer -o -). The default mode reproduces the TransUNet\n"
      "papers' tables exactly (medpy's HD95 in voxel units, their rules for empty masks).";
  cli::add_pred(s, "Input", o.pred);
  cli::add_truth(s, "Input", o.truth);
  o.selection.add(s, "Input", false);
  s.group("Input")("truth-label-map", po::value(&o.truth_map)->value_name("MAP"), "map raw reference values to classes (as dlk-prep --label-map)");
  o.naming.add(s, "Input", false);
  s.group("Input")
    ("allow-missing", po::bool_switch(&o.allow_missing), "a reference without prediction scores as an empty prediction (warning)");
  s.group("Metrics")
    ("mode", po::value(&o.mode)->value_name("M")->default_value("transunet"), "transunet, medpy, monai or nnunet")
    ("distance-unit", po::value(&o.distance_unit)->value_name("U")->default_value("voxel"), "voxel, or mm (the header's spacing; not transunet)")
    ("include-background", po::bool_switch(&o.include_background), "score class 0 too")
    ("no-distances", po::bool_switch(&o.no_distances), "overlap measures only (no HD95, HD, ASSD)");
  o.keep_largest.add(s, "Metrics");
  s.group("Output")
    ("csv", po::value(&o.csv)->value_name("FILE"), "one row per case and class (- for stdout)")
    ("json", po::value(&o.json)->value_name("FILE"), "everything: per case, per class, means, settings (- for stdout)");
  s.examples = "  dlk-score --pred out/ --truth synapse/ --csv scores.csv --json scores.json\n"
               "  dlk-infer -m run/final.dlkc synapse/ -o - | dlk-score --pred - --truth synapse/\n"
               "  dlk-score --pred pred/ --truth labelsTs/ --mode nnunet --distance-unit mm\n";
  s.deprecated = {{"-m", "--mode"}, {"--spacing", "--distance-unit"}};
  return s;
}


int run(int argc, char** argv) {
  Options o;
  cli::Common common;
  cli::parse(spec(o), argc, argv, common);
  if (o.pred.empty() || o.truth.empty()) throw UsageError("give --pred and --truth");
  if (o.pred == "-" && o.truth == "-") throw UsageError("only one side can be the standard input");
  ScoreOptions so;
  so.mode = cli::score_mode_option(o.mode);
  if (o.distance_unit == "unit" || o.distance_unit == "image") { // --spacing's values
    cli::deprecation_notice("--distance-unit " + o.distance_unit, o.distance_unit == "unit" ? "voxel" : "mm");
    o.distance_unit = o.distance_unit == "unit" ? "voxel" : "mm";
  }
  if (o.distance_unit != "voxel" && o.distance_unit != "mm")
    throw UsageError(fmt::format("--distance-unit: '{}' (voxel or mm)", o.distance_unit));
  so.image_spacing = o.distance_unit == "mm";
  if (so.image_spacing && so.mode == ScoreMode::TransUNet)
    throw UsageError("--mode transunet measures in voxels, as the papers did: use --mode medpy (or monai, nnunet) with --distance-unit mm");
  so.include_background = o.include_background;
  so.allow_missing = o.allow_missing;
  so.distances = !o.no_distances;
  o.selection.check();
  so.split = o.selection.split;
  so.classes = o.naming.class_names();
  if (!o.truth_map.empty()) so.truth_map = cli::label_map_option(o.truth_map, "truth-label-map");
  so.threads = common.resolved_threads();
  so.keep_largest = o.keep_largest.classes();
  ScoreReport rep = run_score(o.pred, o.truth, so, [](const CaseScores& c) {
    double sum = 0;
    for (auto& s : c.scores) sum += s.dsc;
    cli::verbose(fmt::format("{}: mean DSC {:.4f} over {} classes", c.case_id, sum / double(std::max<size_t>(1, c.scores.size())),
                             c.scores.size()));
  });
  for (auto& w : rep.warnings) cli::warn(w);
  if (!o.csv.empty()) write_text(o.csv, rep.to_csv());
  if (!o.json.empty()) write_text(o.json, rep.to_json().dump(2) + "\n");
  if (o.csv != "-" && o.json != "-") std::cout << rep.table();
  return cli::kOk;
}

} // namespace

int main(int argc, char** argv) {
  return cli::run("dlk-score", [&] { return run(argc, argv); });
}
