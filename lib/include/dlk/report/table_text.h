// Text in the cells of dlk-report's tables. Method names come from directory names and --name,
// class names from score files: whatever they hold, a Markdown cell stays one cell that shows the
// text (no raw HTML, no '|' that shifts the columns, no line break that ends the table), and a
// LaTeX cell compiles to the text.
#pragma once
#include <string>

namespace dlk {

// '\', '|', '*' and '`' escaped with a backslash, '&', '<', '>' and '"' as HTML entities, line
// breaks, tabs and other control characters as spaces: "a|<b>" -> "a\|&lt;b&gt;".
std::string markdown_cell(const std::string& text);

// What a Markdown cell's text stands for: backslash escapes of ASCII punctuation and the entities
// &amp; &lt; &gt; &quot; &#39; decoded, so that markdown_cell_text(markdown_cell(s)) == s for any
// s without control characters.
std::string markdown_cell_text(const std::string& cell);

// LaTeX's special characters (\ { } $ & % # _ ^ ~) and those the OT1 encoding lacks (< > |) as
// commands, control characters as spaces: "a_b" -> "a\_b".
std::string latex_text(const std::string& text);

} // namespace dlk
