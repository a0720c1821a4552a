// Figures: SVG line plots of training curves, PNG encoding.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dlk {

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
// The split a run validated on each epoch (dlk-train --val-split), from the config.json beside
// its log.jsonl; "" where there is none. Fails naming config.json when it cannot be read.
std::string validation_split_of(const std::string& log_path);
// The curves of `metric` from several runs' log.jsonl files in one plot, each named by `names` (in
// order) or its run directory, titled `title` or after the metric; a plot of validation metrics
// says on which split the runs validated, and when that is the test set, that it is model
// selection on the test set.
std::string training_curves_svg(const std::vector<std::string>& logs, const std::vector<std::string>& names,
                                const std::string& metric, const std::string& title);
// An axis title in words for a log.jsonl field: "mean Dice on the test split", "training loss".
std::string curve_axis_title(const std::string& metric, const std::string& split);

// RGB image -> PNG through libpng (8-bit truecolour, filter 0, stored deflate blocks, as dlk wrote
// them before it used libpng: the same pixels, in files of about the same size).
std::string encode_png(const std::vector<uint8_t>& rgb, int64_t width, int64_t height);

} // namespace dlk
