#include "dlk/report/html_report.h"
#include "dlk/core/error.h"
#include "dlk/core/whole_file.h"
#include "dlk/report/plots.h"
#include "dlk/report/result_table.h"
#include "dlk/report/table_text.h"
#include "svg_text.h"

#include <fmt/format.h>

#include <filesystem>
#include <sstream>

namespace fs = std::filesystem;

namespace dlk {

namespace {

std::string base64(const std::string& in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  for (size_t i = 0; i < in.size(); i += 3) {
    const uint32_t n = uint32_t(uint8_t(in[i])) << 16 | (i + 1 < in.size() ? uint32_t(uint8_t(in[i + 1])) << 8 : 0) |
                       (i + 2 < in.size() ? uint32_t(uint8_t(in[i + 2])) : 0);
    out += k[n >> 18 & 63];
    out += k[n >> 12 & 63];
    out += i + 1 < in.size() ? k[n >> 6 & 63] : '=';
    out += i + 2 < in.size() ? k[n & 63] : '=';
  }
  return out;
}

std::string figure(const std::string& mime, const std::string& bytes, const std::string& alt) {
  return fmt::format("<figure><img alt=\"{}\" src=\"data:{};base64,{}\"></figure>\n", xml_escape(alt), mime, base64(bytes));
}

// A cell of dlk-report's Markdown: **x** bold and <u>x</u> underlined kept, the text its escapes
// stand for (markdown_cell: \| a '|' inside the cell, &lt; a '<') escaped again for HTML.
std::string cell_html(std::string c) {
  const size_t a = c.find_first_not_of(' '), b = c.find_last_not_of(' ');
  c = a == std::string::npos ? "" : c.substr(a, b - a + 1);
  auto text = [](const std::string& t) { return xml_escape(markdown_cell_text(t)); };
  if (c.size() > 4 && c.rfind("**", 0) == 0 && c.compare(c.size() - 2, 2, "**") == 0) return "<b>" + text(c.substr(2, c.size() - 4)) + "</b>";
  if (c.size() > 7 && c.rfind("<u>", 0) == 0 && c.compare(c.size() - 4, 4, "</u>") == 0) return "<u>" + text(c.substr(3, c.size() - 7)) + "</u>";
  return text(c);
}

std::string run_section(const std::string& dir, const std::string& name) {
  std::string out;
  const fs::path scores = fs::path(dir) / "scores.json", log = fs::path(dir) / "log.jsonl";
  if (!fs::exists(scores) && !fs::exists(log)) fail(dir, "a run directory holds scores.json or log.jsonl; this one neither");
  if (fs::exists(scores)) {
    ResultTable t;
    const json::Value s = read_score_file(scores.string());
    t.add_scores(name, s, NAN, NAN);
    t.with_cost = false;
    t.with_hd95 = !is_acdc_scores(s);
    out += markdown_table_html(t.render("markdown"), scores.string());
  }
  if (fs::exists(log)) {
    bool has_dice = read_text_file(log.string()).find("\"val_mean_dice\"") != std::string::npos;
    const std::string metric = has_dice ? "val_mean_dice" : "loss";
    out += figure("image/svg+xml", training_curves_svg({log.string()}, {name}, metric, ""), name + ": " + metric);
  }
  return out;
}

} // namespace

std::string markdown_table_html(const std::string& md, const std::string& origin) {
  std::stringstream ss(md);
  std::string line, out = "<table>\n";
  int n = 0;
  size_t columns = 0;
  while (std::getline(ss, line)) {
    if (line.empty()) continue;
    if (line.size() < 2 || line.front() != '|' || line.back() != '|') fail(origin, "not a Markdown table (a line does not start and end with '|')");
    ++n;
    if (n == 2) {
      if (line.find("---") == std::string::npos) fail(origin, "not a Markdown table (no |---| line under the header)");
      continue;
    }
    std::vector<std::string> cells;
    std::string cell;
    for (size_t i = 1; i < line.size(); ++i) {
      if (line[i] == '\\' && i + 1 < line.size()) cell += line.substr(i++, 2); // \| is a '|' in the cell
      else if (line[i] == '|') cells.push_back(cell), cell.clear();
      else cell += line[i];
    }
    if (cell.find_first_not_of(' ') != std::string::npos) cells.push_back(cell); // the last '|' was escaped
    if (n == 1) columns = cells.size();
    else if (cells.size() != columns) // a cell more or less would put values under other columns
      fail(origin, fmt::format("not a Markdown table (line {} has {} cells, the header {})", n, cells.size(), columns));
    out += "<tr>";
    for (auto& c : cells) out += fmt::format(n == 1 ? "<th>{}</th>" : "<td>{}</td>", cell_html(c));
    out += "</tr>\n";
  }
  if (n < 2) fail(origin, "not a Markdown table (fewer than two lines)");
  return out + "</table>\n";
}

std::string html_report(const std::vector<std::string>& inputs, const std::vector<std::string>& names, const std::string& title) {
  if (inputs.empty()) throw UsageError("html: give tables (.md), figures (.svg, .png) or run directories");
  std::string body;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string& in = inputs[i];
    const std::string name = i < names.size() ? names[i] : fs::path(in).filename().string();
    const std::string ext = fs::path(in).extension().string();
    body += fmt::format("<section>\n<h2>{}</h2>\n", xml_escape(name));
    if (fs::is_directory(in)) body += run_section(in, name);
    else if (ext == ".md") body += markdown_table_html(read_text_file(in), in);
    else if (ext == ".svg") body += figure("image/svg+xml", read_text_file(in), name);
    else if (ext == ".png") body += figure("image/png", read_text_file(in), name);
    else fail(in, "html takes .md tables, .svg and .png figures and run directories");
    body += "</section>\n";
  }
  return fmt::format(R"(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{0}</title>
<style>
body {{ font-family: sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
figure {{ margin: 1em 0; }}
figure img {{ max-width: 100%; }}
</style>
<script>
window.dlkErrors = 0;
window.addEventListener('error', function () {{ window.dlkErrors++; }}, true);
window.addEventListener('load', function () {{
  var broken = 0, imgs = document.images;
  for (var i = 0; i < imgs.length; i++) if (!imgs[i].complete || imgs[i].naturalWidth === 0) broken++;
  document.body.setAttribute('data-figures', imgs.length);
  document.body.setAttribute('data-broken', broken);
  document.body.setAttribute('data-errors', window.dlkErrors);
}});
</script>
</head>
<body>
<h1>{0}</h1>
{1}</body>
</html>
)",
                     xml_escape(title), body);
}

} // namespace dlk
