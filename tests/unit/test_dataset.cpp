#include "dlk/cli/option_values.h"
#include "dlk/core/error.h"
#include "dlk/shard/dataset.h"
#include "test_util.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

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

TEST_CASE("dataset: another tool's dataset.json is not dlk's", "[dataset]") {
  test::TempDir dir;
  CHECK(!Dataset::holds_dlk_dataset(dir.path.string())); // none
  // What nnU-Net v2 writes into its raw datasets and prediction folders (its documented keys).
  test::write_bytes(dir / "dataset.json", R"({"channel_names": {"0": "CT"}, "labels": {"background": 0, "liver": 1},
                                              "numTraining": 2, "file_ending": ".nii.gz"})");
  CHECK(Dataset::exists(dir.path.string()));
  CHECK(!Dataset::holds_dlk_dataset(dir.path.string()));
  sample_dataset().save(dir.path.string());
  CHECK(Dataset::holds_dlk_dataset(dir.path.string()));
  test::write_bytes(dir / "dataset.json", "{"); // damaged: dlk's, so that loading it says what is wrong
  CHECK(Dataset::holds_dlk_dataset(dir.path.string()));
}

TEST_CASE("dataset: cross-validation folds, a subject whole in one fold", "[dataset]") {
  // 12 train subjects, the first 4 with two cases each (ED and ES), and 2 test cases.
  std::vector<std::string> ids;
  for (int p = 1; p <= 12; ++p) ids.push_back(fmt::format("p{:02d}_ED", p));
  for (int p = 1; p <= 4; ++p) ids.push_back(fmt::format("p{:02d}_ES", p));
  Dataset d = sample_dataset(ids);
  for (auto& c : d.cases) {
    c.split = "train";
    c.group = c.id.substr(0, 3);
  }
  for (const char* t : {"t01", "t02"}) {
    DatasetCase c = d.cases[0];
    c.id = t;
    c.group = "";
    c.split = "test";
    d.put(c, false);
  }
  d.assign_folds(5, 42);
  CHECK(d.folds == 5);
  std::map<std::string, std::set<int>> folds_of_subject;
  std::vector<int> subjects_per_fold(5, 0);
  for (auto& c : d.cases) {
    if (c.split != "train") {
      CHECK(c.fold == -1);
      continue;
    }
    REQUIRE(c.fold >= 0);
    REQUIRE(c.fold < 5);
    folds_of_subject[c.group].insert(c.fold);
  }
  CHECK(folds_of_subject.size() == 12);
  for (auto& [subject, folds] : folds_of_subject) {
    CHECK(folds.size() == 1); // ED and ES together
    ++subjects_per_fold[size_t(*folds.begin())];
  }
  // 12 subjects in 5 folds: 3, 3, 2, 2, 2 in some order.
  std::sort(subjects_per_fold.begin(), subjects_per_fold.end());
  CHECK(subjects_per_fold == std::vector<int>{2, 2, 2, 3, 3});
  // The same cases and seed: the same folds; the folds survive dataset.json.
  Dataset again = sample_dataset(ids);
  for (size_t i = 0; i < again.cases.size(); ++i) again.cases[i].split = "train", again.cases[i].group = again.cases[i].id.substr(0, 3);
  again.assign_folds(5, 42);
  const Dataset read = Dataset::from_json(d.to_json());
  CHECK(read.folds == 5);
  CHECK(read.fold_seed == 42);
  for (auto& c : again.cases) {
    CHECK(d.find(c.id)->fold == c.fold);
    CHECK(read.find(c.id)->fold == c.fold);
    CHECK(read.find(c.id)->group == c.group);
  }
  CHECK_THROWS_AS(d.assign_folds(13, 1), UsageError); // more folds than subjects
  CHECK_THROWS_AS(d.assign_folds(1, 1), UsageError);
}

TEST_CASE("dataset: no folds, no fold fields; a fold past the folds is refused", "[dataset]") {
  const std::string text = sample_dataset().to_json().dump(2);
  CHECK(text.find("fold") == std::string::npos);
  CHECK(text.find("group") == std::string::npos);
  json::Value v = sample_dataset().to_json();
  v.set("version", 1); // no checksum: the field checks themselves
  json::Value c = v.at("cases").as_array()[0];
  c.set("fold", 0);
  v.set("cases", json::Value(json::Array{c}));
  CHECK_THROWS_AS(Dataset::from_json(v), Error); // fold 0 of a dataset without folds
  v.set("folds", 2);
  CHECK(Dataset::from_json(v).cases[0].fold == 0);
}

TEST_CASE("dataset: orientation and spacing, written only when used", "[dataset]") {
  const std::string plain = sample_dataset().to_json().dump(2);
  CHECK(plain.find("orientation") == std::string::npos); // an older dataset reads as "stored"
  CHECK(plain.find("spacing") == std::string::npos);
  Dataset d = sample_dataset();
  d.orientation = "canonical";
  d.spacing = cli::spacing_option("0.8,0.75");
  Dataset back = Dataset::from_json(json::Value::parse(d.to_json().dump()));
  CHECK(back.orientation == "canonical");
  CHECK(back.spacing == json::Value(std::vector<double>{0.8, 0.75}));
  CHECK(d.incompatibility(sample_dataset()) == "orientation canonical vs stored");

  CHECK(cli::spacing_option("none").is_null());
  CHECK(cli::spacing_option("auto") == json::Value("auto"));
  for (const char* bad : {"0.8", "0,1", "-1,1", "a,b", "1,2,3", "1x2", "nan,1"})
    CHECK_THROWS_AS(cli::spacing_option(bad), UsageError);
  json::Value v = d.to_json();
  v.set("version", 1);
  v.set("spacing", std::vector<double>{1, 0});
  CHECK_THROWS_WITH(Dataset::from_json(v), Catch::Contains("spacing"));
  v.set("spacing", "median");
  CHECK_THROWS_WITH(Dataset::from_json(v), Catch::Contains("spacing"));
  v.set("spacing", json::Value());
  v.set("orientation", "RAS");
  CHECK_THROWS_WITH(Dataset::from_json(v), Catch::Contains("orientation"));
}
