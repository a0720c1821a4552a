#include "dlk/prep/label_map.h"
#include "dlk/core/error.h"
#include "dlk/core/share_dir.h"
#include "dlk/core/whole_file.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <sstream>

namespace dlk {

int LabelMap::max_class() const {
  int m = rest.value_or(0);
  for (auto& kv : pairs) m = std::max(m, kv.second);
  return m;
}

// A bad map given inline is a usage error; a bad map file is a failure naming the file.
[[noreturn]] static void bad_map(const std::string& origin, const std::string& what) {
  if (origin == "--label-map") throw UsageError("--label-map: " + what);
  fail(origin, what);
}

static int64_t parse_int(const std::string& s, const std::string& origin) {
  try {
    size_t used = 0;
    long long v = std::stoll(s, &used);
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  bad_map(origin, fmt::format("'{}' is not an integer", s));
}

LabelMap LabelMap::parse(const std::string& arg) {
  std::string text = arg;
  std::string origin = "--label-map";
  if (arg.find(':') == std::string::npos || std::filesystem::is_regular_file(arg)) {
    if (!std::filesystem::is_regular_file(arg))
      throw UsageError(fmt::format("--label-map: '{}' is neither a file nor a list of raw:class pairs", arg));
    text = read_text_file(arg);
    origin = arg;
  }
  LabelMap m;
  std::stringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    line = line.substr(0, line.find('#'));
    for (char& c : line)
      if (c == ',' || c == '\t' || c == '\r') c = ' ';
    std::stringstream items(line);
    std::string item;
    while (items >> item) {
      // "a:b" or "a b" across tokens (file form); normalise to a:b
      if (item.find(':') == std::string::npos) {
        std::string second;
        if (!(items >> second)) bad_map(origin, fmt::format("'{}' needs a class", item));
        item += ":" + second;
      }
      auto colon = item.find(':');
      std::string a = item.substr(0, colon), b = item.substr(colon + 1);
      int64_t cls = parse_int(b, origin);
      if (cls < 0 || cls > 255) bad_map(origin, fmt::format("class {} outside 0..255", cls));
      if (a == "*") {
        if (m.rest) bad_map(origin, "'*' given twice");
        m.rest = int(cls);
        continue;
      }
      int64_t raw = parse_int(a, origin);
      if (!m.pairs.emplace(raw, int(cls)).second)
        bad_map(origin, fmt::format("raw value {} mapped twice", raw));
    }
  }
  if (m.empty()) bad_map(origin, "empty label map");
  return m;
}

json::Value LabelMap::to_json() const {
  if (empty()) return {};
  json::Value v{json::Object{}};
  for (auto& kv : pairs) v.set(std::to_string(kv.first), kv.second);
  if (rest) v.set("*", *rest);
  return v;
}

LabelMap LabelMap::from_json(const json::Value& v) {
  LabelMap m;
  if (v.is_null()) return m;
  for (auto& kv : v.as_object("label_map")) {
    int c = int(kv.second.as_int("label_map class"));
    if (kv.first == "*") m.rest = c;
    else m.pairs[parse_int(kv.first, "--label-map")] = c;
  }
  return m;
}

std::vector<uint8_t> apply_label_map(const std::vector<float>& raw, const LabelMap& map, int n_classes,
                                     const std::string& path, const int64_t size[3],
                                     std::vector<int64_t>& counts) {
  auto where = [&](size_t i) {
    const int64_t nx = size[0], ny = size[1];
    return fmt::format("({}, {}, {})", int64_t(i) % nx, (int64_t(i) / nx) % ny, int64_t(i) / (nx * ny));
  };
  std::vector<uint8_t> out(raw.size());
  // Values are few and small: a lookup table over the observed range keeps this two cheap passes
  // (no floor(), which is a library call without SSE4.1).
  int32_t lo = 0, hi = 0;
  for (size_t i = 0; i < raw.size(); ++i) {
    const float x = raw[i];
    if (!(x >= -2147483648.0f && x < 2147483648.0f)) // also false for NaN
      fail(path, fmt::format("label value {} at voxel {} is not an integer", x, where(i)));
    const int32_t v = int32_t(x);
    if (float(v) != x) fail(path, fmt::format("label value {} at voxel {} is not an integer", x, where(i)));
    lo = i == 0 || v < lo ? v : lo;
    hi = i == 0 || v > hi ? v : hi;
  }
  if (int64_t(hi) - int64_t(lo) > int64_t(1) << 24)
    fail(path, fmt::format("label values span {}..{}: not a label map", lo, hi));
  const int64_t base = lo;
  std::vector<int> lut(size_t(int64_t(hi) - base + 1), -1);
  for (size_t k = 0; k < lut.size(); ++k) {
    const int64_t v = base + int64_t(k);
    if (map.empty()) {
      lut[k] = (v >= 0 && v <= 255 && (n_classes <= 0 || v < n_classes)) ? int(v) : -1;
    } else {
      auto it = map.pairs.find(v);
      lut[k] = it != map.pairs.end() ? it->second : map.rest.value_or(-1);
    }
  }
  // A class past the names is an error too (-2), found with the voxel in the pass below.
  int top = std::max(n_classes, map.empty() ? 0 : map.max_class() + 1);
  for (int& c : lut)
    if (n_classes > 0 && c >= n_classes) c = -2;
    else top = std::max(top, c + 1);
  counts.assign(size_t(top), 0);
  for (size_t i = 0; i < raw.size(); ++i) {
    const int c = lut[size_t(int64_t(int32_t(raw[i])) - base)];
    if (c < 0) {
      if (c == -2)
        fail(path, fmt::format("label value {} at voxel {} maps to class {}, but there are only {} classes", raw[i],
                               where(i), map.pairs.count(int32_t(raw[i])) ? map.pairs.at(int32_t(raw[i])) : map.rest.value_or(-1),
                               n_classes));
      if (map.empty())
        fail(path, fmt::format("label value {} at voxel {} is not a class (the dataset has {} classes: "
                               "give --label-map or --classes)", raw[i], where(i), n_classes));
      fail(path, fmt::format("label value {} at voxel {} is not in the label map (add it, or '*:0' "
                             "to send unlisted values to background)", raw[i], where(i)));
    }
    out[i] = uint8_t(c);
    ++counts[size_t(c)];
  }
  return out;
}

} // namespace dlk
