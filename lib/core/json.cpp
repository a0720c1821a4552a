#include "dlk/json.h"
#include "dlk/error.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>

namespace dlk::json {

Value::Value(Array a) : type_(Type::Array), arr_(std::make_unique<Array>(std::move(a))) {}
Value::Value(Object o) : type_(Type::Object), obj_(std::make_unique<Object>(std::move(o))) {}
Value::Value(const Value& o)
    : type_(o.type_), bool_(o.bool_), num_(o.num_), str_(o.str_),
      arr_(o.arr_ ? std::make_unique<Array>(*o.arr_) : nullptr),
      obj_(o.obj_ ? std::make_unique<Object>(*o.obj_) : nullptr) {}
Value& Value::operator=(const Value& o) {
  if (this != &o) {
    Value tmp(o);
    *this = std::move(tmp);
  }
  return *this;
}
Value::~Value() = default;

static const char* type_name(Value::Type t) {
  switch (t) {
  case Value::Type::Null: return "null";
  case Value::Type::Bool: return "a boolean";
  case Value::Type::Number: return "a number";
  case Value::Type::String: return "a string";
  case Value::Type::Array: return "an array";
  case Value::Type::Object: return "an object";
  }
  return "?";
}

[[noreturn]] static void type_error(const char* what, const char* want, Value::Type got) {
  throw Error(fmt::format("{} must be {}, not {}", what, want, type_name(got)));
}

bool Value::as_bool(const char* what) const {
  if (type_ != Type::Bool) type_error(what, "a boolean", type_);
  return bool_;
}
double Value::as_number(const char* what) const {
  if (type_ != Type::Number) type_error(what, "a number", type_);
  return num_;
}
int64_t Value::as_int(const char* what) const {
  double v = as_number(what);
  if (std::floor(v) != v || std::fabs(v) > 9007199254740992.0)
    throw Error(fmt::format("{} must be an integer, not {}", what, v));
  return int64_t(v);
}
const std::string& Value::as_string(const char* what) const {
  if (type_ != Type::String) type_error(what, "a string", type_);
  return str_;
}
const Array& Value::as_array(const char* what) const {
  if (type_ != Type::Array) type_error(what, "an array", type_);
  return *arr_;
}
const Object& Value::as_object(const char* what) const {
  if (type_ != Type::Object) type_error(what, "an object", type_);
  return *obj_;
}
Array& Value::array() {
  if (type_ != Type::Array) type_error("value", "an array", type_);
  return *arr_;
}
Object& Value::object() {
  if (type_ != Type::Object) type_error("value", "an object", type_);
  return *obj_;
}

const Value* Value::find(const std::string& key) const {
  if (type_ != Type::Object) return nullptr;
  for (auto& kv : *obj_)
    if (kv.first == key) return &kv.second;
  return nullptr;
}
const Value& Value::at(const std::string& key) const {
  if (type_ != Type::Object) type_error("value", "an object", type_);
  if (const Value* v = find(key)) return *v;
  throw Error(fmt::format("missing key \"{}\"", key));
}
Value& Value::set(const std::string& key, Value v) {
  if (type_ == Type::Null) *this = Value(Object{});
  for (auto& kv : object())
    if (kv.first == key) return kv.second = std::move(v);
  obj_->emplace_back(key, std::move(v));
  return obj_->back().second;
}

std::vector<double> Value::as_numbers(const char* what) const {
  std::vector<double> out;
  for (auto& v : as_array(what)) out.push_back(v.as_number(what));
  return out;
}
std::vector<std::string> Value::as_strings(const char* what) const {
  std::vector<std::string> out;
  for (auto& v : as_array(what)) out.push_back(v.as_string(what));
  return out;
}

bool Value::operator==(const Value& o) const {
  if (type_ != o.type_) return false;
  switch (type_) {
  case Type::Null: return true;
  case Type::Bool: return bool_ == o.bool_;
  case Type::Number: return num_ == o.num_;
  case Type::String: return str_ == o.str_;
  case Type::Array: return *arr_ == *o.arr_;
  case Type::Object: return *obj_ == *o.obj_;
  }
  return false;
}

// ---------------------------------------------------------------- writer

static void dump_string(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
    case '"': out += "\\\""; break;
    case '\\': out += "\\\\"; break;
    case '\n': out += "\\n"; break;
    case '\r': out += "\\r"; break;
    case '\t': out += "\\t"; break;
    case '\b': out += "\\b"; break;
    case '\f': out += "\\f"; break;
    default:
      if (c < 0x20) out += fmt::format("\\u{:04x}", c);
      else out += char(c);
    }
  }
  out += '"';
}

static void newline(std::string& out, int indent, int depth) {
  if (indent <= 0) return;
  out += '\n';
  out.append(size_t(indent) * size_t(depth), ' ');
}

