// Fields of the CSV files dlk writes (dlk-score --csv, dlk-report table --format csv), as RFC 4180
// quotes them, and text made harmless for spreadsheets, which run a cell that starts with '='
// (=HYPERLINK(...), =cmd|...) as a formula.
#pragma once
#include <string>

namespace dlk {

// RFC 4180: a field holding a comma, a double quote, CR or LF is enclosed in double quotes, its
// double quotes doubled ("a,b" -> "\"a,b\""); any other field as it is.
std::string csv_quote(const std::string& field);

// A text field (a name, a case id, a rule; never a number): as OWASP recommends against formula
// injection, one that starts with '=', '+', '-', '@', a tab or CR gets a leading single quote
// ("=1+1" -> "'=1+1"); then quoted as csv_quote does.
std::string csv_text(const std::string& field);

} // namespace dlk
