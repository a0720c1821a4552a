// Text inside SVG (and HTML): the five characters XML reserves, escaped, and the control characters
// XML 1.0 forbids (all below 32 but tab, LF and CR) as U+FFFD, so that no name breaks the document.
#pragma once
#include <string>

namespace dlk {

inline std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '&') o += "&amp;";
    else if (c == '"') o += "&quot;";
    else if (c == '\'') o += "&#39;";
    else if (static_cast<unsigned char>(c) < 32 && c != '\t' && c != '\n' && c != '\r') o += "\xEF\xBF\xBD";
    else o += c;
  }
  return o;
}

} // namespace dlk