void Value::dump_to(std::string& out, int indent, int depth) const {
  switch (type_) {
  case Type::Null: out += "null"; break;
  case Type::Bool: out += bool_ ? "true" : "false"; break;
  case Type::Number:
    if (!std::isfinite(num_)) throw Error("JSON cannot hold a non-finite number");
    if (std::floor(num_) == num_ && std::fabs(num_) < 1e15) out += fmt::format("{}", int64_t(num_));
    else out += fmt::format("{}", num_); // shortest representation that round-trips
    break;
  case Type::String: dump_string(out, str_); break;
  case Type::Array: {
    out += '[';
    // Arrays of scalars stay on one line even when pretty-printing: shapes, spacings.
    bool flat = true;
    for (auto& v : *arr_) flat = flat && !v.is_array() && !v.is_object();
    for (size_t i = 0; i < arr_->size(); ++i) {
      if (i) out += flat && indent > 0 ? ", " : ",";
      if (!flat) newline(out, indent, depth + 1);
      (*arr_)[i].dump_to(out, indent, depth + 1);
    }
    if (!flat && !arr_->empty()) newline(out, indent, depth);
    out += ']';
    break;
  }
  case Type::Object: {
    out += '{';
    for (size_t i = 0; i < obj_->size(); ++i) {
      if (i) out += ',';
      newline(out, indent, depth + 1);
      dump_string(out, (*obj_)[i].first);
      out += indent > 0 ? ": " : ":";
      (*obj_)[i].second.dump_to(out, indent, depth + 1);
    }
    if (!obj_->empty()) newline(out, indent, depth);
    out += '}';
    break;
  }
  }
}

std::string Value::dump(int indent) const {
  std::string out;
  dump_to(out, indent, 0);
  return out;
}

// ---------------------------------------------------------------- parser

namespace {
struct Parser {
  const std::string& s;
  size_t i = 0;
  int depth = 0;

  [[noreturn]] void error(const std::string& what) const {
    throw Error(fmt::format("invalid JSON at byte {}: {}", i, what));
  }
  void ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) ++i;
  }
  bool eat(char c) {
    ws();
    if (i < s.size() && s[i] == c) { ++i; return true; }
    return false;
  }
  void expect(char c) {
    if (!eat(c)) error(fmt::format("expected '{}'", c));
  }
  bool literal(const char* lit) {
    size_t n = std::strlen(lit);
    if (s.compare(i, n, lit) == 0) { i += n; return true; }
    return false;
  }

  Value value() {
    ws();
    if (i >= s.size()) error("unexpected end of input");
    if (++depth > 64) error("nested too deeply");
    Value v;
    char c = s[i];
    if (c == '{') v = object();
    else if (c == '[') v = array();
    else if (c == '"') v = Value(string());
    else if (literal("true")) v = Value(true);
    else if (literal("false")) v = Value(false);
    else if (literal("null")) v = Value();
    else v = Value(number());
    --depth;
    return v;
  }
  Value object() {
    ++i;
    Object o;
    if (eat('}')) return Value(std::move(o));
    do {
      ws();
      if (i >= s.size() || s[i] != '"') error("expected a string key");
      std::string k = string();
      for (auto& kv : o)
        if (kv.first == k) error(fmt::format("duplicate key \"{}\"", k));
      expect(':');
      o.emplace_back(std::move(k), value());
    } while (eat(','));
    expect('}');
    return Value(std::move(o));
  }
  Value array() {
    ++i;
    Array a;
    if (eat(']')) return Value(std::move(a));
    do a.push_back(value());
    while (eat(','));
    expect(']');
    return Value(std::move(a));
  }
  unsigned hex4() {
    if (i + 4 > s.size()) error("truncated \\u escape");
    unsigned v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s[i++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= unsigned(c - '0');
      else if (c >= 'a' && c <= 'f') v |= unsigned(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= unsigned(c - 'A' + 10);
      else error("bad \\u escape");
    }
    return v;
  }
  static void utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) out += char(cp);
    else if (cp < 0x800) { out += char(0xC0 | (cp >> 6)); out += char(0x80 | (cp & 0x3F)); }
    else if (cp < 0x10000) {
      out += char(0xE0 | (cp >> 12)); out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    } else {
      out += char(0xF0 | (cp >> 18)); out += char(0x80 | ((cp >> 12) & 0x3F));
      out += char(0x80 | ((cp >> 6) & 0x3F)); out += char(0x80 | (cp & 0x3F));
    }
  }
  std::string string() {
    ++i; // opening quote
    std::string out;
    while (true) {
      if (i >= s.size()) error("unterminated string");
      unsigned char c = (unsigned char)s[i++];
      if (c == '"') break;
      if (c < 0x20) error("control character in string");
      if (c != '\\') { out += char(c); continue; }
      if (i >= s.size()) error("unterminated escape");
      char e = s[i++];
      switch (e) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        unsigned cp = hex4();
        if (cp >= 0xD800 && cp < 0xDC00) {
          if (!(i + 1 < s.size() && s[i] == '\\' && s[i + 1] == 'u')) error("lone surrogate");
          i += 2;
          unsigned lo = hex4();
          if (lo < 0xDC00 || lo > 0xDFFF) error("bad surrogate pair");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp < 0xE000) error("lone surrogate");
        utf8(out, cp);
        break;
      }
      default: error("bad escape");
      }
    }
    return out;
  }
  double number() {
    size_t start = i;
    if (i < s.size() && s[i] == '-') ++i;
    auto digits = [&] {
      size_t d = i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
      return i - d;
    };
    if (i < s.size() && s[i] == '0') ++i;
    else if (digits() == 0) { i = start; error("expected a value"); }
    if (i < s.size() && s[i] == '.') { ++i; if (!digits()) error("bad number"); }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
      ++i;
      if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
      if (!digits()) error("bad number");
    }
    double v = std::strtod(s.substr(start, i - start).c_str(), nullptr);
    if (!std::isfinite(v)) error("number out of range");
    return v;
  }
};
} // namespace

Value Value::parse(const std::string& text) {
  Parser p{text};
  Value v = p.value();
  p.ws();
  if (p.i != text.size()) p.error("trailing characters");
  return v;
}

} // namespace dlk::json
