// The directory a path is in, as temporaries and renames need it (private to lib/core).
#pragma once
#include <string>

namespace dlk {

// "a/b" -> "a", "/b" -> "/", "b" -> ".".
inline std::string directory_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

} // namespace dlk
