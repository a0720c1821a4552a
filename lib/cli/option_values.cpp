// Option values from their text: the suite's value syntax, parsed into the library's types.
#include "dlk/cli/option_values.h"
#include "dlk/core/error.h"
#include "dlk/core/share_dir.h"
#include "dlk/io/orientation.h"
#include "dlk/io/resampling.h"
#include "dlk/shard/dataset.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

namespace dlk::cli {

namespace {
std::vector<double> parse_pair(const std::string& s, const char* what) {
  std::vector<double> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      size_t used = 0;
      out.push_back(std::stod(item, &used));
      if (used != item.size()) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      throw UsageError(fmt::format("--{}: '{}' is not a number", what, item));
    }
  }
  if (out.size() != 2 || !(out[0] < out[1]))
    throw UsageError(fmt::format("--{} wants LO,HI with LO < HI, got '{}'", what, s));
  return out;
}

} // namespace

std::vector<std::string> name_list(const std::string& option, const std::string& value,
                                   const std::function<std::string(const std::string&)>& problem) {
  if (value.empty()) throw UsageError(fmt::format("{}: an empty list (leave the option out for the default)", option));
  std::vector<std::string> out;
  std::set<std::string> seen;
  size_t start = 0;
  while (true) {
    const size_t end = std::min(value.find(',', start), value.size());
    const std::string name = value.substr(start, end - start);
    if (name.empty()) throw UsageError(fmt::format("{}: '{}' has an empty name (item {})", option, value, out.size() + 1));
    if (problem)
      if (std::string why = problem(name); !why.empty()) throw UsageError(fmt::format("{}: {}", option, why));
    if (!seen.insert(name).second) throw UsageError(fmt::format("{}: '{}' names '{}' twice", option, value, name));
    out.push_back(name);
    if (end == value.size()) break;
    start = end + 1;
  }
  return out;
}

NormalizeSpec normalize_option(const std::string& method, const std::string& window, const std::string& percentiles) {
  NormalizeSpec s;
  s.method = method;
  if (method != "window" && method != "zscore" && method != "minmax" && method != "percentile" && method != "none")
    throw UsageError(fmt::format("--normalize: unknown method '{}' (window, zscore, minmax, percentile, none)", method));
  if (!window.empty()) {
    auto w = parse_pair(window, "window");
    s.window_lo = w[0];
    s.window_hi = w[1];
  }
  if (!percentiles.empty()) {
    auto p = parse_pair(percentiles, "percentiles");
    if (p[0] < 0 || p[1] > 100) throw UsageError("--percentiles must lie within 0..100");
    s.pct_lo = p[0];
    s.pct_hi = p[1];
  }
  return s;
}

LabelMap label_map_option(const std::string& value, const char* option) {
  return LabelMap::parse(value.find(':') != std::string::npos ? value : find_share_file(value, "label-maps", ".txt", option));
}

std::vector<LossSchedule::Phase> loss_phases_option(const std::string& text) {
  std::vector<LossSchedule::Phase> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    LossSchedule::Phase p;
    char c1 = 0, c2 = 0;
    std::string until = item.substr(0, item.find(':'));
    std::stringstream rest(item.substr(item.find(':') == std::string::npos ? item.size() : item.find(':')));
    if (!(rest >> c1 >> p.w.alpha >> c2 >> p.w.beta) || c1 != ':' || c2 != ':' || !rest.eof())
      throw UsageError(fmt::format("--loss-phases: '{}' is not UNTIL:ALPHA:BETA", item));
    try {
      p.until = until == "*" ? 1e300 : std::stod(until);
    } catch (const std::exception&) {
      throw UsageError(fmt::format("--loss-phases: '{}' is not an epoch or '*'", until));
    }
    if (!out.empty() && p.until <= out.back().until) throw UsageError("--loss-phases: epochs must increase");
    out.push_back(p);
  }
  if (out.empty()) throw UsageError("--loss-phases: no phase");
  return out;
}

