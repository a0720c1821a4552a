// dlk-report: the paper's tables from dlk-score summaries, training curves as SVG, overlays as PNG.
// Each subcommand has its own options (dlk-report SUB --help); the commands' work is in lib/report.
#include "dlk/cli/option_groups.h"
#include "dlk/cli/option_values.h"
#include "dlk/cli/subcommands.h"
#include "dlk/cli/tool.h"
#include "dlk/core/error.h"
#include "dlk/core/share_dir.h"
#include "dlk/core/value_checks.h"
#include "dlk/core/whole_file.h"
#include "dlk/metrics/label_volumes.h"
#include "dlk/model/checkpoint.h"
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
#include <cctype>
#include <filesystem>
#include <iostream>
#include <limits>

namespace po = boost::program_options;
namespace fs = std::filesystem;
using namespace dlk;

namespace {

constexpr int64_t kNoSlice = std::numeric_limits<int64_t>::min(); // --slice not given

struct Options {
  std::string format, output, published, metric, title, image, truth, only_class, axis, view;
  std::vector<std::string> inputs, names, checkpoints, preds, cases;
  cli::CaseSelection selection;
  int rows = 4;
  int64_t slice = kNoSlice;
};

void names_option(cli::ToolSpec& s, Options& o, const char* what) {
  s.group("Input")("name,n", po::value(&o.names)->value_name("NAME")->composing(), what);
}
void title_option(cli::ToolSpec& s, Options& o) {
  s.group("Output")("title", po::value(&o.title)->value_name("TEXT"), "the figure's or page's title");
}
void output_option(cli::ToolSpec& s, Options& o, const char* what) {
  s.group("Output")("output,o", po::value(&o.output)->value_name("FILE")->default_value("-"), what);
}
void view_option(cli::ToolSpec& s, Options& o) {
  s.group("Input")("view", po::value(&o.view)->value_name("V")->default_value("radiological"),
                   "radiological (the patient's right on the viewer's left) or neurological");
}
void format_option(cli::ToolSpec& s, Options& o) {
  s.group("Output")("format", po::value(&o.format)->value_name("F")->default_value("markdown"), "markdown, csv or latex");
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
void table_options(cli::ToolSpec& s, Options& o) {
  names_option(s, o, "a run's name, in the order of the files [its directory's]");
  s.group("Input")
    ("checkpoint,m", po::value(&o.checkpoints)->value_name("FILE")->composing(), "a run's checkpoint (Params, FLOPs), in order")
    ("published", po::value(&o.published)->value_name("NAME|FILE"), "add published rows: synapse, acdc, table4, table5 or a CSV");
  format_option(s, o);
  output_option(s, o, "output file (- for stdout)");
}

int table1(const Options& o) {
  if (!o.inputs.empty()) throw UsageError("table1 takes no files");
  write_text(o.output, configurations_table(o.format));
  return cli::kOk;
}
void table1_options(cli::ToolSpec& s, Options& o) {
  format_option(s, o);
  output_option(s, o, "output file (- for stdout)");
}

int curves(const Options& o) {
  if (o.inputs.empty()) throw UsageError("curves: give log.jsonl files");
  write_text(o.output, training_curves_svg(o.inputs, o.names, o.metric, o.title));
  return cli::kOk;
}
void curves_options(cli::ToolSpec& s, Options& o) {
  names_option(s, o, "a run's name, in the order of the files [its directory's]");
  s.group("Input")("metric", po::value(&o.metric)->value_name("FIELD")->default_value("val_mean_dice"), "the log.jsonl field to plot");
  title_option(s, o);
  output_option(s, o, "SVG file (- for stdout)");
}

int heatmap(const Options& o) {
  write_text(o.output, score_heatmaps_svg(o.inputs, o.names, o.title.empty() ? "mean DSC and HD95" : o.title));
  return cli::kOk;
}
void heatmap_options(cli::ToolSpec& s, Options& o) {
  names_option(s, o, "ROW/COLUMN of each score file, in order");
  title_option(s, o);
  output_option(s, o, "SVG file (- for stdout)");
}

int overlay(const Options& o) {
  if (!o.inputs.empty()) throw UsageError(fmt::format("overlay takes no operands ('{}'): give --image, --truth and --pred", o.inputs[0]));
  if (o.image.empty() || o.truth.empty() || o.preds.size() != 1) throw UsageError("overlay: give --image, --truth and one --pred");
  if (o.output == "-") cli::refuse_binary_to_terminal("a PNG");
  const ViewConvention view = cli::view_option(o.view);
  int axis = cli::axis_option(o.axis, false);
  if (o.axis.size() == 1 && std::isdigit(static_cast<unsigned char>(o.axis[0])))
    cli::deprecation_notice("--axis " + o.axis, std::string("--axis ") + "xyz"[axis]);
  Volume img = read_volume(o.image);
  LabelVolume t = LabelVolumes::load_one(o.truth), p = LabelVolumes::load_one(o.preds[0]);
  for (auto* v : {&t, &p})
    if (std::string d = geometry_mismatch(img.geometry, v->geometry); !d.empty())
      fail(v->source, fmt::format("not on the image's grid: {}", d));
  int64_t slice = o.slice;
  if (slice == kNoSlice) slice = std::max<int64_t>(0, busiest_slice(t.labels, img.geometry.size, axis)); // not given; 0 if unlabelled
  write_text(o.output, overlay_png(img.voxels, t.labels, p.labels, img.geometry, axis, slice, t.classes.empty() ? p.classes : t.classes, view));
  cli::info(fmt::format("slice {} along axis {}: reference left, prediction right -> {}", slice, axis, o.output));
  return cli::kOk;
}
void overlay_options(cli::ToolSpec& s, Options& o) {
  s.group("Input")("image,i", po::value(&o.image)->value_name("FILE"), "the image volume");
  cli::add_truth(s, "Input", o.truth);
  cli::add_pred(s, "Input", o.preds);
  s.group("Input")
    ("slice", po::value(&o.slice)->value_name("N"), "slice index, from 0 [the one with most reference]")
    ("axis", po::value(&o.axis)->value_name("AXIS")->default_value("z"), "slicing axis: a voxel axis x, y or z");
  view_option(s, o);
  output_option(s, o, "PNG file");
}

int panel(const Options& o) {
  if (o.inputs.size() != 1) throw UsageError("panel: give one prepared dataset");
  if (o.output == "-") cli::refuse_binary_to_terminal("a PNG");
  if (!TextRaster::available()) cli::warn("no font (install fonts-dejavu-core, or set DLK_FONT): the panel has no titles or legend");
  write_text(o.output, panel_png({o.inputs[0], o.selection.split, o.cases, o.rows, o.preds, o.names, o.only_class,
                                   cli::view_option(o.view)}));
  return cli::kOk;
}
void panel_options(cli::ToolSpec& s, Options& o) {
  cli::add_pred(s, "Input", o.preds);
  names_option(s, o, "a model's name, in the order of --pred");
  o.selection.add(s, "Input", false);
  s.group("Input")
    ("case,c", po::value(&o.cases)->value_name("ID")->composing(), "a case per row [the first --rows]")
    ("rows", po::value(&o.rows)->value_name("N")->default_value(4), "rows when no --case is given")
    ("class", po::value(&o.only_class)->value_name("NAME"), "colour this class alone (Fig. 10: pancreas)");
  view_option(s, o);
  output_option(s, o, "PNG file");
}

int html(const Options& o) {
  write_text(o.output, html_report(o.inputs, o.names, o.title.empty() ? "dlk report" : o.title));
  return cli::kOk;
}
void html_options(cli::ToolSpec& s, Options& o) {
  names_option(s, o, "a run's name, in the order of the run directories");
  title_option(s, o);
  output_option(s, o, "HTML file (- for stdout)");
}

std::vector<cli::Subcommand> commands(Options& o) {
  auto sub = [&o](const char* name, const char* synopsis, const char* summary, int (*run)(const Options&),
                  void (*options)(cli::ToolSpec&, Options&)) {
    return cli::Subcommand{name, synopsis, summary, [&o, options](cli::ToolSpec& s) { options(s, o); },
                           [&o, run] { return run(o); }};
  };
  return {
      sub("table", "table SCORES.json... [--name NAME...] [--checkpoint FILE...] [--published NAME|FILE] [--format F]",
          "the paper's results table (Table 2 for Synapse, Table 3 for ACDC: the classes decide) from dlk-score --json\n"
          "files, one row per run, Params and FLOPs from the runs' checkpoints, published rows beside them; the best\n"
          "value of each metric column in bold, the second underlined",
          table, table_options),
      sub("table1", "table1 [--format F]", "the model configurations (Table 1)", table1, table1_options),
      sub("curves", "curves LOG.jsonl... [--metric val_mean_dice|loss|...] -o FILE.svg",
          "validation Dice or a loss against the epoch from dlk-train's log.jsonl files (Fig. 5, 6)", curves, curves_options),
      sub("heatmap", "heatmap SCORES.json... --name ROW/COLUMN... [--title TEXT] -o FILE.svg",
          "mean DSC and HD95 of runs on a grid, e.g. variant by channels (Fig. 9)", heatmap, heatmap_options),
      sub("overlay", "overlay --image FILE --truth LABELS --pred LABELS [--slice N] [--axis AXIS] [--view V] -o FILE.png",
          "a slice with the reference's and the prediction's contours", overlay, overlay_options),
      sub("panel", "panel DATASET --pred LABELS... --name NAME... [--case ID...] [--class NAME] [--view V] -o FILE.png",
          "slices of several cases, segmented by several models side by side with the reference (Figs. 7, 8, 10)",
          panel, panel_options),
      sub("html", "html TABLE.md|FIGURE.svg|FIGURE.png|RUNDIR... [--name NAME...] [--title TEXT] -o FILE.html",
          "tables, figures and runs in one self-contained HTML file", html, html_options),
  };
}

cli::ToolSpec base() {
  cli::ToolSpec s;
  s.name = "dlk-report";
  s.synopsis = "dlk-report COMMAND [options] [FILE...]\ndlk-report COMMAND --help";
  s.description = "Tables and figures of the paper from dlk-score, dlk-train and dlk-prep output. Each command\n"
                  "takes its own options: dlk-report COMMAND --help lists them.";
  s.with_threads = false;
  s.deprecated = {{"-f", "--format"}};
  s.examples = "  dlk-report table runs/S/scores.json runs/M/scores.json --checkpoint runs/S/final.dlkc \\\n"
               "             --checkpoint runs/M/final.dlkc --published synapse --format latex\n"
               "  dlk-report curves runs/*/log.jsonl --metric val_mean_dice -o dice.svg\n"
               "  dlk-report overlay --image ct.nii.gz --truth seg.nii.gz --pred pred/ct.nii.gz -o fig7.png\n";
  return s;
}

int run(int argc, char** argv) {
  Options o;
  cli::Common common;
  return cli::run_subcommand(base(), commands(o), o.inputs, argc, argv, common, [&o] {
    if (o.slice != kNoSlice) require_at_least("--slice", o.slice, 0);
    require_at_least("--rows", o.rows, 1);
    o.selection.check();
  });
}

} // namespace

int main(int argc, char** argv) {
  return cli::run("dlk-report", [&] { return run(argc, argv); });
}
