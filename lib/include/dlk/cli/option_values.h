// Option values from their text on the command line or in an INI file: the value syntax of the
// suite's options, parsed into the library's types (which never see a command-line string). Each
// throws dlk::UsageError naming the option. Boost-free: tested on its own.
#pragma once
#include "dlk/core/json.h"
#include "dlk/metrics/metrics.h"
#include "dlk/prep/label_map.h"
#include "dlk/prep/normalize.h"
#include "dlk/report/slice_view.h"
#include "dlk/train/loss_schedule.h"
#include "dlk/train/lr_schedule.h"

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace dlk::cli {

// A comma-separated list of names (--classes, --channels, --ignore-labels-of), split; none
// empty, none twice. An empty value is an error too: leave the option out for the default.
// `problem`, when given, says what is wrong with a name ("" when nothing), e.g.
// dlk::class_name_problem.
std::vector<std::string> name_list(const std::string& option, const std::string& value,
                                   const std::function<std::string(const std::string&)>& problem = {});

// --normalize METHOD with its --window LO,HI and --percentiles LO,HI ("" leaves the default).
NormalizeSpec normalize_option(const std::string& method, const std::string& window, const std::string& percentiles);

// --label-map, --truth-label-map: inline pairs 'a:b,c:d', a file of them, or a name in
// share/dlk/label-maps. `option` without dashes ("label-map").
LabelMap label_map_option(const std::string& value, const char* option);

// --loss-phases 200:0.6:0.4,*:0.7:0.3 (UNTIL:ALPHA:BETA, epochs increasing, the last may be '*').
std::vector<LossSchedule::Phase> loss_phases_option(const std::string& text);
// --lr-phases 200:0.001,*:0.00001 (UNTIL:LR, epochs increasing, the last may be '*'); "" none.
std::vector<LrSchedule::Phase> lr_phases_option(const std::string& text);

// --mode: transunet, medpy, monai or nnunet.
ScoreMode score_mode_option(const std::string& text);

// dlk-prep --spacing: "none" (null), "auto", or "X,Y" in mm (dlk/io/resampling.h's range).
json::Value spacing_option(const std::string& text);

// --axis: an anatomical name (canonical volumes only) or a voxel axis x, y, z; "" means axial for
// canonical volumes and z for volumes sliced as stored. The voxel axis's index (x 0, y 1, z 2).
// The digits 0, 1 and 2 are the deprecated spellings of x, y and z (dlk-report's before).
int axis_option(const std::string& name, bool canonical);

// --keep-largest: "all" (an empty list) or class names or label values, comma-separated.
std::vector<std::string> keep_largest_option(const std::string& text);

// --part K/N: the K-th of N equal parts (K, N >= 1 checked by the run).
std::array<int, 2> part_option(const std::string& text);

// --size H or H,W: the model's input size, 1..16384 each.
std::array<int64_t, 2> size_option(const std::string& text);

// --view: radiological or neurological (dlk-report overlay and panel).
ViewConvention view_option(const std::string& name);

} // namespace dlk::cli
