// One self-contained HTML report (dlk-report html): tables, curves, heatmaps and panels in one
// file that any browser shows without network access. Figures are embedded (SVG and PNG as data
// URIs), tables become HTML tables. A small script marks on <body> how many figures failed to
// load and how many script errors happened (data-broken, data-errors), for tests and readers.
#pragma once
#include <string>
#include <vector>

namespace dlk {

// A section per input, in order: a dlk-report Markdown table (.md), an SVG figure (.svg), a PNG
// (.png), or a run directory (its scores as a table row, its Dice per epoch as a curve). Each
// section is titled by `names` (in order) or the file's name. Fails naming an input it cannot use.
std::string html_report(const std::vector<std::string>& inputs, const std::vector<std::string>& names,
                        const std::string& title);

// A Markdown table as dlk-report writes it (pipes, a --- row, **best**, <u>second</u>) as an
// HTML <table>; fails naming `origin` when the text is no such table.
std::string markdown_table_html(const std::string& markdown, const std::string& origin);

} // namespace dlk
