#include "dlk/dataset.h"
#include "dlk/error.h"
#include "dlk/io.h"
#include "shard_format.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>

namespace fs = std::filesystem;

namespace dlk {

bool Dataset::exists(const std::string& dir) { return fs::is_regular_file(fs::path(dir) / kFileName); }

json::Value Dataset::to_json() const {
  json::Value v;
  v.set("format", "dlk-dataset");
  v.set("version", 1);
  v.set("name", name);
  v.set("channels", channels);
  v.set("classes", classes);
  v.set("normalization", normalization);
  v.set("label_map", label_map);
  v.set("axis", axis);
  v.set("dtype", dtype);
  json::Array cs;
  for (auto& c : cases) {
    json::Value o;
    o.set("id", c.id);
    o.set("split", c.split);
    o.set("shard", c.shard);
    o.set("slices", c.slices);
    o.set("has_label", c.has_label);
    o.set("label_counts", c.label_counts);
    cs.push_back(std::move(o));
  }
  v.set("cases", json::Value(std::move(cs)));
  json::Value counts;
  for (const char* s : {"train", "val", "test"}) counts.set(s, int64_t(split(s).size()));
  v.set("split_counts", counts);
  return v;
}

Dataset Dataset::from_json(const json::Value& v) {
  Dataset d;
  if (v.at("format").as_string("format") != "dlk-dataset") throw Error("format is not \"dlk-dataset\"");
  if (v.at("version").as_int("version") != 1)
    throw Error(fmt::format("dataset version {} is not supported (this dlk reads 1)", v.at("version").as_int()));
  d.name = v.at("name").as_string("name");
  d.channels = v.at("channels").as_strings("channels");
  d.classes = v.at("classes").as_strings("classes");
  d.normalization = v.at("normalization");
  d.label_map = v.at("label_map");
  d.axis = int(v.at("axis").as_int("axis"));
  d.dtype = v.at("dtype").as_string("dtype");
  for (auto& c : v.at("cases").as_array("cases")) {
    DatasetCase dc;
    dc.id = c.at("id").as_string("cases[].id");
    dc.split = c.at("split").as_string("cases[].split");
    dc.shard = c.at("shard").as_string("cases[].shard");
    dc.slices = c.at("slices").as_int("cases[].slices");
    // A shard's own bound, so that total_slices() cannot overflow (fuzz-dataset-json found it).
    if (dc.slices < 0 || dc.slices > shard_format::kMaxSlices)
      throw Error(fmt::format("case {}: {} slices (a shard holds 0 to {})", dc.id, dc.slices, shard_format::kMaxSlices));
    dc.has_label = c.at("has_label").as_bool("cases[].has_label");
    for (auto& n : c.at("label_counts").as_array("cases[].label_counts")) dc.label_counts.push_back(n.as_int());
    if (dc.shard.find('/') != std::string::npos || dc.shard.find("..") != std::string::npos)
      throw Error(fmt::format("case {}: shard '{}' must be a file name inside the dataset", dc.id, dc.shard));
    if (d.find(dc.id)) throw Error(fmt::format("case {} listed twice", dc.id));
    d.cases.push_back(std::move(dc));
  }
  std::sort(d.cases.begin(), d.cases.end(), [](auto& a, auto& b) { return a.id < b.id; });
  return d;
}

Dataset Dataset::load(const std::string& dir) {
  const std::string path = (fs::path(dir) / kFileName).string();
  try {
    return from_json(json::Value::parse(read_text_file(path)));
  } catch (const Error& e) {
    fail_naming(path, e);
  }
}

void Dataset::save(const std::string& dir) const {
  write_file_atomic((fs::path(dir) / kFileName).string(), to_json().dump(2) + "\n");
}

const DatasetCase* Dataset::find(const std::string& id) const {
  for (auto& c : cases)
    if (c.id == id) return &c;
  return nullptr;
}

void Dataset::put(const DatasetCase& c, bool replace) {
  auto it = std::find_if(cases.begin(), cases.end(), [&](auto& x) { return x.id == c.id; });
  if (it != cases.end()) {
    if (!replace) throw Error(fmt::format("case {} is already in the dataset (use --force to replace it)", c.id));
    *it = c;
    return;
  }
  cases.insert(std::upper_bound(cases.begin(), cases.end(), c, [](auto& a, auto& b) { return a.id < b.id; }), c);
}

std::string Dataset::incompatibility(const Dataset& o) const {
  auto list = [](const std::vector<std::string>& v) { return fmt::format("[{}]", fmt::join(v, ", ")); };
  if (channels != o.channels) return fmt::format("channels {} vs {}", list(channels), list(o.channels));
  if (classes != o.classes) return fmt::format("classes {} vs {}", list(classes), list(o.classes));
  if (normalization != o.normalization)
    return fmt::format("normalization {} vs {}", normalization.dump(), o.normalization.dump());
  if (label_map != o.label_map) return fmt::format("label map {} vs {}", label_map.dump(), o.label_map.dump());
  if (axis != o.axis) return fmt::format("axis {} vs {}", axis, o.axis);
  if (dtype != o.dtype) return fmt::format("dtype {} vs {}", dtype, o.dtype);
  return {};
}

std::vector<const DatasetCase*> Dataset::split(const std::string& name) const {
  std::vector<const DatasetCase*> out;
  for (auto& c : cases)
    if (name == "all" || c.split == name) out.push_back(&c);
  return out;
}

int64_t Dataset::total_slices() const {
  int64_t n = 0;
  for (auto& c : cases) n += c.slices;
  return n;
}

} // namespace dlk
