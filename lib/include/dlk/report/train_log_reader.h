// Reading dlk-train's log.jsonl (one JSON object per epoch) and the config.json beside it.
#pragma once
#include "dlk/report/plots.h"

#include <string>

namespace dlk {

// The curve of `metric` over the epochs of a training log (dlk-train's log.jsonl): x is the
// epoch counted from 1; lines without the metric are skipped, a null is NaN. Fails naming the
// file on a bad line or when no line has the metric. The series is named `name`.
Series read_training_curve(const std::string& log_path, const std::string& metric, const std::string& name);
// The split a run validated on each epoch (dlk-train --val-split), from the config.json beside
// its log.jsonl; "" where there is none. Fails naming config.json when it cannot be read.
std::string validation_split_of(const std::string& log_path);

} // namespace dlk
