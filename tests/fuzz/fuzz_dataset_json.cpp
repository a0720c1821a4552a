// libFuzzer target: arbitrary bytes through the JSON parser and dlk::Dataset::from_json, as
// Dataset::load reads a dataset.json. Any input must give a value or a dlk::Error; what parses
// must also survive the writers: dump() parses back to the same value, and a dataset written
// with to_json() reads back as the same dataset.
#include "dlk/core/error.h"
#include "dlk/core/json.h"
#include "dlk/shard/dataset.h"

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using dlk::json::Value;
  Value v;
  try {
    v = Value::parse(std::string(reinterpret_cast<const char*>(data), size));
  } catch (const dlk::Error&) {
    return 0;
  }
  if (Value::parse(v.dump()) != v || Value::parse(v.dump(2)) != v) __builtin_trap();
  try {
    const dlk::Dataset d = dlk::Dataset::from_json(v);
    const Value back = d.to_json();
    const dlk::Dataset again = dlk::Dataset::from_json(Value::parse(back.dump(2)));
    if (again.to_json() != back || !d.incompatibility(again).empty()) __builtin_trap();
    (void)d.total_slices();
  } catch (const dlk::Error&) {
  }
  return 0;
}