std::vector<LrSchedule::Phase> lr_phases_option(const std::string& text) {
  std::vector<LrSchedule::Phase> out;
  if (text.empty()) return out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const size_t colon = item.find(':');
    LrSchedule::Phase p;
    try {
      if (colon == std::string::npos) throw std::invalid_argument("no colon");
      const std::string until = item.substr(0, colon), lr = item.substr(colon + 1);
      size_t used = 0;
      p.lr = std::stod(lr, &used);
      if (used != lr.size()) throw std::invalid_argument("trailing characters");
      p.until = until == "*" ? 1e300 : std::stod(until, &used);
      if (until != "*" && used != until.size()) throw std::invalid_argument("trailing characters");
    } catch (const std::exception&) {
      throw UsageError(fmt::format("--lr-phases: '{}' is not UNTIL:LR (an epoch or '*', a learning rate)", item));
    }
    if (!(p.lr > 0) || !std::isfinite(p.lr)) throw UsageError(fmt::format("--lr-phases: '{}': the learning rate must be > 0", item));
    if (!(p.until > 0)) throw UsageError(fmt::format("--lr-phases: '{}': the epoch must be > 0", item));
    if (!out.empty() && p.until <= out.back().until) throw UsageError("--lr-phases: epochs must increase");
    out.push_back(p);
  }
  if (out.empty()) throw UsageError("--lr-phases: no phase");
  return out;
}

ScoreMode score_mode_option(const std::string& s) {
  if (s == "transunet") return ScoreMode::TransUNet;
  if (s == "medpy") return ScoreMode::Medpy;
  if (s == "monai") return ScoreMode::Monai;
  if (s == "nnunet") return ScoreMode::NnUNet;
  throw UsageError(fmt::format("--mode: '{}' (transunet, medpy, monai, nnunet)", s));
}

json::Value spacing_option(const std::string& text) {
  if (text.empty() || text == "none") return {};
  if (text == "auto") return "auto";
  const auto comma = text.find(',');
  json::Value v;
  try {
    size_t end = 0;
    if (comma != std::string::npos) {
      size_t end_y = 0;
      const double x = std::stod(text.substr(0, comma), &end), y = std::stod(text.substr(comma + 1), &end_y);
      if (end == comma && comma + 1 + end_y == text.size() && std::isfinite(x) && std::isfinite(y))
        v = json::Value(std::vector<double>{x, y});
    }
  } catch (const std::exception&) {
  }
  if (v.is_null() || !spacing_problem(v).empty())
    throw UsageError(fmt::format("--spacing {}: give X,Y in mm ({} to {} each), auto or none", text, kMinTargetSpacing,
                                 kMaxTargetSpacing));
  return v;
}

int axis_option(const std::string& name, bool canonical) {
  if (name.empty()) return 2;
  if (name == "x" || name == "0") return 0;
  if (name == "y" || name == "1") return 1;
  if (name == "z" || name == "2") return 2;
  if (name != "axial" && name != "coronal" && name != "sagittal")
    throw UsageError(fmt::format("--axis {}: axial, coronal, sagittal, or a voxel axis x, y or z", name));
  if (!canonical)
    throw UsageError(fmt::format("--axis {}: anatomical axes need --orientation canonical (volumes sliced as stored have "
                                 "only voxel axes x, y, z)", name));
  return anatomical_axis(name);
}

std::vector<std::string> keep_largest_option(const std::string& text) {
  if (text == "all") return {};
  return name_list("--keep-largest", text);
}

std::array<int, 2> part_option(const std::string& text) {
  std::array<int, 2> p{0, 0};
  char tail = 0;
  if (std::sscanf(text.c_str(), "%d/%d%c", &p[0], &p[1], &tail) != 2) throw UsageError(fmt::format("--part: '{}' is not K/N", text));
  return p;
}

std::array<int64_t, 2> size_option(const std::string& s) {
  int64_t h = 0, w = 0;
  try {
    size_t used = 0;
    h = std::stoll(s, &used);
    w = h;
    if (used < s.size()) {
      if (s[used] != ',') throw std::invalid_argument(s);
      std::string rest = s.substr(used + 1);
      w = std::stoll(rest, &used);
      if (used != rest.size()) throw std::invalid_argument(s);
    }
  } catch (const std::exception&) {
    throw UsageError(fmt::format("--size: '{}' is not H or H,W", s));
  }
  if (h < 1 || w < 1 || h > 16384 || w > 16384) throw UsageError(fmt::format("--size: {}x{} out of range", h, w));
  return {h, w};
}

ViewConvention view_option(const std::string& name) {
  if (name == "radiological") return ViewConvention::Radiological;
  if (name == "neurological") return ViewConvention::Neurological;
  throw UsageError(fmt::format("--view {}: radiological or neurological", name));
}

} // namespace dlk::cli
