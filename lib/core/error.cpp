#include "dlk/error.h"

#include <fmt/format.h>

namespace dlk {

std::string quoted_path(const std::string& path) {
  return path == "-" ? std::string("<stdin/stdout>") : "'" + path + "'";
}

void fail(const std::string& path, const std::string& what) {
  throw Error(fmt::format("{}: {}", quoted_path(path), what));
}

} // namespace dlk
