#include "dlk/core/csv.h"

namespace dlk {

std::string csv_quote(const std::string& field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

std::string csv_text(const std::string& field) {
  const bool formula = !field.empty() && std::string("=+-@\t\r").find(field[0]) != std::string::npos;
  return csv_quote(formula ? "'" + field : field);
}

} // namespace dlk
