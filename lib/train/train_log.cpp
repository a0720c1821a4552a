// log.jsonl of a resumed run: what the checkpoint has completed, no more.
#include "dlk/train/train_log.h"
#include "dlk/core/error.h"
#include "dlk/core/json.h"
#include "dlk/core/whole_file.h"

#include <filesystem>
#include <map>

namespace fs = std::filesystem;

namespace dlk {

int trim_train_log(const std::string& path, int epochs_done) {
  if (!fs::exists(path)) return 0;
  const std::string text = read_text_file(path);
  std::map<int64_t, std::string> keep; // epoch -> its last complete line
  int lines = 0;
  for (size_t start = 0; start < text.size();) {
    const size_t end = text.find('\n', start);
    const bool complete = end != std::string::npos; // a kill mid-write leaves a line unfinished
    const std::string line = text.substr(start, complete ? end - start : std::string::npos);
    start = complete ? end + 1 : text.size();
    if (line.empty()) continue;
    ++lines;
    if (!complete) continue;
    try {
      const json::Value v = json::Value::parse(line);
      const json::Value* e = v.is_object() ? v.find("epoch") : nullptr;
      if (e && e->is_number() && e->as_int() >= 0 && e->as_int() < epochs_done) keep[e->as_int()] = line;
    } catch (const Error&) { // not a line of ours: dropped
    }
  }
  std::string out;
  for (auto& [epoch, line] : keep) out += line + "\n";
  if (out != text) write_file_atomic(path, out);
  return lines - int(keep.size());
}

} // namespace dlk
