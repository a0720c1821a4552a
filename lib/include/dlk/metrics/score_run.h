// A dlk-score run: prediction and reference label volumes matched by case id, every foreground
// class scored, aggregated as the chosen convention does, written as CSV and JSON.
#pragma once
#include "dlk/core/json.h"
#include "dlk/metrics/metrics.h"
#include "dlk/prep/label_map.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace dlk {

struct ScoreOptions {
  ScoreMode mode = ScoreMode::TransUNet;
  bool image_spacing = false; // mm from the header instead of unit steps
  bool include_background = false;
  bool allow_missing = false; // a reference case without prediction counts as all-empty prediction
  bool distances = true;
  std::string split = "test"; // for dataset sides
  LabelMap truth_map;
  std::vector<std::string> classes; // names, when no side names them
  int threads = 1;
  // Also score the predictions with each listed class's largest component kept (as dlk-infer
  // --keep-largest would), to tell whether that post-processing helps: unset no, {} all, or
  // classes by name or label value.
  std::optional<std::vector<std::string>> keep_largest;
};

struct CaseScores {
  std::string case_id;
  std::array<double, 3> spacing{1, 1, 1};
  std::vector<int> class_ids;
  std::vector<ClassScore> scores;
};

struct ScoreReport {
  ScoreOptions options;
  std::vector<std::string> class_names; // index = class id
  std::vector<CaseScores> cases;
  std::vector<CaseScores> kept; // the same cases with --keep-largest applied (empty: not asked)
  std::vector<std::string> warnings;

  // Per class: the mean over cases (TransUNet: plain mean; the others: NaN ignored).
  std::vector<double> class_mean(double ClassScore::*field) const;
  // The headline number: TransUNet/medpy/nnU-Net: mean over classes of the class means;
  // MONAI: mean over cases of each case's NaN-ignoring mean over classes.
  double overall(double ClassScore::*field) const;
  json::Value to_json() const;
  std::string to_csv() const;
  std::string table() const;
};

ScoreReport run_score(const std::string& pred, const std::string& truth, const ScoreOptions& opt,
                      const std::function<void(const CaseScores&)>& on_case = {});

} // namespace dlk
