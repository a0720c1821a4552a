#include "dlk/report/score_file.h"
#include "dlk/core/error.h"
#include "dlk/core/whole_file.h"
#include "dlk/shard/shard_meta.h"

#include <fmt/format.h>

#include <cmath>
#include <set>

namespace dlk {

namespace {

[[noreturn]] void bad(const std::string& path, const std::string& what) { throw Error(path.empty() ? what : path + ": " + what); }

// A value as a message shows it: compact, short and printable.
std::string shown(const json::Value& v) {
  std::string d = v.dump(), out;
  if (d.size() > 40) d = d.substr(0, 37) + "...";
  for (unsigned char c : d) out += c >= 32 && c < 127 ? std::string(1, char(c)) : fmt::format("\\x{:02x}", c);
  return out;
}

const json::Value& member(const json::Value& o, const std::string& path, const std::string& key) {
  const json::Value* v = o.find(key);
  if (!v) bad(path, fmt::format("no \"{}\"", key));
  return *v;
}

const json::Object& object(const json::Value& v, const std::string& path) {
  if (!v.is_object()) bad(path, fmt::format("{} is not a JSON object", shown(v)));
  return v.as_object();
}

// A Dice or IoU: in [0, 1], or null where the convention leaves it undefined (NaN).
void fraction(const json::Value& v, const std::string& path) {
  if (v.is_null()) return;
  if (!v.is_number() || !(v.as_number() >= 0 && v.as_number() <= 1)) bad(path, fmt::format("{} is not a number in [0, 1] or null", shown(v)));
}

// A distance (HD95, HD, ASSD): finite and >= 0, null (NaN) or "inf" (MONAI, one mask empty).
void distance(const json::Value& v, const std::string& path) {
  if (v.is_null() || (v.is_string() && v.as_string() == "inf")) return;
  if (!v.is_number() || !std::isfinite(v.as_number()) || v.as_number() < 0)
    bad(path, fmt::format("{} is not a distance (a finite number >= 0, null or \"inf\")", shown(v)));
}

int64_t count(const json::Value& v, const std::string& path) {
  const double x = v.is_number() ? v.as_number() : -1;
  if (!(x >= 0 && x <= 9007199254740992.0) || x != std::floor(x)) bad(path, fmt::format("{} is not a voxel count", shown(v)));
  return int64_t(x);
}

// The members of an object keyed by class name, each name checked.
const json::Object& by_class(const json::Value& v, const std::string& path) {
  const json::Object& o = object(v, path);
  for (auto& kv : o)
    if (std::string why = class_name_problem(kv.first); !why.empty()) bad(path, why);
  return o;
}

void check_case(const json::Value& c, const std::string& path) {
  object(c, path);
  const json::Value& id = member(c, path, "case");
  if (!id.is_string()) bad(path + ".case", fmt::format("{} is not a case id", shown(id)));
  if (std::string why = case_id_problem(id.as_string()); !why.empty()) bad(path + ".case", why);
  if (const json::Value* sp = c.find("spacing")) {
    if (!sp->is_array() || sp->as_array().size() != 3) bad(path + ".spacing", fmt::format("{} is not 3 spacings", shown(*sp)));
    for (size_t i = 0; i < 3; ++i) {
      const json::Value& x = sp->as_array()[i];
      if (!x.is_number() || !std::isfinite(x.as_number()) || x.as_number() <= 0)
        bad(fmt::format("{}.spacing[{}]", path, i), fmt::format("{} is not a spacing (a finite number > 0)", shown(x)));
    }
  }
  const std::string cls = path + ".classes";
  for (auto& [name, s] : by_class(member(c, path, "classes"), cls)) {
    const std::string at = cls + "." + name;
    object(s, at);
    for (const char* k : {"dsc", "iou"})
      if (const json::Value* v = s.find(k)) fraction(*v, at + "." + k);
    for (const char* k : {"hd95", "hd", "assd"})
      if (const json::Value* v = s.find(k)) distance(*v, at + "." + k);
    int64_t n[5] = {-1, -1, -1, -1, -1};
    const char* keys[5] = {"tp", "fp", "fn", "n_pred", "n_ref"};
    for (int i = 0; i < 5; ++i)
      if (const json::Value* v = s.find(keys[i])) n[i] = count(*v, at + "." + keys[i]);
    if (n[0] >= 0 && n[1] >= 0 && n[3] >= 0 && n[3] != n[0] + n[1])
      bad(at + ".n_pred", fmt::format("{} is not tp + fp = {}", n[3], n[0] + n[1]));
    if (n[0] >= 0 && n[2] >= 0 && n[4] >= 0 && n[4] != n[0] + n[2])
      bad(at + ".n_ref", fmt::format("{} is not tp + fn = {}", n[4], n[0] + n[2]));
    if (const json::Value* r = s.find("rule")) {
      static const std::set<std::string> rules{"both", "pred-only", "ref-only", "both-empty"};
      if (!r->is_string() || !rules.count(r->as_string()))
        bad(at + ".rule", fmt::format("{} is not a rule (both, pred-only, ref-only or both-empty)", shown(*r)));
    }
  }
}

} // namespace

void check_score_json(const json::Value& s) {
  if (!s.is_object()) throw Error("not a dlk-score --json file (not a JSON object)");
  if (!s.has("class_mean")) throw Error("not a dlk-score --json file (no class_mean)");
  fraction(member(s, "", "mean_dsc"), "mean_dsc");
  distance(member(s, "", "mean_hd95"), "mean_hd95");
  for (auto& [name, m] : by_class(s.at("class_mean"), "class_mean")) {
    object(m, "class_mean." + name);
    fraction(member(m, "class_mean." + name, "dsc"), "class_mean." + name + ".dsc");
    distance(member(m, "class_mean." + name, "hd95"), "class_mean." + name + ".hd95");
  }
  if (const json::Value* cl = s.find("classes")) {
    if (!cl->is_array()) bad("classes", fmt::format("{} is not a list of class names", shown(*cl)));
    std::set<std::string> names;
    for (size_t i = 0; i < cl->as_array().size(); ++i) {
      const json::Value& n = cl->as_array()[i];
      const std::string at = fmt::format("classes[{}]", i);
      if (!n.is_string()) bad(at, fmt::format("{} is not a class name", shown(n)));
      if (std::string why = class_name_problem(n.as_string()); !why.empty()) bad(at, why);
      if (!names.insert(n.as_string()).second) bad(at, fmt::format("class name '{}' appears twice", n.as_string()));
    }
    for (auto& kv : s.at("class_mean").as_object())
      if (!names.count(kv.first)) bad("class_mean." + kv.first, "not one of the classes listed in \"classes\"");
  }
  if (const json::Value* st = s.find("settings")) {
    object(*st, "settings");
    if (const json::Value* m = st->find("mode")) {
      static const std::set<std::string> modes{"transunet", "medpy", "monai", "nnunet"};
      if (!m->is_string() || !modes.count(m->as_string()))
        bad("settings.mode", fmt::format("{} is not a mode (transunet, medpy, monai or nnunet)", shown(*m)));
    }
  }
  if (const json::Value* cs = s.find("cases")) {
    if (!cs->is_array()) bad("cases", fmt::format("{} is not a list of cases", shown(*cs)));
    for (size_t i = 0; i < cs->as_array().size(); ++i) check_case(cs->as_array()[i], fmt::format("cases[{}]", i));
  }
  if (const json::Value* kl = s.find("keep_largest"))
    for (auto& [name, e] : by_class(*kl, "keep_largest")) {
      const std::string at = "keep_largest." + name;
      object(e, at);
      fraction(member(e, at, "dsc"), at + ".dsc");
      fraction(member(e, at, "dsc_kept"), at + ".dsc_kept");
      if (member(e, at, "helps").type() != json::Value::Type::Bool) bad(at + ".helps", fmt::format("{} is not true or false", shown(e.at("helps"))));
    }
  if (const json::Value* w = s.find("warnings")) {
    if (!w->is_array()) bad("warnings", fmt::format("{} is not a list of strings", shown(*w)));
    for (size_t i = 0; i < w->as_array().size(); ++i)
      if (!w->as_array()[i].is_string()) bad(fmt::format("warnings[{}]", i), fmt::format("{} is not a string", shown(w->as_array()[i])));
  }
}

json::Value read_score_file(const std::string& path) {
  const std::string text = read_text_file(path); // names the file if unreadable
  try {
    json::Value s = json::Value::parse(text);
    check_score_json(s);
    return s;
  } catch (const Error& e) {
    fail(path, e.what());
  }
}

double score_value(const json::Value* v) {
  if (v && v->is_number()) return v->as_number();
  if (v && v->is_string() && v->as_string() == "inf") return INFINITY;
  return NAN;
}

} // namespace dlk
