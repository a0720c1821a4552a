// dlk-report: the paper's tables from dlk-score summaries, training curves as SVG, overlays as PNG.
#include "dlk/cli/tool.h"
#include "dlk/cli/validate.h"
#include "dlk/core/error.h"
#include "dlk/core/file_io.h"
#include "dlk/core/share_dir.h"
#include "dlk/metrics/label_volumes.h"
#include "dlk/model/checkpoint.h"
#include "dlk/model/model.h"
#include "dlk/model/model_summary.h"
#include "dlk/report/heatmap.h"
#include "dlk/report/html_report.h"
#include "dlk/report/overlay.h"
#include "dlk/report/panel.h"
#include "dlk/report/plots.h"
#include "dlk/report/result_table.h"
#include "dlk/report/slice_view.h"
#include "dlk/report/text_raster.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

namespace po = boost::program_options;
namespace fs = std::filesystem;
using namespace dlk;

namespace {

struct Options {
  std::string command, format, output, published, metric, title, image, truth, only_class, split, view;
  std::vector<std::string> inputs, names, checkpoints, preds, cases;
  int rows = 4;
  int64_t slice = -1; // -1: not given
  int axis = 2;
};

cli::ToolSpec spec(Options& o) {
  cli::ToolSpec s;
  s.name = "dlk-report";
  s.synopsis = "dlk-report table SCORES.json... [--name N...] [--checkpoint FILE...] [--published NAME|FILE]\n"
               "dlk-report table1 [--format F]\n"
               "dlk-report curves LOG.jsonl... [--metric val_mean_dice|loss|...] -o FILE.svg\n"
               "dlk-report heatmap SCORES.json... --name ROW/COLUMN... [--title T] -o FILE.svg\n"
               "dlk-report overlay --image VOL --truth LABELS --pred LABELS [--slice N] [--view V] -o FILE.png\n"
               "dlk-report panel DATASET --pred LABELS... --name N... [--case ID...] [--class C] [--view V] -o FILE.png\n"
               "dlk-report html TABLE.md|FIGURE.svg|FIGURE.png|RUNDIR... [--name N...] [--title T] -o FILE.html";
  s.description =
      "table: the paper's results table (Table 2 for Synapse, Table 3 for ACDC: the classes decide) from\n"
      "dlk-score --json files, one row per run (named after its directory, or --name), Params and FLOPs\n"
      "from the runs' checkpoints, published rows beside them; the best value of each metric column in\n"
      "bold, the second underlined. table1: the model configurations (Table 1). curves: validation Dice or\n"
      "a loss against the epoch from dlk-train's log.jsonl files (Fig. 5, 6). heatmap: mean DSC and HD95 of\n"
      "runs on a grid, e.g. variant by channels (Fig. 9). overlay: a slice with the\n"
      "reference's and the prediction's contours. panel: slices of\n"
      "several cases, segmented by several models side by side with the reference (Figs. 7, 8, 10). html:\n"
      "tables, figures and runs in one self-contained HTML file.";
  s.group("Input")
    ("command", po::value(&o.command)->value_name("C"), "table, table1, curves, heatmap, overlay, panel or html")
    ("inputs", po::value(&o.inputs)->value_name("FILE")->composing(), "score JSON or log.jsonl files (the other operands)")
    ("name,n", po::value(&o.names)->value_name("N")->composing(), "a run's name, in the order of the files")
    ("checkpoint", po::value(&o.checkpoints)->value_name("FILE")->composing(), "a run's checkpoint (Params, FLOPs), in order")
    ("published", po::value(&o.published)->value_name("P"), "add published rows: synapse, acdc, table4, table5 or a CSV")
    ("metric", po::value(&o.metric)->value_name("M")->default_value("val_mean_dice"), "curves: a log.jsonl field")
    ("title", po::value(&o.title)->value_name("T"), "curves, heatmap, html: the title")
    ("image", po::value(&o.image)->value_name("VOL"), "overlay: the image volume")
    ("truth", po::value(&o.truth)->value_name("LABELS"), "overlay: the reference labels")
    ("pred", po::value(&o.preds)->value_name("LABELS")->composing(), "overlay, panel: predicted labels (panel: one per model)")
    ("case", po::value(&o.cases)->value_name("ID")->composing(), "panel: a case per row [the first --rows]")
    ("rows", po::value(&o.rows)->value_name("N")->default_value(4), "panel: rows when no --case is given")
    ("class", po::value(&o.only_class)->value_name("C"), "panel: colour this class alone (Fig. 10: pancreas)")
    ("split", po::value(&o.split)->value_name("S")->default_value("test"), "panel: the dataset split of the rows")
    ("slice", po::value(&o.slice)->value_name("N"), "overlay: slice index, from 0 [the one with most reference]")
    ("axis", po::value(&o.axis)->value_name("A")->default_value(2), "overlay: slicing axis 0, 1 or 2")
    ("view", po::value(&o.view)->value_name("V")->default_value("radiological"),
     "overlay, panel: radiological (patient's right on the left) or neurological");
  s.group("Output")
    ("format,f", po::value(&o.format)->value_name("F")->default_value("markdown"), "tables: markdown, csv or latex")
    ("output,o", po::value(&o.output)->value_name("FILE")->default_value("-"), "output file (- for stdout; not for PNG)");
  s.positional.add("command", 1).add("inputs", -1);
  s.with_threads = false;
  s.examples = "  dlk-report table runs/S/scores.json runs/M/scores.json --checkpoint runs/S/final.dlkc \\\n"
               "             --checkpoint runs/M/final.dlkc --published synapse --format latex\n"
               "  dlk-report table1\n"
               "  dlk-report curves runs/*/log.jsonl --metric val_mean_dice -o dice.svg\n"
               "  dlk-report heatmap S64/scores.json S96/scores.json --name S/64 --name S/96 -o fig9.svg\n"
               "  dlk-report overlay --image ct.nii.gz --truth seg.nii.gz --pred pred/ct.nii.gz -o fig7.png\n";
  return s;
}

int table(const Options& o) {
  if (o.inputs.empty()) throw UsageError("table: give dlk-score --json files");
  if (!o.names.empty() && o.names.size() != o.inputs.size()) throw UsageError("--name: one per score file");
  if (!o.checkpoints.empty() && o.checkpoints.size() != o.inputs.size()) throw UsageError("--checkpoint: one per score file");
  ResultTable t;
  bool acdc = false;
  for (size_t i = 0; i < o.inputs.size(); ++i) {
    const json::Value s = read_score_file(o.inputs[i]);
    acdc = acdc || is_acdc_scores(s);
    std::string name = !o.names.empty() ? o.names[i] : fs::absolute(o.inputs[i]).parent_path().filename().string();
    auto c = o.checkpoints.empty() ? std::pair<double, double>{NAN, NAN} : checkpoint_cost(o.checkpoints[i]);
    t.add_scores(name, s, c.first, c.second);
  }
  if (!o.published.empty()) {
    const std::string path = find_share_file(o.published, "published", ".csv", "published");
    t.add_published(read_text_file(path), path);
  }
  t.with_hd95 = !acdc; // Table 3 reports DSC only
  t.with_cost = !o.checkpoints.empty();
  write_text(o.output, t.render(o.format));
  return cli::kOk;
}

int table1(const Options& o) {
  write_text(o.output, configurations_table(o.format));
  return cli::kOk;
}

int curves(const Options& o) {
  if (o.inputs.empty()) throw UsageError("curves: give log.jsonl files");
  write_text(o.output, training_curves_svg(o.inputs, o.names, o.metric, o.title));
  return cli::kOk;
}

int heatmap(const Options& o) {
  write_text(o.output, score_heatmaps_svg(o.inputs, o.names, o.title.empty() ? "mean DSC and HD95" : o.title));
  return cli::kOk;
}

int panel(const Options& o) {
  if (o.inputs.size() != 1) throw UsageError("panel: give one prepared dataset");
  if (o.output == "-") cli::refuse_binary_to_terminal("a PNG");
  if (!TextRaster::available()) cli::warn("no font (install fonts-dejavu-core, or set DLK_FONT): the panel has no titles or legend");
  write_text(o.output, panel_png({o.inputs[0], o.split, o.cases, o.rows, o.preds, o.names, o.only_class, view_convention(o.view)}));
  return cli::kOk;
}

int html(const Options& o) {
  write_text(o.output, html_report(o.inputs, o.names, o.title.empty() ? "dlk report" : o.title));
  return cli::kOk;
}

int overlay(const Options& o) {
  if (o.image.empty() || o.truth.empty() || o.preds.size() != 1) throw UsageError("overlay: give --image, --truth and one --pred");
  if (o.output == "-") cli::refuse_binary_to_terminal("a PNG");
  const ViewConvention view = view_convention(o.view);
  Volume img = read_volume(o.image);
  LabelVolume t = LabelVolumes::load_one(o.truth), p = LabelVolumes::load_one(o.preds[0]);
  for (auto* v : {&t, &p})
    if (std::string d = geometry_mismatch(img.geometry, v->geometry); !d.empty())
      fail(v->source, fmt::format("not on the image's grid: {}", d));
  if (o.axis < 0 || o.axis > 2) throw UsageError("--axis: 0, 1 or 2");
  int64_t slice = o.slice;
  if (slice < 0) slice = std::max<int64_t>(0, busiest_slice(t.labels, img.geometry.size, o.axis)); // not given; 0 if unlabelled
  write_text(o.output, overlay_png(img.voxels, t.labels, p.labels, img.geometry, o.axis, slice, t.classes.empty() ? p.classes : t.classes, view));
  cli::info(fmt::format("slice {} along axis {}: reference left, prediction right -> {}", slice, o.axis, o.output));
  return cli::kOk;
}

int run(int argc, char** argv) {
  Options o;
  cli::Common common;
  auto vm = cli::parse(spec(o), argc, argv, common);
  if (vm.count("slice")) cli::require_at_least("--slice", o.slice, 0);
  cli::require_at_least("--rows", o.rows, 1);
  cli::require_split("--split", o.split, false);
  if (o.command == "table") return table(o);
  if (o.command == "table1") return table1(o);
  if (o.command == "curves") return curves(o);
  if (o.command == "heatmap") return heatmap(o);
  if (o.command == "overlay") return overlay(o);
  if (o.command == "panel") return panel(o);
  if (o.command == "html") return html(o);
  throw UsageError(o.command.empty() ? "give a command: table, table1, curves, heatmap, overlay, panel or html"
                                     : fmt::format("unknown command '{}' (table, table1, curves, heatmap, overlay, panel, html)", o.command));
}

} // namespace

int main(int argc, char** argv) {
  return cli::run("dlk-report", [&] { return run(argc, argv); });
}
