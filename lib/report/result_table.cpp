#include "dlk/report/result_table.h"
#include "dlk/core/csv.h"
#include "dlk/core/error.h"
#include "dlk/report/table_text.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

namespace dlk {

std::string paper_class_title(const std::string& name) {
  static const std::map<std::string, std::string> t = {
      {"aorta", "Aorta"}, {"gallbladder", "Gallb."}, {"kidney_left", "Kid(L)"}, {"kidney_right", "Kid(R)"},
      {"liver", "Liver"}, {"pancreas", "Panc."},     {"spleen", "Spleen"},      {"stomach", "Stom."}};
  auto it = t.find(name);
  return it == t.end() ? name : it->second;
}

void ResultTable::add_scores(const std::string& method, const json::Value& s, double params_m, double flops_g) {
  ResultRow r;
  r.method = method;
  r.params_m = params_m;
  r.flops_g = flops_g;
  r.dsc = 100 * score_value(s.find("mean_dsc"));
  r.hd95 = score_value(s.find("mean_hd95"));
  const json::Value& cm = s.at("class_mean");
  if (class_keys.empty())
    for (auto& kv : cm.as_object()) class_keys.push_back(kv.first);
  for (auto& k : class_keys) {
    const json::Value* c = cm.find(k);
    r.class_dsc.push_back(c ? 100 * score_value(c->find("dsc")) : NAN);
  }
  rows.push_back(r);
}

bool is_acdc_scores(const json::Value& scores) {
  for (auto& kv : scores.at("class_mean").as_object())
    if (kv.first == "RV" || kv.first == "Myo") return true;
  return false;
}

void ResultTable::add_published(const std::string& text, const std::string& origin) {
  std::stringstream ss(text);
  std::string line;
  std::vector<std::string> header;
  auto split = [](const std::string& l) {
    std::vector<std::string> out;
    std::stringstream ls(l);
    std::string cell;
    while (std::getline(ls, cell, ',')) out.push_back(cell);
    if (!l.empty() && l.back() == ',') out.push_back("");
    return out;
  };
  while (std::getline(ss, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto cells = split(line);
    if (header.empty()) {
      header = cells;
      if (header.size() < 5 || header[0] != "method") fail(origin, "header must start method,params_m,flops_g,dsc,hd95");
      if (class_keys.empty()) class_keys.assign(header.begin() + 5, header.end());
      continue;
    }
    if (cells.size() != header.size()) fail(origin, fmt::format("row '{}' has {} cells, the header {}", cells[0], cells.size(), header.size()));
    auto val = [&](const std::string& c) { return c.empty() ? NAN : std::stod(c); };
    ResultRow r;
    r.published = true;
    r.method = cells[0];
    r.params_m = val(cells[1]);
    r.flops_g = val(cells[2]);
    r.dsc = val(cells[3]);
    r.hd95 = val(cells[4]);
    for (auto& k : class_keys) {
      auto it = std::find(header.begin(), header.end(), k);
      r.class_dsc.push_back(it == header.end() ? NAN : val(cells[size_t(it - header.begin())]));
    }
    rows.push_back(r);
  }
}

namespace {

struct Col {
  std::string title;
  std::vector<double> v;
  int better; // +1 higher, -1 lower, 0 not ranked
  int digits;
};

// Ranks per column: 1 best, 2 second best.
std::vector<std::vector<int>> rank_columns(const std::vector<Col>& cols, size_t n_rows) {
  std::vector<std::vector<int>> rank(cols.size(), std::vector<int>(n_rows, 0));
  for (size_t c = 0; c < cols.size(); ++c) {
    if (!cols[c].better) continue;
    std::vector<double> vals;
    for (double x : cols[c].v)
      if (!std::isnan(x)) vals.push_back(x);
    std::sort(vals.begin(), vals.end());
    vals.erase(std::unique(vals.begin(), vals.end()), vals.end());
    if (cols[c].better > 0) std::reverse(vals.begin(), vals.end());
    for (size_t r = 0; r < n_rows; ++r)
      for (int k = 0; k < 2 && k < int(vals.size()); ++k)
        if (cols[c].v[r] == vals[size_t(k)]) rank[c][r] = k + 1;
  }
  return rank;
}

} // namespace

std::string ResultTable::render(const std::string& format) const {
  if (format != "markdown" && format != "csv" && format != "latex")
    throw UsageError(fmt::format("--format: '{}' (markdown, csv, latex)", format));
  std::vector<Col> cols;
  auto column = [&](std::string title, int better, int digits, auto get) {
    Col c{std::move(title), {}, better, digits};
    for (auto& r : rows) c.v.push_back(get(r));
    cols.push_back(c);
  };
  if (with_cost) {
    column("Params (M)", 0, 2, [](const ResultRow& r) { return r.params_m; });
    column("FLOPs (G)", 0, 2, [](const ResultRow& r) { return r.flops_g; });
  }
  column("DSC", +1, 2, [](const ResultRow& r) { return r.dsc; });
  if (with_hd95) column("HD95", -1, 2, [](const ResultRow& r) { return r.hd95; });
  for (size_t k = 0; k < class_keys.size(); ++k)
    column(class_titles.size() > k ? class_titles[k] : paper_class_title(class_keys[k]), +1, 2,
           [k](const ResultRow& r) { return k < r.class_dsc.size() ? r.class_dsc[k] : NAN; });
  const auto rank = rank_columns(cols, rows.size());
  auto cell = [&](size_t c, size_t r) -> std::string {
    const double x = cols[c].v[r];
    if (std::isnan(x)) return format == "latex" ? "--" : "";
    std::string s = fmt::format("{:.{}f}", x, cols[c].digits);
    if (format == "markdown") return rank[c][r] == 1 ? "**" + s + "**" : rank[c][r] == 2 ? "<u>" + s + "</u>" : s;
    if (format == "latex") return rank[c][r] == 1 ? "\\textbf{" + s + "}" : rank[c][r] == 2 ? "\\underline{" + s + "}" : s;
    return s;
  };
  // Per format: the header, then per row its cells.
  const bool md = format == "markdown", csv = format == "csv";
  std::string out;
  // Names as each format needs them: one cell that shows the text, never markup or a formula.
  auto text = [&](const std::string& t) { return md ? markdown_cell(t) : csv ? csv_text(t) : latex_text(t); };
  if (md) {
    out += "| Method |";
    for (auto& c : cols) out += " " + text(c.title) + " |";
    out += "\n|---|";
    for (size_t c = 0; c < cols.size(); ++c) out += "---|";
    out += "\n";
  } else if (csv) {
    out += "method";
    for (auto& c : cols) out += "," + text(c.title);
    out += "\n";
  } else {
    out += "\\begin{tabular}{l" + std::string(cols.size(), 'r') + "}\n\\hline\nMethod";
    for (auto& c : cols) out += " & " + text(c.title);
    out += " \\\\\n\\hline\n";
  }
  for (size_t r = 0; r < rows.size(); ++r) {
    // Published rows say so: a reader must not take the paper's numbers for this run's.
    const std::string method = rows[r].published ? rows[r].method + " (published)" : rows[r].method;
    out += md ? "| " + text(method) + " |" : text(method);
    for (size_t c = 0; c < cols.size(); ++c) out += md ? " " + cell(c, r) + " |" : csv ? "," + cell(c, r) : " & " + cell(c, r);
    out += md || csv ? "\n" : " \\\\\n";
  }
  if (!md && !csv) out += "\\hline\n\\end{tabular}\n";
  return out;
}

} // namespace dlk
