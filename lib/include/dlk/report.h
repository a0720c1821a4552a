// dlk-report's library side: result tables like the paper's, SVG training curves and PNG overlays.
#pragma once
#include "dlk/json.h"

#include <cmath>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace dlk {

// One row of a results table: a method with its numbers (NaN where unknown).
struct ResultRow {
  std::string method;
  double params_m = NAN, flops_g = NAN, dsc = NAN, hd95 = NAN;
  std::vector<double> class_dsc; // in the table's class order, percent
  bool published = false;
};

struct ResultTable {
  std::vector<std::string> class_keys;   // class names as dlk-prep names them
  std::vector<std::string> class_titles; // as the paper prints them ("Kid(L)")
  bool with_hd95 = true, with_cost = true;
  std::vector<ResultRow> rows;

  // A row from dlk-score's JSON (values x100 for DSC).
  void add_scores(const std::string& method, const json::Value& scores, double params_m, double flops_g);
  // Rows from a published CSV (share/dlk/published/*.csv).
  void add_published(const std::string& csv_text, const std::string& origin);
  // markdown | csv | latex. Best value per metric column bold, second best underlined
  // (the paper's red and blue); DSC higher is better, HD95 lower.
  std::string render(const std::string& format) const;
};

// The paper's abbreviation of a class name ("kidney_left" -> "Kid(L)"); the name itself otherwise.
std::string paper_class_title(const std::string& name);

// An SVG line plot: one polyline per series over shared axes, with a legend.
struct Series {
  std::string name;
  std::vector<double> x, y;
};
std::string line_plot_svg(const std::vector<Series>& series, const std::string& x_label, const std::string& y_label,
                          const std::string& title);
// The curve of `metric` over the epochs of a training log (dlk-train's log.jsonl): x is the
// epoch counted from 1; lines without the metric are skipped, a null is NaN. Fails naming the
// file on a bad line or when no line has the metric. The series is named `name`.
Series read_training_curve(const std::string& log_path, const std::string& metric, const std::string& name);

// RGB image -> PNG through libpng (8-bit truecolour, filter 0, stored deflate blocks, as dlk wrote
// them before it used libpng: the same pixels, in files of about the same size).
std::string encode_png(const std::vector<uint8_t>& rgb, int64_t width, int64_t height);

} // namespace dlk

namespace dlk {
// A PNG of one slice: the image in grey with the reference's class contours on the left and the
// prediction's on the right, one colour per class. image/truth/pred share one grid (x fastest).
std::string overlay_png(const std::vector<float>& image, const std::vector<uint16_t>& truth, const std::vector<uint16_t>& pred,
                        const std::array<int64_t, 3>& size, int axis, int64_t slice);
// The slice along `axis` with the most labelled voxels of `labels` (a grid of `size`, x fastest).
int64_t busiest_slice(const std::vector<uint16_t>& labels, const std::array<int64_t, 3>& size, int axis);
} // namespace dlk
