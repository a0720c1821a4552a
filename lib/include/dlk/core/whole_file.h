// A whole file read or written at once.
#pragma once
#include <string>

namespace dlk {

// The whole content of a file or of stdin ("-").
std::string read_text_file(const std::string& path);
// Content for a file, written atomically (through OutputFile).
void write_file_atomic(const std::string& path, const std::string& content);
// Text for a file (atomically) or "-" (standard output, in order with what the tool printed).
void write_text(const std::string& path, const std::string& text);

} // namespace dlk
