// Checks of option values shared by the tools and the options structs: a bad value is a usage
// error (exit 2) that names the option, caught before any data is read.
#include "dlk/core/value_checks.h"
#include "dlk/core/error.h"

#include <fmt/format.h>

#include <cmath>

namespace dlk {

namespace {
std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s;
}
} // namespace

void require_positive(const std::string& option, double value) {
  if (!std::isfinite(value) || value <= 0) throw UsageError(fmt::format("{}: {} (a finite number > 0)", option, value));
}

void require_non_negative(const std::string& option, double value) {
  if (!std::isfinite(value) || value < 0) throw UsageError(fmt::format("{}: {} (a finite number >= 0)", option, value));
}

void require_unit_interval(const std::string& option, double value, bool one_allowed) {
  if (!(value >= 0 && (one_allowed ? value <= 1 : value < 1))) // false for NaN too
    throw UsageError(fmt::format("{}: {} (a number in [0, 1{})", option, value, one_allowed ? "]" : ")"));
}

void require_at_least(const std::string& option, int64_t value, int64_t min) {
  if (value < min) throw UsageError(fmt::format("{}: {} (at least {})", option, value, min));
}

void require_one_of(const std::string& option, const std::string& value, const std::vector<std::string>& allowed) {
  for (auto& a : allowed)
    if (value == a) return;
  throw UsageError(fmt::format("{}: '{}' ({})", option, value, joined(allowed)));
}

void require_split(const std::string& option, const std::string& value, bool all_allowed) {
  if (all_allowed) require_one_of(option, value, {"train", "val", "test", "all"});
  else require_one_of(option, value, {"train", "val", "test"});
}

void require_precision(const std::string& option, const std::string& value) {
  require_one_of(option, value, {"bf16", "fp16", "fp32"});
}

void require_name(const std::string& option, const std::string& value) {
  if (value.empty()) throw UsageError(fmt::format("{}: an empty name (leave the option out for the default)", option));
}

} // namespace dlk
