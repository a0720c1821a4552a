#include "dlk/shard/dataset.h"
#include "dlk/core/crc32.h"
#include "dlk/core/error.h"
#include "dlk/core/json_fields.h"
#include "dlk/core/whole_file.h"
#include "dlk/io/resampling.h"
#include "shard_format.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <set>

namespace fs = std::filesystem;

namespace dlk {

bool Dataset::exists(const std::string& dir) { return fs::is_regular_file(fs::path(dir) / kFileName); }

bool Dataset::holds_dlk_dataset(const std::string& dir) {
  if (!exists(dir)) return false;
  try {
    const json::Value v = json::Value::parse(read_text_file((fs::path(dir) / kFileName).string()));
    return !v.is_object() || v.has("format");
  } catch (const Error&) {
    return true;
  }
}

namespace {
// The checksum of a dataset.json: CRC-32 of its compact form without the "checksum" member.
// Parsing keeps the members' order, so the reader recomputes exactly what the writer did.
std::string checksum_of(json::Value v) {
  auto& members = v.object();
  members.erase(std::remove_if(members.begin(), members.end(), [](auto& kv) { return kv.first == "checksum"; }),
                members.end());
  const std::string text = v.dump();
  return fmt::format("crc32:{:08x}", crc32(text.data(), text.size()));
}
} // namespace

std::string shard_name_problem(const std::string& name) {
  const std::string ext = ".dlks";
  if (name.size() <= ext.size() || name.compare(name.size() - ext.size(), ext.size(), ext) != 0)
    return fmt::format("shard '{}' is not a .dlks file name", name);
  std::string stem = name.substr(0, name.size() - ext.size());
  if (auto at = stem.rfind('@'); at != std::string::npos) { // a replacement's name: CASE@N.dlks
    const std::string gen = stem.substr(at + 1);
    if (gen.empty() || gen.size() > 9 || gen.find_first_not_of("0123456789") != std::string::npos)
      return fmt::format("shard '{}' is not a dlk shard name", name);
    stem = stem.substr(0, at);
  }
  if (!case_id_problem(stem).empty()) return fmt::format("shard '{}' is not a file name inside the dataset", name);
  return {};
}

std::string spacing_problem(const json::Value& s) {
  if (s.is_null() || (s.is_string() && s.as_string() == "auto")) return {};
  if (!s.is_array() || s.as_array().size() != 2) return fmt::format("{} (null, \"auto\" or [x, y] in mm)", s.dump());
  for (auto& x : s.as_array()) {
    if (!x.is_number()) return fmt::format("{}: a spacing is a number of mm", s.dump());
    if (std::string why = target_spacing_problem(x.as_number()); !why.empty()) return fmt::format("{}: {}", s.dump(), why);
  }
  return {};
}

namespace {
// dataset.json's fields, in the order written, but for format, version, split_counts and checksum.
const json::Fields<Dataset>& header_fields() {
  static const auto f = json::Fields<Dataset>()
      .add("name", &Dataset::name)
      .add("channels", &Dataset::channels)
      .add("classes", &Dataset::classes)
      .add("normalization", &Dataset::normalization)
      .add("label_map", &Dataset::label_map)
      .add_optional("orientation", &Dataset::orientation, std::string("stored"))
      .add("axis", &Dataset::axis)
      .add("dtype", &Dataset::dtype)
      .add_optional("spacing", &Dataset::spacing, json::Value())
      .add_optional("folds", &Dataset::folds, 0)
      .add_optional("fold_seed", &Dataset::fold_seed, int64_t(0));
  return f;
}
const json::Fields<DatasetCase>& case_fields() {
  static const auto f = json::Fields<DatasetCase>("cases[]")
      .add("id", &DatasetCase::id)
      .add("split", &DatasetCase::split)
      .add("shard", &DatasetCase::shard)
      .add("slices", &DatasetCase::slices)
      .add("has_label", &DatasetCase::has_label)
      .add("label_counts", &DatasetCase::label_counts)
      .add_optional("group", &DatasetCase::group, std::string())
      .add_optional("fold", &DatasetCase::fold, -1);
  return f;
}
} // namespace

json::Value Dataset::to_json() const {
  json::Value v;
  v.set("format", "dlk-dataset");
  v.set("version", 2);
  header_fields().write(*this, v);
  json::Array cs;
  for (auto& c : cases) cs.push_back(case_fields().write(c));
  v.set("cases", json::Value(std::move(cs)));
  json::Value counts;
  for (const char* s : {"train", "val", "test"}) counts.set(s, int64_t(split(s).size()));
  v.set("split_counts", counts);
  v.set("checksum", checksum_of(v));
  return v;
}

Dataset Dataset::from_json(const json::Value& v) {
  Dataset d;
  if (!v.is_object()) throw Error("not a JSON object");
  if (v.at("format").as_string("format") != "dlk-dataset") throw Error("format is not \"dlk-dataset\"");
  const int64_t version = v.at("version").as_int("version");
  if (version != 1 && version != 2)
    throw Error(fmt::format("dataset version {} is not supported (this dlk reads 1 and 2)", version));
  // Version 2 carries a checksum, so that an edited or damaged file is not trusted; version 1
  // (dlk 0.1's dlk-prep) has none and is read as it is.
  if (version == 2) {
    const json::Value* sum = v.find("checksum");
    if (!sum) throw Error("no checksum (version 2 has one)");
    if (sum->as_string("checksum") != checksum_of(v))
      throw Error("checksum mismatch: the file was edited or damaged after dlk-prep wrote it (run dlk-prep again)");
  }
  header_fields().read(v, d);
  if (d.axis < 0 || d.axis > 2) throw Error(fmt::format("axis {} (0, 1 or 2 allowed)", d.axis));
  if (d.dtype != "float16" && d.dtype != "float32") throw Error(fmt::format("dtype '{}' (float16 or float32 allowed)", d.dtype));
  if (d.orientation != "stored" && d.orientation != "canonical")
    throw Error(fmt::format("orientation '{}' (stored or canonical allowed)", d.orientation));
  if (std::string why = spacing_problem(d.spacing); !why.empty()) throw Error("spacing: " + why);
  if (d.classes.size() > 256) throw Error(fmt::format("{} classes (256 at most)", d.classes.size()));
  if (d.channels.size() > 64) throw Error(fmt::format("{} channels (64 at most)", d.channels.size()));
  if (std::string why = names_problem(d.classes, "class name"); !why.empty()) throw Error("classes: " + why);
  if (std::string why = names_problem(d.channels, "channel name", false); !why.empty()) throw Error("channels: " + why);
  if (d.folds < 0 || d.folds > 100) throw Error(fmt::format("{} folds (0 to 100)", d.folds));
  for (auto& c : v.at("cases").as_array("cases")) {
    DatasetCase dc;
    case_fields().read(c, dc);
    // A shard's own bound, so that total_slices() cannot overflow (fuzz-dataset-json found it).
    if (dc.slices < 0 || dc.slices > shard_format::kMaxSlices)
      throw Error(fmt::format("case {}: {} slices (a shard holds 0 to {})", dc.id, dc.slices, shard_format::kMaxSlices));
    if (dc.split != "train" && dc.split != "val" && dc.split != "test")
      throw Error(fmt::format("case {}: split '{}' (train, val or test)", dc.id, dc.split));
    if (std::string why = case_id_problem(dc.id); !why.empty()) throw Error("cases[]: " + why);
    if (std::string why = shard_name_problem(dc.shard); !why.empty()) throw Error(fmt::format("case {}: {}", dc.id, why));
    if (d.find(dc.id)) throw Error(fmt::format("case {} listed twice", dc.id));
    if (dc.fold < -1 || dc.fold >= d.folds) throw Error(fmt::format("case {}: fold {} (-1 or 0..{})", dc.id, dc.fold, d.folds - 1));
    if (!dc.group.empty())
      if (std::string why = case_id_problem(dc.group); !why.empty()) throw Error(fmt::format("case {}: group: {}", dc.id, why));
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
  if (orientation != o.orientation) return fmt::format("orientation {} vs {}", orientation, o.orientation);
  if (axis != o.axis) return fmt::format("axis {} vs {}", axis, o.axis);
  if (spacing != o.spacing) return fmt::format("spacing {} vs {}", spacing.dump(), o.spacing.dump());
  if (dtype != o.dtype) return fmt::format("dtype {} vs {}", dtype, o.dtype);
  return {};
}

std::vector<const DatasetCase*> Dataset::split(const std::string& name) const {
  std::vector<const DatasetCase*> out;
  for (auto& c : cases)
    if (name == "all" || c.split == name) out.push_back(&c);
  return out;
}

std::string Dataset::shard_mismatch(const DatasetCase& c, const ShardMeta& m) const {
  if (m.case_id != c.id) return fmt::format("holds case {}, dataset.json says {}", m.case_id, c.id);
  if (m.n_slices != c.slices) return fmt::format("{} slices, dataset.json says {}", m.n_slices, c.slices);
  if (m.split != c.split) return fmt::format("split {}, dataset.json says {}", m.split, c.split);
  if (m.channels != channels) return "channels differ from dataset.json";
  if (m.classes != classes) return "classes differ from dataset.json";
  if (m.has_label != c.has_label) return "label presence differs from dataset.json";
  if (m.orientation.has_value() != (orientation == "canonical"))
    return fmt::format("{}, dataset.json says orientation {}", m.orientation ? "reoriented to LPS" : "sliced as stored", orientation);
  if (m.axis != axis) return fmt::format("axis {}, dataset.json says {}", m.axis, axis);
  if (dtype_name(m.dtype) != dtype) return fmt::format("dtype {}, dataset.json says {}", dtype_name(m.dtype), dtype);
  if (m.label_map != label_map) return "label map differs from dataset.json";
  // Each channel's recorded normalization has the dataset's method (and window, if any).
  for (auto& n : m.normalization.as_array()) {
    const json::Value* w = normalization.find("window");
    if (!n.find("method") || !normalization.find("method") || *n.find("method") != *normalization.find("method") ||
        (w && (!n.find("window") || *n.find("window") != *w)))
      return "normalization differs from dataset.json";
  }
  return {};
}

std::unique_ptr<ShardFile> Dataset::open_shard(const std::string& dir, const DatasetCase& c) const {
  const std::string path = (fs::path(dir) / c.shard).string();
  auto f = std::make_unique<ShardFile>(path);
  if (std::string why = shard_mismatch(c, f->meta()); !why.empty()) fail(path, why);
  return f;
}

int64_t Dataset::total_slices() const {
  int64_t n = 0;
  for (auto& c : cases) n += c.slices;
  return n;
}

void Dataset::assign_folds(int k, int64_t seed) {
  std::vector<std::string> groups;
  for (auto& c : cases)
    if (c.split == "train") groups.push_back(c.group.empty() ? c.id : c.group);
  std::sort(groups.begin(), groups.end());
  groups.erase(std::unique(groups.begin(), groups.end()), groups.end());
  if (k < 2 || k > int(groups.size()))
    throw UsageError(fmt::format("--folds {}: 2 to the {} subjects of the train split", k, groups.size()));
  std::mt19937_64 rng{static_cast<uint64_t>(seed)};
  for (size_t i = groups.size() - 1; i > 0; --i) std::swap(groups[i], groups[size_t(rng() % (i + 1))]);
  std::map<std::string, int> fold_of;
  for (size_t i = 0; i < groups.size(); ++i) fold_of[groups[i]] = int(i % size_t(k));
  for (auto& c : cases) c.fold = c.split == "train" ? fold_of[c.group.empty() ? c.id : c.group] : -1;
  folds = k;
  fold_seed = seed;
}

std::vector<std::string> Dataset::unlisted_shards(const std::string& dir) const {
  std::set<std::string> listed;
  for (auto& c : cases) listed.insert(c.shard);
  std::vector<std::string> paths;
  for (auto& e : fs::directory_iterator(dir)) {
    const std::string f = e.path().filename().string();
    if (f.size() > 5 && f.compare(f.size() - 5, 5, ".dlks") == 0 && !listed.count(f)) paths.push_back(e.path().string());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

} // namespace dlk
