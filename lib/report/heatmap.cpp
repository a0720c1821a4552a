#include "dlk/report/heatmap.h"
#include "dlk/core/error.h"
#include "dlk/report/result_table.h"
#include "svg_text.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace dlk {

namespace {

// A sequential colour scale (ColorBrewer's YlGnBu anchors): t = 0 light yellow, 1 dark blue.
std::string colour(double t) {
  static const std::array<std::array<double, 3>, 5> stops{{{255, 255, 204}, {161, 218, 180}, {65, 182, 196}, {44, 127, 184}, {37, 52, 148}}};
  t = std::clamp(t, 0.0, 1.0) * 4;
  const int i = std::min(int(t), 3);
  const double f = t - i;
  std::array<int, 3> c{};
  for (int k = 0; k < 3; ++k) c[size_t(k)] = int(std::lround(stops[size_t(i)][size_t(k)] * (1 - f) + stops[size_t(i + 1)][size_t(k)] * f));
  return fmt::format("#{:02x}{:02x}{:02x}", c[0], c[1], c[2]);
}

size_t index_of(std::vector<std::string>& list, const std::string& s) {
  auto it = std::find(list.begin(), list.end(), s);
  if (it != list.end()) return size_t(it - list.begin());
  list.push_back(s);
  return list.size() - 1;
}

} // namespace

std::string heatmap_svg(const std::vector<std::string>& rows, const std::vector<std::string>& columns,
                        const std::vector<HeatmapPanel>& panels, const std::string& title) {
  const double cell_w = 84, cell_h = 44, label_w = 110, top = 70, gap = 50;
  const double panel_w = label_w + cell_w * double(columns.size());
  const double W = 20 + double(panels.size()) * (panel_w + gap), H = top + cell_h * double(rows.size()) + 30;
  std::string o = fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                              "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
                              "font-family=\"sans-serif\" font-size=\"13\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
                              W, H);
  o += fmt::format("<text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{}</text>\n", W / 2, xml_escape(title));
  for (size_t p = 0; p < panels.size(); ++p) {
    const HeatmapPanel& panel = panels[p];
    const double x0 = 20 + double(p) * (panel_w + gap);
    double lo = INFINITY, hi = -INFINITY;
    for (auto& row : panel.cells)
      for (double v : row)
        if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    o += fmt::format("<text x=\"{}\" y=\"44\" text-anchor=\"middle\" font-size=\"14\">{}</text>\n", x0 + label_w + cell_w * double(columns.size()) / 2,
                     xml_escape(panel.title + (panel.higher_better ? " (higher is better)" : " (lower is better)")));
    for (size_t c = 0; c < columns.size(); ++c)
      o += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", x0 + label_w + cell_w * (double(c) + 0.5), top - 8,
                       xml_escape(columns[c]));
    for (size_t r = 0; r < rows.size(); ++r) {
      const double y = top + cell_h * double(r);
      o += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", x0 + label_w - 8, y + cell_h / 2 + 5, xml_escape(rows[r]));
      for (size_t c = 0; c < columns.size(); ++c) {
        const double v = r < panel.cells.size() && c < panel.cells[r].size() ? panel.cells[r][c] : NAN;
        double t = hi > lo ? (v - lo) / (hi - lo) : 1; // 1: the best value
        if (!panel.higher_better) t = 1 - t;
        const double x = x0 + label_w + cell_w * double(c);
        const bool ok = std::isfinite(v);
        o += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" stroke=\"white\"/>\n", x, y, cell_w, cell_h,
                         ok ? colour(t) : "#dddddd");
        o += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\">{}</text>\n", x + cell_w / 2, y + cell_h / 2 + 5,
                         ok && t > 0.6 ? "white" : "black", ok ? fmt::format("{:.{}f}", v, panel.decimals) : "n/a");
      }
    }
  }
  o += "</svg>\n";
  return o;
}

std::string score_heatmaps_svg(const std::vector<std::string>& score_files, const std::vector<std::string>& names,
                               const std::string& title) {
  if (score_files.empty()) throw UsageError("heatmap: give dlk-score --json files");
  if (names.size() != score_files.size()) throw UsageError("heatmap: one --name ROW/COLUMN per score file");
  std::vector<std::string> rows, columns;
  struct Cell {
    size_t r, c;
    double dsc, hd95;
  };
  std::vector<Cell> cells;
  for (size_t i = 0; i < score_files.size(); ++i) {
    const size_t slash = names[i].rfind('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == names[i].size())
      throw UsageError(fmt::format("--name '{}': give ROW/COLUMN (e.g. DLKUNet-S/C = 64)", names[i]));
    const json::Value s = read_score_file(score_files[i]);
    Cell cell{index_of(rows, names[i].substr(0, slash)), index_of(columns, names[i].substr(slash + 1)),
              100 * score_value(s.find("mean_dsc")), score_value(s.find("mean_hd95"))};
    for (auto& c : cells)
      if (c.r == cell.r && c.c == cell.c) throw UsageError(fmt::format("--name '{}': that cell is given twice", names[i]));
    cells.push_back(cell);
  }
  HeatmapPanel dsc{"mean DSC (%)", true, {}, 2}, hd95{"mean HD95", false, {}, 2};
  for (auto* p : {&dsc, &hd95}) p->cells.assign(rows.size(), std::vector<double>(columns.size(), NAN));
  for (auto& c : cells) {
    dsc.cells[c.r][c.c] = c.dsc;
    hd95.cells[c.r][c.c] = c.hd95;
  }
  return heatmap_svg(rows, columns, {dsc, hd95}, title);
}

} // namespace dlk
