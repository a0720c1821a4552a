// dlk-train's log.jsonl read back: the curve of one metric, the split it validated on.
#include "dlk/report/train_log_reader.h"
#include "dlk/core/error.h"
#include "dlk/core/json.h"
#include "dlk/core/whole_file.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <sstream>

namespace fs = std::filesystem;

namespace dlk {

Series read_training_curve(const std::string& log_path, const std::string& metric, const std::string& name) {
  Series s;
  s.name = name;
  std::stringstream ss(read_text_file(log_path));
  std::string line;
  int n = 0;
  while (std::getline(ss, line)) {
    ++n;
    if (line.empty()) continue;
    json::Value v;
    try {
      v = json::Value::parse(line);
    } catch (const Error& e) {
      fail(log_path, fmt::format("line {}: {}", n, e.what()));
    }
    const json::Value* y = v.find(metric);
    if (!y) continue;
    s.x.push_back(double(v.at("epoch").as_int()) + 1);
    s.y.push_back(y->is_number() ? y->as_number() : NAN);
  }
  if (s.x.empty()) fail(log_path, fmt::format("no line has '{}'", metric));
  return s;
}

std::string validation_split_of(const std::string& log_path) {
  const fs::path config = fs::path(log_path).parent_path() / "config.json";
  if (!fs::exists(config)) return "";
  try {
    const json::Value v = json::Value::parse(read_text_file(config.string()));
    const json::Value* split = v.find("val_split");
    return split ? split->as_string("val_split") : "";
  } catch (const Error& e) {
    fail(config.string(), e.what());
  }
}

} // namespace dlk
