// The paper's visual comparisons (Figs. 7, 8, 10): one row per case (its slice with the most
// reference voxels), columns the image, the reference and each model's prediction, one colour
// per class, at the data's own resolution, with column titles and a colour legend naming the
// classes. Each slice is turned as `view` shows the patient, with orientation letters at its edges
// and a caption naming the convention.
#pragma once
#include "dlk/report/slice_view.h"

#include <string>
#include <vector>

namespace dlk {

struct PanelRequest {
  std::string dataset;                  // a prepared dataset: images and reference labels
  std::string split = "test";           // whose cases
  std::vector<std::string> cases;       // rows; empty: the first `rows` cases (with `only_class`)
  int rows = 4;
  std::vector<std::string> predictions; // one label source per model (dlk-infer's output)
  std::vector<std::string> names;       // the models' column titles, in order
  std::string only_class;               // colour this class alone (Fig. 10: pancreas); "" all
  ViewConvention view = ViewConvention::Radiological; // how slices are turned and lettered
};

// The panel as PNG. Fails naming the dataset, a prediction or a case that is missing or on
// another grid, and a class the dataset does not have.
std::string panel_png(const PanelRequest& request);

} // namespace dlk
