#include "dlk/core/whole_file.h"
#include "dlk/core/error.h"
#include "dlk/core/input_stream.h"
#include "dlk/core/output_file.h"
#include "dlk/core/standard_descriptors.h"

#include <iostream>

namespace dlk {

std::string read_text_file(const std::string& path) {
  InputStream in(path);
  std::string out;
  char buf[65536];
  size_t n;
  while ((n = in.read(buf, sizeof buf)) > 0) out.append(buf, n);
  return out;
}

void write_file_atomic(const std::string& path, const std::string& content) {
  OutputFile out(path);
  out.write(content);
  out.commit();
}

void write_text(const std::string& path, const std::string& text) {
  if (path != "-") return write_file_atomic(path, text);
  check_stdout_open();
  std::cout << text;
}

} // namespace dlk
