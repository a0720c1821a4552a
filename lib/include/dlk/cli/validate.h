// Checks of option values after parsing (command line and config files alike).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace dlk::cli {

// Checks of option values after parsing (command line and config files alike): each throws
// dlk::UsageError naming the option and what it takes, e.g. "--lr: nan (a finite number > 0)".
// `option` is the option as written ("--lr").
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
// A comma-separated list of names (--classes, --channels), split; none empty, none twice. An
// empty value is an error too: leave the option out for the default. `problem`, when given, says
// what is wrong with a name ("" when nothing), e.g. dlk::class_name_problem.
std::vector<std::string> name_list(const std::string& option, const std::string& value,
                                   const std::function<std::string(const std::string&)>& problem = {});

} // namespace dlk::cli
