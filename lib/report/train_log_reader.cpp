// dlk-train's log.jsonl read back: the curve of one metric, the split it validated on.
#include "dlk/report/train_log_reader.h"
#include "dlk/core/error.h"
#include "dlk/core/json.h"
#include "dlk/core/whole_file.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <sstream>
#include <utility>

namespace fs = std::filesystem;

namespace dlk {

namespace {

// "level_losses[2]" -> ("level_losses", 2); a plain name -> (name, -1).
std::pair<std::string, long> split_element(const std::string& metric) {
  const auto open = metric.find('[');
  if (open == std::string::npos || metric.back() != ']') return {metric, -1};
  const std::string index = metric.substr(open + 1, metric.size() - open - 2);
  if (index.empty() || index.find_first_not_of("0123456789") != std::string::npos)
    throw UsageError(fmt::format("--metric {}: the index in [] must be a whole number", metric));
  return {metric.substr(0, open), std::stol(index)};
}

// A log line's value for the metric: a number, NaN for null (an epoch without it), else an error.
double metric_value(const std::string& log_path, int line, const std::string& metric, const std::string& field,
                    long element, const json::Value& y) {
  const json::Value* v = &y;
  if (element >= 0) {
    if (!y.is_array())
      fail(log_path, fmt::format("line {}: '{}' is not a list, so '{}' names nothing", line, field, metric));
    const auto& a = y.as_array();
    if (size_t(element) >= a.size())
      fail(log_path, fmt::format("line {}: '{}' has {} entries, so '{}' names nothing", line, field, a.size(), metric));
    v = &a[size_t(element)];
  }
  if (v->is_number()) return v->as_number();
  if (v->is_null()) return NAN;
  if (v->is_array())
    fail(log_path, fmt::format("line {}: '{}' is a list of {} values, not a number; plot one with "
                               "--metric '{}[0]'", line, field, v->as_array().size(), field));
  fail(log_path, fmt::format("line {}: '{}' is not a number", line, metric));
}

} // namespace

Series read_training_curve(const std::string& log_path, const std::string& metric, const std::string& name) {
  Series s;
  s.name = name;
  const auto [field, element] = split_element(metric);
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
    const json::Value* y = v.find(field);
    if (!y) continue;
    s.x.push_back(double(v.at("epoch").as_int()) + 1);
    s.y.push_back(metric_value(log_path, n, metric, field, element, *y));
  }
  if (s.x.empty()) fail(log_path, fmt::format("no line has '{}'", field));
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
