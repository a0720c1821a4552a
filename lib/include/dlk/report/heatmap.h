// Heatmaps of runs on a grid (the paper's Fig. 9: variants S, M, L by channels C = 64, 96, 128),
// one panel per metric, the value written in each cell, darker for better.
#pragma once
#include <string>
#include <vector>

namespace dlk {

struct HeatmapPanel {
  std::string title;                      // "mean DSC (%)"
  bool higher_better = true;              // colours run from worst (light) to best (dark)
  std::vector<std::vector<double>> cells; // [row][column]; NaN: no value
  int decimals = 2;
};

// Panels side by side, sharing the row and column labels, under `title`.
std::string heatmap_svg(const std::vector<std::string>& rows, const std::vector<std::string>& columns,
                        const std::vector<HeatmapPanel>& panels, const std::string& title);

// Fig. 9 from dlk-score --json files: file i is the run at grid position names[i] = "ROW/COLUMN"
// (rows and columns in the order they first appear); a DSC (%) and an HD95 panel. Fails naming a
// file or name that is wrong; a position given twice is an error.
std::string score_heatmaps_svg(const std::vector<std::string>& score_files, const std::vector<std::string>& names,
                               const std::string& title);

} // namespace dlk
