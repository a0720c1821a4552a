#include "dlk/core/error.h"

#include <fmt/format.h>

namespace dlk {

std::string quoted_path(const std::string& path) {
  return path == "-" ? std::string("<stdin/stdout>") : "'" + path + "'";
}

void fail(const std::string& path, const std::string& what) {
  throw Error(fmt::format("{}: {}", quoted_path(path), what));
}

void fail_naming(const std::string& path, const Error& e, const std::string& context) {
  const std::string msg = e.what();
  if (msg.rfind(quoted_path(path), 0) == 0) throw e;
  fail(path, context + msg);
}

} // namespace dlk
