// One list of a record's JSON fields that drives both directions: write() puts them into an
// object in the order listed, read() takes them back in the same order, each through the typed
// accessors with "PREFIX.KEY" (or "KEY") as the name in its errors. A record whose to_json and
// from_json used to list its fields twice lists them once. (nlohmann's NLOHMANN_DEFINE_TYPE
// macros would do it for its own json type, but name fields by their C++ names and give errors
// of their own: dlk's files and messages would change.)
#pragma once
#include "dlk/core/json.h"

#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace dlk::json {

template <class R> class Fields {
public:
  using Write = std::function<Value(const R&)>;
  using Read = std::function<void(const Value&, R&, const char* what)>;

  explicit Fields(std::string prefix = "") : prefix_(std::move(prefix)) {}

  // A member of a type JSON holds: std::string, bool, double, int, int64_t, uint64_t, a vector of
  // strings or of int64_t, or a json::Value (any JSON, taken as it is).
  template <class M> Fields& add(const char* key, M R::*member) {
    return add(key, [member](const R& r) { return to_value(r.*member); },
               [member](const Value& v, R& r, const char* what) { from_value(v, what, r.*member); });
  }
  // A member added to a record later: written only when it differs from `absent`, and `absent`
  // when the key is missing, so older files read as before and records that do not use it are
  // written as before.
  template <class M> Fields& add_optional(const char* key, M R::*member, M absent) {
    add(key, member);
    fields_.back().absent = [member, absent](const R& r) { return r.*member == absent; };
    fields_.back().reset = [member, absent](R& r) { r.*member = absent; };
    return *this;
  }
  // Anything else: how to write the field and how to read it.
  Fields& add(const char* key, Write write, Read read) {
    fields_.push_back({key, prefix_.empty() ? key : prefix_ + "." + key, std::move(write), std::move(read), {}, {}});
    return *this;
  }

  Value write(const R& r) const {
    Value v;
    write(r, v);
    return v;
  }
  // Appends the fields to the object `v` (a record written with fields of its own around them).
  void write(const R& r, Value& v) const {
    for (auto& f : fields_)
      if (!f.absent || !f.absent(r)) v.set(f.key, f.write(r));
  }
  // Reads every field into `r` in order; a missing key or a wrong type is a dlk::Error.
  void read(const Value& v, R& r) const {
    for (auto& f : fields_) {
      const Value* x = f.reset ? v.find(f.key) : &v.at(f.key);
      if (x) f.read(*x, r, f.what.c_str());
      else f.reset(r);
    }
  }

private:
  struct Field {
    std::string key, what;
    Write write;
    Read read;
    std::function<bool(const R&)> absent; // optional fields only
    std::function<void(R&)> reset;
  };
  static Value to_value(const std::string& s) { return Value(s); }
  static Value to_value(bool b) { return Value(b); }
  static Value to_value(double d) { return Value(d); }
  static Value to_value(int i) { return Value(i); }
  static Value to_value(int64_t i) { return Value(i); }
  static Value to_value(uint64_t u) { return Value(int64_t(u)); } // as int64 (seeds), as before
  static Value to_value(const std::vector<std::string>& v) { return Value(v); }
  static Value to_value(const std::vector<int64_t>& v) { return Value(v); }
  static Value to_value(const std::vector<double>& v) { return Value(v); }
  static Value to_value(const Value& v) { return v; }
  static void from_value(const Value& v, const char* what, std::string& s) { s = v.as_string(what); }
  static void from_value(const Value& v, const char* what, bool& b) { b = v.as_bool(what); }
  static void from_value(const Value& v, const char* what, double& d) { d = v.as_number(what); }
  static void from_value(const Value& v, const char* what, int& i) { i = int(v.as_int(what)); }
  static void from_value(const Value& v, const char* what, int64_t& i) { i = v.as_int(what); }
  static void from_value(const Value& v, const char* what, uint64_t& u) { u = uint64_t(v.as_int(what)); }
  static void from_value(const Value& v, const char* what, std::vector<std::string>& s) { s = v.as_strings(what); }
  static void from_value(const Value& v, const char* what, std::vector<int64_t>& n) {
    n.clear();
    for (auto& x : v.as_array(what)) n.push_back(x.as_int(what));
  }
  static void from_value(const Value& v, const char* what, std::vector<double>& n) { n = v.as_numbers(what); }
  static void from_value(const Value& v, const char*, Value& x) { x = v; }

  std::string prefix_;
  std::vector<Field> fields_;
};

} // namespace dlk::json
