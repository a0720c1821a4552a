#include "dlk/core/share_dir.h"
#include "dlk/core/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <unistd.h>

namespace fs = std::filesystem;

namespace dlk {

std::vector<std::string> share_dirs() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("DLK_SHARE_DIR"); env && *env) dirs.emplace_back(env);
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path installed = exe.parent_path().parent_path() / "share" / "dlk";
    if (fs::is_directory(installed)) dirs.push_back(installed.string());
  }
#ifdef DLK_SOURCE_SHARE_DIR
  if (fs::is_directory(DLK_SOURCE_SHARE_DIR)) dirs.emplace_back(DLK_SOURCE_SHARE_DIR);
#endif
  return dirs;
}

std::string find_share_file(const std::string& name, const std::string& subdir, const std::string& ext,
                            const char* option) {
  if (fs::is_regular_file(name)) return name;
  std::vector<std::string> available;
  for (const auto& d : share_dirs()) {
    fs::path p = fs::path(d) / subdir / (name + ext);
    if (fs::is_regular_file(p)) return p.string();
    std::error_code ec;
    for (auto& e : fs::directory_iterator(fs::path(d) / subdir, ec))
      if (e.path().extension() == ext) available.push_back(e.path().stem().string());
  }
  std::sort(available.begin(), available.end());
  available.erase(std::unique(available.begin(), available.end()), available.end());
  std::string list;
  for (auto& a : available) list += (list.empty() ? "" : ", ") + a;
  throw UsageError(fmt::format("--{}: '{}' is neither a file nor a known name{}", option, name,
                               list.empty() ? "" : " (known: " + list + ")"));
}

} // namespace dlk
