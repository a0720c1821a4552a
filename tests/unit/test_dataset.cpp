#include "dlk/core/error.h"
#include "dlk/shard/dataset.h"
#include "test_util.h"

#include <catch2/catch.hpp>

using namespace dlk;

using test::sample_dataset;

TEST_CASE("dataset: save and load round trip, cases sorted", "[dataset]") {
  test::TempDir dir;
  Dataset d = sample_dataset();
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
  Dataset d = sample_dataset();
  CHECK_THROWS_WITH(d.put(d.cases[0], false), Catch::Contains("case0001 is already in the dataset"));
  DatasetCase c = d.cases[0];
  c.slices = 11;
  d.put(c, true);
  CHECK(d.find("case0001")->slices == 11);

  Dataset o = sample_dataset();
  CHECK(d.incompatibility(o).empty());
  o.classes.push_back("liver");
  CHECK(d.incompatibility(o) == "classes [background, aorta] vs [background, aorta, liver]");
  o = sample_dataset();
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
