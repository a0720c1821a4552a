// Where presets, split lists and label maps live: $DLK_SHARE_DIR, else <prefix>/share/dlk
// beside the running executable, else the source tree's share/ (for uninstalled builds).
#pragma once
#include <string>
#include <vector>

namespace dlk {
std::vector<std::string> share_dirs();
// Resolves NAME as a file path, else as share/<subdir>/NAME<ext>; throws UsageError listing
// what is available when neither exists.
std::string find_share_file(const std::string& name, const std::string& subdir, const std::string& ext,
                            const char* option);
} // namespace dlk
