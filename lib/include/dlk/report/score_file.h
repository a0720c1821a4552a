// dlk-score --json files as dlk-report reads them: parsed, then every value it may use checked
// against what dlk-score writes, so that an edited or damaged file is an error naming it and the
// JSON path of the bad value, never a row of impossible numbers (a DSC of -500 shown as the best).
#pragma once
#include "dlk/core/json.h"

#include <string>

namespace dlk {

// Throws dlk::Error "PATH: what" for the first value that dlk-score could not have written:
//   class_mean (required)    class name -> {"dsc": D, "hd95": H}
//   mean_dsc, mean_hd95      D, H (required)
//   classes                  class names, none twice; every class_mean key among them
//   settings.mode            transunet, medpy, monai or nnunet
//   cases[i]                 {"case": id, "spacing": 3 numbers > 0, "classes": name -> {"dsc": D,
//                            "iou": D, "hd95", "hd", "assd": H, "tp", "fp", "fn", "n_pred", "n_ref":
//                            counts with n_pred = tp + fp and n_ref = tp + fn, "rule": both,
//                            pred-only, ref-only or both-empty}}
//   keep_largest             class name -> {"dsc": D, "dsc_kept": D, "helps": true|false}
//   warnings                 strings
// where D is a number in [0, 1] or null (undefined: NaN), H a finite number >= 0, null or "inf"
// (MONAI's distance to an empty mask), names are class names (class_name_problem) and case ids
// (case_id_problem). Members not listed are ignored.
void check_score_json(const json::Value& scores);

// A dlk-score --json file, parsed and checked; fails naming the file.
json::Value read_score_file(const std::string& path);

// A score as the tables use it: a number, +inf for "inf", NaN for null or absent.
double score_value(const json::Value* v);

} // namespace dlk
