#include "dlk/report/table_text.h"

#include <cstring>

namespace dlk {

namespace {
bool control(unsigned char c) { return c < 32 || c == 127; }
} // namespace

std::string markdown_cell(const std::string& text) {
  std::string o;
  for (char c : text) {
    if (c == '&') o += "&amp;";
    else if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '"') o += "&quot;";
    else if (c == '\\' || c == '|' || c == '*' || c == '`') o += {'\\', c};
    else if (control(static_cast<unsigned char>(c))) o += ' ';
    else o += c;
  }
  return o;
}

std::string markdown_cell_text(const std::string& cell) {
  static const char* entities[][2] = {{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}};
  std::string o;
  for (size_t i = 0; i < cell.size(); ++i) {
    const char c = cell[i];
    if (c == '\\' && i + 1 < cell.size() && std::strchr("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", cell[i + 1]) && cell[i + 1]) {
      o += cell[++i];
      continue;
    }
    if (c == '&') {
      bool done = false;
      for (auto& e : entities)
        if (cell.compare(i, std::strlen(e[0]), e[0]) == 0) {
          o += e[1];
          i += std::strlen(e[0]) - 1;
          done = true;
          break;
        }
      if (done) continue;
    }
    o += c;
  }
  return o;
}

std::string latex_text(const std::string& text) {
  std::string o;
  for (char c : text) {
    if (c == '\\') o += "\\textbackslash{}";
    else if (c == '^') o += "\\textasciicircum{}";
    else if (c == '~') o += "\\textasciitilde{}";
    else if (c == '<') o += "\\textless{}";
    else if (c == '>') o += "\\textgreater{}";
    else if (c == '|') o += "\\textbar{}";
    else if (std::strchr("{}$&%#_", c) && c) o += {'\\', c};
    else if (control(static_cast<unsigned char>(c))) o += ' ';
    else o += c;
  }
  return o;
}

} // namespace dlk
