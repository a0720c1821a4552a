// libFuzzer target: arbitrary bytes through the JSON parser and dlk::check_score_json, as
// dlk-report reads a dlk-score --json file (read_score_file). Any input must give a value or a
// dlk::Error. What passes must tabulate as dlk-report does: every format renders, the numbers are
// within the checked ranges, and the Markdown table (with a hostile method name) reads back
// through markdown_table_html with one cell per column.
#include "dlk/core/error.h"
#include "dlk/core/json.h"
#include "dlk/report/html_report.h"
#include "dlk/report/result_table.h"
#include "dlk/report/score_file.h"

#include <cmath>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  dlk::json::Value v;
  try {
    v = dlk::json::Value::parse(std::string(reinterpret_cast<const char*>(data), size));
    dlk::check_score_json(v);
  } catch (const dlk::Error&) {
    return 0;
  }
  dlk::ResultTable t;
  t.with_cost = false;
  t.with_hd95 = !dlk::is_acdc_scores(v);
  t.add_scores("run|<b>*x*</b>\n", v, NAN, NAN);
  for (const dlk::ResultRow& r : t.rows) {
    if (r.dsc < 0 || r.dsc > 100 || r.hd95 < 0) __builtin_trap(); // NaN compares false: allowed
    for (double d : r.class_dsc)
      if (d < 0 || d > 100) __builtin_trap();
  }
  for (const char* format : {"csv", "latex"}) (void)t.render(format);
  const std::string md = t.render("markdown");
  std::string html;
  try {
    html = dlk::markdown_table_html(md, "fuzz");
  } catch (const dlk::Error&) {
    __builtin_trap(); // dlk-report html must read every table dlk-report writes
  }
  size_t cells = 0;
  for (size_t at = 0; (at = html.find("<td>", at)) != std::string::npos; ++at) ++cells;
  if (cells != 1 + (t.with_hd95 ? 2 : 1) + t.class_keys.size()) __builtin_trap();
  return 0;
}
