#include "dlk/core/error.h"
#include "dlk/core/json.h"

#include <catch2/catch.hpp>

using dlk::json::Value;

TEST_CASE("json: parses and writes every kind of value", "[json]") {
  const std::string text = R"({"a":1,"b":[true,false,null],"c":"x\"y\\z\n","d":-0.0025,"e":{},"f":[]})";
  Value v = Value::parse(text);
  CHECK(v.at("a").as_int() == 1);
  CHECK(v.at("b").as_array().size() == 3);
  CHECK(v.at("b").as_array()[2].is_null());
  CHECK(v.at("c").as_string() == "x\"y\\z\n");
  CHECK(v.at("d").as_number() == -0.0025);
  CHECK(v.dump() == text); // compact output keeps the key order and round-trips
  CHECK(Value::parse(v.dump(2)) == v);
}

TEST_CASE("json: numbers round-trip exactly", "[json]") {
  for (double d : {0.1, 1.0 / 3.0, -125.0, 275.0, 1e-300, 6.02214076e23, 0.5400390625}) {
    Value v(d);
    CHECK(Value::parse(v.dump()).as_number() == d);
  }
  CHECK(Value(int64_t(1) << 40).dump() == "1099511627776");
}

TEST_CASE("json: unicode escapes become UTF-8", "[json]") {
  CHECK(Value::parse(R"("\u00e9\u20ac\ud83d\ude00")").as_string() == "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
}

TEST_CASE("json: malformed input is an error with the byte offset", "[json]") {
  for (const char* bad : {"", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "tru", "\"abc", "01", "1.", "{\"a\":1,\"a\":2}",
                          "[1] x", "\"\\ud800\"", "nan"}) {
    INFO(bad);
    CHECK_THROWS_AS(Value::parse(bad), dlk::Error);
  }
  CHECK_THROWS_WITH(Value::parse("[1, 2, @]"), Catch::Contains("byte 7"));
  std::string deep(100, '[');
  CHECK_THROWS_WITH(Value::parse(deep), Catch::Contains("nested too deeply"));
}

TEST_CASE("json: typed access names what is wrong", "[json]") {
  Value v = Value::parse(R"({"n":"x","i":1.5})");
  CHECK_THROWS_WITH(v.at("n").as_number("slices"), "slices must be a number, not a string");
  CHECK_THROWS_WITH(v.at("i").as_int("axis"), Catch::Contains("axis must be an integer"));
  CHECK_THROWS_WITH(v.at("missing"), Catch::Contains("missing key \"missing\""));
}
