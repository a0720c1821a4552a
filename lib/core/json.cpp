// dlk::json::Value (dlk/core/json.h): nlohmann-json parses, the typed accessors below name what is
// wrong in dlk's words, and dlk's own printer writes (see the writer section for why).
#include "dlk/core/json.h"
#include "dlk/core/error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <iterator>

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

// dlk's own printer, not nlohmann's dump(): the files dlk writes (dataset.json, whose checksum is a
// CRC-32 of its compact text; shard and checkpoint metadata; config.json; score JSON) keep their
// bytes. nlohmann's dump differs in three ways that would change them: it pretty-prints every
// array one element a line (dlk keeps arrays of scalars on one line: shapes, spacings), it
// formats numbers its own way (1e15 as 1e+15 where dlk writes 1000000000000000, 275.0 as 275.0
// where dlk writes 275), and it refuses strings that are not UTF-8 where dlk writes the bytes.

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

// nlohmann-json parses (RFC 8259, strict: no comments, no trailing commas, no leading zeros, no
// NaN, well-formed UTF-8 in strings, paired surrogates) through its SAX interface; this handler
// builds the Value tree and adds what dlk asks of its inputs beyond the RFC: no duplicate keys,
// at most 64 levels of nesting, and errors that name the byte offset.
namespace {

// The input as nlohmann reads it, byte by byte, counting the bytes read: the offset that the
// duplicate-key and nesting errors name (nlohmann's own errors carry theirs).
struct CountingIterator {
  using iterator_category = std::forward_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;
  const char* p = nullptr;
  size_t* read = nullptr;
  reference operator*() const { return *p; }
  CountingIterator& operator++() { ++p; ++*read; return *this; }
  CountingIterator operator++(int) { auto t = *this; ++*this; return t; }
  bool operator==(const CountingIterator& o) const { return p == o.p; }
  bool operator!=(const CountingIterator& o) const { return p != o.p; }
};

class Builder {
public:
  using json = nlohmann::json;
  explicit Builder(const size_t& read) : read_(read) {}

  bool null() { return scalar(Value()); }
  bool boolean(bool b) { return scalar(Value(b)); }
  // Numbers are doubles, as strtod reads their text (an integer converts with the same rounding).
  bool number_integer(json::number_integer_t v) { return scalar(Value(double(v))); }
  bool number_unsigned(json::number_unsigned_t v) { return scalar(Value(double(v))); }
  bool number_float(json::number_float_t v, const json::string_t&) { return scalar(Value(double(v))); }
  bool string(json::string_t& s) { return scalar(Value(std::move(s))); }
  bool binary(json::binary_t&) { return false; } // JSON text has none
  bool start_object(size_t) { return open(Value(Object{})); }
  bool start_array(size_t) { return open(Value(Array{})); }
  bool key(json::string_t& k) {
    Object& o = stack_.back()->object();
    for (auto& kv : o)
      if (kv.first == k) error(read_, fmt::format("duplicate key \"{}\"", k)); // the offset after the key
    o.emplace_back(std::move(k), Value());
    return true;
  }
  bool end_object() { stack_.pop_back(); return true; }
  bool end_array() { stack_.pop_back(); return true; }
  bool parse_error(size_t position, const std::string&, const nlohmann::detail::exception& e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 8: syntax error while
    // parsing value - invalid literal; last read: '[1, 2, @'": the part after the location.
    std::string what = e.what();
    if (size_t at = what.find("] "); at != std::string::npos) what.erase(0, at + 2);
    if (what.compare(0, 12, "parse error ") == 0)
      if (size_t at = what.find(": "); at != std::string::npos) what.erase(0, at + 2);
    error(position ? position - 1 : 0, what); // `position` counts the byte at fault
  }

  Value result;

private:
  [[noreturn]] static void error(size_t offset, const std::string& what) {
    throw Error(fmt::format("invalid JSON at byte {}: {}", offset, what));
  }
  // Where the next value goes: the result, the array being read, or the key just read.
  Value& slot() {
    if (stack_.empty()) return result;
    Value& top = *stack_.back();
    if (top.is_array()) {
      top.array().emplace_back();
      return top.array().back();
    }
    return top.object().back().second;
  }
  bool scalar(Value v) {
    // A value inside 64 levels of nesting is one level too deep, as a container there is.
    // (The offset named is where the value ends, not where it starts.)
    if (stack_.size() >= kMaxDepth) error(read_, "nested too deeply");
    slot() = std::move(v);
    return true;
  }
  bool open(Value v) {
    if (stack_.size() >= kMaxDepth) error(read_ - 1, "nested too deeply"); // the offset of its '[' or '{'
    Value& s = slot();
    s = std::move(v);
    stack_.push_back(&s);
    return true;
  }
  static constexpr size_t kMaxDepth = 64;
  const size_t& read_;
  std::vector<Value*> stack_; // the open arrays and objects (a parent never grows while a child is open)
};

} // namespace

Value Value::parse(const std::string& text) {
  size_t read = 0;
  Builder b(read);
  CountingIterator first{text.data(), &read}, last{text.data() + text.size(), &read};
  nlohmann::json::sax_parse(first, last, &b, nlohmann::json::input_format_t::json, true /*strict*/,
                            false /*no comments*/);
  return std::move(b.result);
}

} // namespace dlk::json
