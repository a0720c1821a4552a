#include "dlk/core/link_target.h"

#include <cstdlib>
#include <sys/stat.h>

namespace dlk {

std::string link_target(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return path;
  char* real = ::realpath(path.c_str(), nullptr); // a dangling link: its own name
  if (!real) return path;
  std::string target = real;
  std::free(real);
  return target;
}

} // namespace dlk
