#include "dlk/shard/shard_meta.h"
#include "dlk/core/error.h"
#include "dlk/io/slices.h"
#include "shard_format.h"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <cstring>
#include <set>

namespace dlk {

namespace {
// A name from a file as printable text: a hostile one must not reach the terminal raw.
std::string printable(const std::string& s, size_t max) {
  std::string shown;
  for (unsigned char c : s.substr(0, max)) shown += c >= 32 && c < 127 ? std::string(1, char(c)) : fmt::format("\\x{:02x}", c);
  return shown;
}
} // namespace

std::string case_id_problem(const std::string& id) {
  const std::string shown = printable(id, 160);
  if (id.empty()) return "a case id cannot be empty";
  if (id.size() > 128) return fmt::format("case id '{}...' is {} characters long (128 at most)", shown.substr(0, 40), id.size());
  if (!std::isalnum(static_cast<unsigned char>(id[0]))) return fmt::format("case id '{}' must start with a letter or digit", shown);
  for (unsigned char c : id)
    if (!std::isalnum(c) && c != '.' && c != '_' && c != '-' && c != '+')
      return fmt::format("case id '{}' may hold only letters, digits, '.', '_', '-' and '+'", shown);
  return {};
}

std::string class_name_problem(const std::string& name, const char* what) {
  const std::string shown = printable(name, 80);
  if (name.empty()) return fmt::format("a {} cannot be empty", what);
  if (name.size() > 64) return fmt::format("{} '{}...' is {} characters long (64 at most)", what, shown.substr(0, 40), name.size());
  if (!std::isalnum(static_cast<unsigned char>(name[0]))) return fmt::format("{} '{}' must start with a letter or digit", what, shown);
  for (unsigned char c : name)
    if (c == 0 || (!std::isalnum(c) && !std::strchr(" _-.+()/", c)))
      return fmt::format("{} '{}' may hold only letters, digits, spaces and '_', '-', '.', '+', '(', ')', '/'", what, shown);
  if (name.back() == ' ') return fmt::format("{} '{}' ends in a space", what, shown);
  return {};
}

std::string names_problem(const std::vector<std::string>& names, const char* what, bool distinct) {
  std::set<std::string> seen;
  for (auto& n : names) {
    if (std::string why = class_name_problem(n, what); !why.empty()) return why;
    if (distinct && !seen.insert(n).second) return fmt::format("{} '{}' appears twice", what, n);
  }
  return {};
}

const char* dtype_name(ImageDType t) { return t == ImageDType::Float16 ? "float16" : "float32"; }

json::Value ShardMeta::to_json() const {
  json::Value geo;
  geo.set("size", std::vector<int64_t>(geometry.size.begin(), geometry.size.end()));
  geo.set("spacing", std::vector<double>(geometry.spacing.begin(), geometry.spacing.end()));
  geo.set("origin", std::vector<double>(geometry.origin.begin(), geometry.origin.end()));
  geo.set("direction", std::vector<double>(geometry.direction.begin(), geometry.direction.end()));
  geo.set("pixel_type", source_pixel_type);
  json::Value src;
  src.set("images", image_sources);
  src.set("label", label_source.empty() ? json::Value() : json::Value(label_source));

  json::Value v;
  v.set("format", "dlk-shard");
  v.set("case", case_id);
  v.set("split", split);
  v.set("channels", channels);
  v.set("sources", src);
  v.set("geometry", geo);
  if (orientation) {
    json::Value o;
    o.set("canonical", "LPS");
    o.set("stored", orientation->original_code());
    o.set("axes", std::vector<int64_t>(orientation->perm.begin(), orientation->perm.end()));
    o.set("flip", std::vector<bool>(orientation->flip.begin(), orientation->flip.end()));
    v.set("orientation", o);
  }
  v.set("axis", axis);
  v.set("slices", n_slices);
  v.set("slice_shape", std::vector<int64_t>{channel_count(), height, width});
  v.set("dtype", dtype_name(dtype));
  v.set("byte_shuffle", byte_shuffle);
  v.set("has_label", has_label);
  v.set("normalization", normalization.is_null() ? json::Value(json::Array{}) : normalization);
  v.set("label_map", label_map);
  v.set("classes", classes);
  v.set("label_counts", label_counts);
  v.set("tool", tool);
  return v;
}

static void need(bool ok, const std::string& what) {
  if (!ok) throw Error("metadata: " + what);
}

static Reorientation reorientation_from_json(const json::Value& o) {
  need(o.is_object() && o.at("canonical").as_string("orientation.canonical") == "LPS", "orientation.canonical is not \"LPS\"");
  auto axes = o.at("axes").as_numbers("orientation.axes");
  const auto& flip = o.at("flip").as_array("orientation.flip");
  need(axes.size() == 3 && flip.size() == 3, "orientation needs 3 axes and 3 flips");
  Reorientation r;
  std::array<bool, 3> seen{{false, false, false}};
  for (size_t a = 0; a < 3; ++a) {
    need(axes[a] == 0 || axes[a] == 1 || axes[a] == 2, "orientation.axes must be a permutation of 0, 1, 2");
    r.perm[a] = int(axes[a]);
    need(!seen[size_t(r.perm[a])], "orientation.axes must be a permutation of 0, 1, 2");
    seen[size_t(r.perm[a])] = true;
    r.flip[a] = flip[a].as_bool("orientation.flip");
  }
  return r;
}

ShardMeta ShardMeta::from_json(const json::Value& v) {
  using namespace shard_format;
  ShardMeta m;
  try {
    need(v.is_object(), "not a JSON object");
    need(v.at("format").as_string("format") == "dlk-shard", "format is not \"dlk-shard\"");
    m.case_id = v.at("case").as_string("case");
    if (std::string why = case_id_problem(m.case_id); !why.empty()) need(false, why);
    m.split = v.at("split").as_string("split");
    m.channels = v.at("channels").as_strings("channels");
    need(int64_t(m.channels.size()) <= kMaxChannels, fmt::format("{} channels (0..{} allowed)", m.channels.size(), kMaxChannels));
    if (std::string why = names_problem(m.channels, "channel name", false); !why.empty()) need(false, "channels: " + why);
    const auto& src = v.at("sources");
    m.image_sources = src.at("images").as_strings("sources.images");
    if (!src.at("label").is_null()) m.label_source = src.at("label").as_string("sources.label");

    const auto& geo = v.at("geometry");
    auto size = geo.at("size").as_numbers("geometry.size");
    auto spacing = geo.at("spacing").as_numbers("geometry.spacing");
    auto origin = geo.at("origin").as_numbers("geometry.origin");
    auto dir = geo.at("direction").as_numbers("geometry.direction");
    need(size.size() == 3 && spacing.size() == 3 && origin.size() == 3 && dir.size() == 9,
         "geometry needs 3 sizes, spacings and origins and 9 direction values");
    for (int i = 0; i < 3; ++i) {
      need(size[i] >= 1 && size[i] <= kMaxSlices && size[i] == double(int64_t(size[i])),
           fmt::format("geometry.size[{}] = {} is not a valid extent", i, size[i]));
      m.geometry.size[i] = int64_t(size[i]);
      m.geometry.spacing[i] = spacing[i];
      m.geometry.origin[i] = origin[i];
    }
    for (int i = 0; i < 9; ++i) m.geometry.direction[i] = dir[i];
    need(m.geometry.voxels() <= kMaxVoxels, fmt::format("{} voxels (at most {})", m.geometry.voxels(), kMaxVoxels));
    for (int i = 0; i < 3; ++i)
      need(std::isfinite(spacing[i]) && spacing[i] > 0 && std::isfinite(origin[i]), "geometry spacing or origin is not a finite number");
    for (double x : dir) need(std::isfinite(x), "geometry direction is not finite");
    m.source_pixel_type = geo.at("pixel_type").as_string("geometry.pixel_type");

    if (const json::Value* o = v.find("orientation")) m.orientation = reorientation_from_json(*o);
    m.axis = int(v.at("axis").as_int("axis"));
    need(m.axis >= 0 && m.axis <= 2, fmt::format("axis {} (0, 1 or 2 allowed)", m.axis));
    slice_shape(m.grid(), m.axis, m.n_slices, m.height, m.width);
    need(v.at("slices").as_int("slices") == m.n_slices,
         fmt::format("slices = {} but the geometry has {} along axis {}", v.at("slices").as_int(), m.n_slices, m.axis));
    auto shape = v.at("slice_shape").as_numbers("slice_shape");
    need(shape.size() == 3 && shape[0] == double(m.channels.size()) && shape[1] == double(m.height) &&
             shape[2] == double(m.width),
         "slice_shape disagrees with channels and geometry");
    need(m.height <= kMaxSliceSide && m.width <= kMaxSliceSide, fmt::format("slice larger than {} on a side", kMaxSliceSide));

    const std::string& dt = v.at("dtype").as_string("dtype");
    if (dt == "float16") m.dtype = ImageDType::Float16;
    else if (dt == "float32") m.dtype = ImageDType::Float32;
    else need(false, "dtype \"" + dt + "\" (float16 or float32 allowed)");
    need(uint64_t(m.channel_count()) * m.slice_pixels() * 4 <= kMaxSliceBytes, "slice too large");
    m.byte_shuffle = v.at("byte_shuffle").as_bool("byte_shuffle");
    m.has_label = v.at("has_label").as_bool("has_label");
    need(!m.channels.empty() || m.has_label, "a shard without image channels must hold labels");
    m.normalization = v.at("normalization");
    need(m.normalization.is_array() && m.normalization.as_array().size() == m.channels.size(),
         "normalization needs one entry per channel");
    m.label_map = v.at("label_map");
    need(m.label_map.is_null() || m.label_map.is_object(), "label_map must be an object or null");
    m.classes = v.at("classes").as_strings("classes");
    need(m.classes.size() <= 256, "more than 256 classes");
    if (std::string why = names_problem(m.classes, "class name"); !why.empty()) need(false, "classes: " + why);
    need(!m.has_label || !m.classes.empty(), "a labelled shard needs class names");
    for (auto& c : v.at("label_counts").as_array("label_counts")) m.label_counts.push_back(c.as_int("label_counts"));
    need(m.label_counts.empty() || m.label_counts.size() == m.classes.size(),
         "label_counts needs one count per class");
    m.tool = v.at("tool").as_string("tool");
  } catch (const Error& e) {
    std::string msg = e.what();
    if (msg.rfind("metadata: ", 0) == 0) throw;
    throw Error("metadata: " + msg);
  }
  return m;
}

} // namespace dlk
