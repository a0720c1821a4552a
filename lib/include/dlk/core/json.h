// A small JSON value with a strict parser and a deterministic writer (object keys keep
// their insertion order, numbers print in their shortest round-trip form). Enough for
// shard metadata and dataset.json; not a general-purpose library.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace dlk::json {

class Value;
using Array = std::vector<Value>;
using Object = std::vector<std::pair<std::string, Value>>;

class Value {
public:
  enum class Type { Null, Bool, Number, String, Array, Object };

  Value() = default;
  Value(std::nullptr_t) {}
  Value(bool b) : type_(Type::Bool), bool_(b) {}
  Value(int v) : type_(Type::Number), num_(v) {}
  Value(int64_t v) : type_(Type::Number), num_(double(v)) {}
  Value(uint64_t v) : type_(Type::Number), num_(double(v)) {}
  Value(double v) : type_(Type::Number), num_(v) {}
  Value(const char* s) : type_(Type::String), str_(s) {}
  Value(std::string s) : type_(Type::String), str_(std::move(s)) {}
  Value(Array a);
  Value(Object o);
  Value(const Value& o);
  Value(Value&&) noexcept = default;
  Value& operator=(const Value& o);
  Value& operator=(Value&&) noexcept = default;
  ~Value();
  template <class T> Value(const std::vector<T>& v) : Value(Array(v.begin(), v.end())) {}

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::Null; }
  bool is_number() const { return type_ == Type::Number; }
  bool is_string() const { return type_ == Type::String; }
  bool is_array() const { return type_ == Type::Array; }
  bool is_object() const { return type_ == Type::Object; }

  // Typed access; throws dlk::Error naming `what` on a type mismatch.
  bool as_bool(const char* what = "value") const;
  double as_number(const char* what = "value") const;
  int64_t as_int(const char* what = "value") const; // must be integral
  const std::string& as_string(const char* what = "value") const;
  const Array& as_array(const char* what = "value") const;
  const Object& as_object(const char* what = "value") const;
  Array& array();
  Object& object();

  // Object members. find() returns nullptr when absent; at() throws naming the key.
  const Value* find(const std::string& key) const;
  const Value& at(const std::string& key) const;
  Value& set(const std::string& key, Value v); // replaces or appends
  bool has(const std::string& key) const { return find(key) != nullptr; }

  std::vector<double> as_numbers(const char* what = "value") const;
  std::vector<std::string> as_strings(const char* what = "value") const;

  // Compact by default; indent > 0 pretty-prints.
  std::string dump(int indent = 0) const;
  static Value parse(const std::string& text); // throws dlk::Error with the byte offset

  bool operator==(const Value& o) const;
  bool operator!=(const Value& o) const { return !(*this == o); }

private:
  void dump_to(std::string& out, int indent, int depth) const;
  Type type_ = Type::Null;
  bool bool_ = false;
  double num_ = 0;
  std::string str_;
  std::unique_ptr<Array> arr_;   // deep-copied: a Value owns its children
  std::unique_ptr<Object> obj_;
};

} // namespace dlk::json
