#include "dlk/core/error.h"
#include "dlk/shard/dataset.h"
#include "test_util.h"

#include <catch2/catch.hpp>

using namespace dlk;

namespace {
Dataset sample() {
  Dataset d;
  d.name = "synapse";
  d.channels = {"CT"};
  d.classes = {"background", "aorta"};
  d.normalization = json::Value::parse(R"({"method":"window","window":[-125,275]})");
  d.label_map = json::Value::parse(R"({"8":1,"*":0})");
  for (const char* id : {"case0005", "case0001", "case0003"}) {
    DatasetCase c;
    c.id = id;
    c.split = std::string(id) == "case0005" ? "train" : "test";
    c.shard = c.id + ".dlks";
    c.slices = 10;
    c.has_label = true;
    c.label_counts = {90, 10};
    d.put(c, false);
  }
  return d;
}
} // namespace

TEST_CASE("dataset: save and load round trip, cases sorted", "[dataset]") {
  test::TempDir dir;
  Dataset d = sample();
  CHECK(d.cases[0].id == "case0001");
  CHECK(d.cases[2].id == "case0005");
  d.save(dir.path.string());
  Dataset e = Dataset::load(dir.path.string());
  CHECK(e.to_json() == d.to_json());
  CHECK(e.split("test").size() == 2);
  CHECK(e.split("all").size() == 3);
  CHECK(e.total_slices() == 30);
  CHECK(e.to_json().at("split_counts").dump() == R"({"train":1,"val":0,"test":2})");
}

TEST_CASE("dataset: duplicates and mismatches are explained", "[dataset]") {
  Dataset d = sample();
  CHECK_THROWS_WITH(d.put(d.cases[0], false), Catch::Contains("case0001 is already in the dataset"));
  DatasetCase c = d.cases[0];
  c.slices = 11;
  d.put(c, true);
  CHECK(d.find("case0001")->slices == 11);

  Dataset o = sample();
  CHECK(d.incompatibility(o).empty());
  o.classes.push_back("liver");
  CHECK(d.incompatibility(o) == "classes [background, aorta] vs [background, aorta, liver]");
  o = sample();
  o.normalization = json::Value::parse(R"({"method":"zscore"})");
  CHECK_THAT(d.incompatibility(o), Catch::StartsWith("normalization"));
}

TEST_CASE("dataset: a damaged dataset.json names the file", "[dataset]") {
  test::TempDir dir;
  test::write_bytes(dir / "dataset.json", R"({"format":"dlk-dataset","version":1,"name":"x"})");
  CHECK_THROWS_WITH(Dataset::load(dir.path.string()), Catch::Contains("dataset.json") && Catch::Contains("missing key \"channels\""));
  test::write_bytes(dir / "dataset.json", "{");
  CHECK_THROWS_WITH(Dataset::load(dir.path.string()), Catch::Contains("invalid JSON"));
}
