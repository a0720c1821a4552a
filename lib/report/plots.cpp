// SVG line plots, and the training curves they draw.
#include "dlk/report/plots.h"
#include "dlk/report/axis_ticks.h"
#include "dlk/report/train_log_reader.h"
#include "svg_text.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

namespace fs = std::filesystem;

namespace dlk {

namespace {
const char* kColours[] = {"#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"};
} // namespace

std::string line_plot_svg(const std::vector<Series>& series, const std::string& x_label, const std::string& y_label,
                          const std::string& title) {
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (auto& s : series)
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.y[i])) continue;
      x0 = std::min(x0, s.x[i]);
      x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, s.y[i]);
      y1 = std::max(y1, s.y[i]);
    }
  if (!std::isfinite(x0)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  bool whole_x = true; // epochs: whole-number ticks
  for (auto& s : series)
    for (double x : s.x) whole_x = whole_x && x == std::floor(x);
  const AxisTicks xt = nice_ticks(x0, x1, 6, whole_x), yt = nice_ticks(y0, y1, 6);
  x0 = xt.lo, x1 = xt.hi, y0 = yt.lo, y1 = yt.hi;
  const double W = 720, H = 440, L = 70, R = 170, T = 40, B = 60, pw = W - L - R, ph = H - T - B;
  auto px = [&](double x) { return L + (x - x0) / (x1 - x0) * pw; };
  auto py = [&](double y) { return T + ph - (y - y0) / (y1 - y0) * ph; };
  std::string o = fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                              "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
                              "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
                              W, H, W, H);
  o += fmt::format("<text x=\"{}\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">{}</text>\n", L + pw / 2, xml_escape(title));
  o += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#444\"/>\n", L, T, pw, ph);
  for (double xv : xt.values) {
    o += fmt::format("<line x1=\"{:.1f}\" y1=\"{}\" x2=\"{:.1f}\" y2=\"{}\" stroke=\"#ddd\"/>\n", px(xv), T, px(xv), T + ph);
    o += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", px(xv), T + ph + 18, xt.label(xv));
  }
  for (double yv : yt.values) {
    o += fmt::format("<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"#ddd\"/>\n", L, py(yv), L + pw, py(yv));
    o += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", L - 6, py(yv) + 4, yt.label(yv));
  }
  o += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", L + pw / 2, H - 16, xml_escape(x_label));
  o += fmt::format("<text transform=\"translate(18 {}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n", T + ph / 2,
                   xml_escape(y_label));
  for (size_t k = 0; k < series.size(); ++k) {
    const auto& s = series[k];
    std::string pts;
    for (size_t i = 0; i < s.x.size(); ++i)
      if (std::isfinite(s.y[i])) pts += fmt::format("{:.1f},{:.1f} ", px(s.x[i]), py(s.y[i]));
    const char* col = kColours[k % 8];
    o += fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" points=\"{}\"/>\n", col, pts);
    if (s.x.size() <= 20) // few points (a short run): each one marked, a single one visible at all
      for (size_t i = 0; i < s.x.size(); ++i)
        if (std::isfinite(s.y[i]))
          o += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\"/>\n", px(s.x[i]), py(s.y[i]), col);
    o += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"3\"/>\n", L + pw + 12,
                     T + 14 + 20 * k, L + pw + 36, T + 14 + 20 * k, col);
    o += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", L + pw + 42, T + 18 + 20 * k, xml_escape(s.name));
  }
  o += "</svg>\n";
  return o;
}

std::string training_curves_svg(const std::vector<std::string>& logs, const std::vector<std::string>& names,
                                const std::string& metric, const std::string& title) {
  std::vector<Series> series;
  std::set<std::string> splits;
  for (size_t i = 0; i < logs.size(); ++i) {
    const std::string name = i < names.size() ? names[i] : fs::absolute(logs[i]).parent_path().filename().string();
    series.push_back(read_training_curve(logs[i], metric, name));
    if (metric.rfind("val_", 0) == 0) splits.insert(validation_split_of(logs[i]));
  }
  const std::string split = splits.size() == 1 ? *splits.begin() : ""; // runs that differ: unnamed
  std::string heading = title.empty() ? curve_axis_title(metric, split) + " per epoch" : title;
  // Validation Dice on the test set is what the official scripts select their model on: say so.
  if (splits.count("test")) heading += " (validated on the test set: model selection on the test set)";
  return line_plot_svg(series, "epoch", curve_axis_title(metric, split), heading);
}

std::string curve_axis_title(const std::string& metric, const std::string& split) {
  const std::string on = split.empty() ? "" : " on the " + split + " split";
  if (metric == "val_mean_dice") return "mean Dice" + on;
  if (metric.rfind("val_", 0) == 0) return metric.substr(4) + on;
  if (metric == "loss") return "training loss";
  if (metric == "lr") return "learning rate";
  return metric;
}

} // namespace dlk
