// Figures: SVG line plots, training curves among them.
#pragma once
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
// The curves of `metric` from several runs' log.jsonl files in one plot, each named by `names` (in
// order) or its run directory, titled `title` or after the metric; a plot of validation metrics
// says on which split the runs validated, and when that is the test set, that it is model
// selection on the test set.
std::string training_curves_svg(const std::vector<std::string>& logs, const std::vector<std::string>& names,
                                const std::string& metric, const std::string& title);
// An axis title in words for a log.jsonl field: "mean Dice on the test split", "training loss".
std::string curve_axis_title(const std::string& metric, const std::string& split);

} // namespace dlk
