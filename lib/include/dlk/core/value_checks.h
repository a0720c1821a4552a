// Checks of option values, after parsing and for config.json alike: each throws dlk::UsageError
// naming the option and what it takes, e.g. "--lr: nan (a finite number > 0)". `option` is the
// option as written ("--lr"). Boost-free, so that a library's options struct can check itself.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dlk {

void require_positive(const std::string& option, double value);           // finite, > 0
void require_non_negative(const std::string& option, double value);       // finite, >= 0
void require_unit_interval(const std::string& option, double value, bool one_allowed); // [0, 1] or [0, 1)
void require_at_least(const std::string& option, int64_t value, int64_t min);
void require_one_of(const std::string& option, const std::string& value, const std::vector<std::string>& allowed);
// A split that selects the cases of a dataset: train, val or test, with `all` every case.
void require_split(const std::string& option, const std::string& value, bool all_allowed = true);
// bf16, fp16 or fp32: the arithmetic of --precision.
void require_precision(const std::string& option, const std::string& value);
// A name given by the user (--case): not empty.
void require_name(const std::string& option, const std::string& value);

} // namespace dlk
