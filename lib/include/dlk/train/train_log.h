// A run's log.jsonl: one JSON line per epoch.
#pragma once
#include <string>

namespace dlk {

// Makes a run's log.jsonl agree with the checkpoint it resumes from, which has completed
// `epochs_done` epochs: keeps one line per epoch before that (the last one written, in epoch
// order) and drops later epochs' lines (the resumed run writes them again), unreadable and
// unfinished lines. Rewrites the file atomically when it changes; returns the lines dropped.
int trim_train_log(const std::string& path, int epochs_done);

} // namespace dlk
