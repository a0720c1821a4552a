// Result tables like the paper's: dlk's scores beside published rows, best and second marked.
#pragma once
#include "dlk/core/json.h"
#include "dlk/report/score_file.h"

#include <cmath>
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

// True when the scores' classes are ACDC's (RV, Myo): Table 3's layout, DSC only.
bool is_acdc_scores(const json::Value& scores);

// The paper's abbreviation of a class name ("kidney_left" -> "Kid(L)"); the name itself otherwise.
std::string paper_class_title(const std::string& name);

} // namespace dlk
