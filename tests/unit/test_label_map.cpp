#include "dlk/core/error.h"
#include "dlk/prep/label_map.h"
#include "test_util.h"

#include <catch2/catch.hpp>

using namespace dlk;

TEST_CASE("label map: inline pairs, '*' and files with comments", "[labelmap]") {
  LabelMap m = LabelMap::parse("8:1,4:2, 3:3,*:0");
  CHECK(m.pairs.at(8) == 1);
  CHECK(m.pairs.at(3) == 3);
  CHECK(m.rest == 0);
  CHECK(m.max_class() == 3);

  test::TempDir dir;
  test::write_bytes(dir / "map.txt", "# raw class\n52:1   # aorta\n4 2\n\n*:0\n");
  LabelMap f = LabelMap::parse(dir / "map.txt");
  CHECK(f.pairs.size() == 2);
  CHECK(f.pairs.at(52) == 1);
  CHECK(f.pairs.at(4) == 2);
  CHECK(f.rest == 0);
  CHECK(LabelMap::from_json(f.to_json()).pairs == f.pairs);
  CHECK(f.to_json().dump() == R"({"4":2,"52":1,"*":0})");
}

TEST_CASE("label map: malformed maps are usage errors", "[labelmap]") {
  CHECK_THROWS_AS(LabelMap::parse("1:x"), UsageError);
  CHECK_THROWS_WITH(LabelMap::parse("1:2,1:3"), Catch::Contains("raw value 1 mapped twice"));
  CHECK_THROWS_WITH(LabelMap::parse("1:256"), Catch::Contains("outside 0..255"));
  CHECK_THROWS_WITH(LabelMap::parse("*:0,*:1"), Catch::Contains("'*' given twice"));
  CHECK_THROWS_WITH(LabelMap::parse("no-such-file"), Catch::Contains("neither a file nor"));
  // A bad file is a failure naming the file, not a usage error.
  test::TempDir dir;
  test::write_bytes(dir / "bad.txt", "1:2\n3:x\n");
  CHECK_THROWS_AS(LabelMap::parse(dir / "bad.txt"), Error);
  CHECK_THROWS_WITH(LabelMap::parse(dir / "bad.txt"), Catch::Contains("'" + (dir / "bad.txt") + "'") && Catch::Contains("'x' is not an integer"));
}

TEST_CASE("label map: applied to a volume, with counts", "[labelmap]") {
  const int64_t size[3] = {3, 2, 1};
  std::vector<float> raw = {0, 8, 8, 4, 13, 0};
  std::vector<int64_t> counts;
  auto out = apply_label_map(raw, LabelMap::parse("8:1,4:2,*:0"), 3, "seg.nii", size, counts);
  CHECK(out == std::vector<uint8_t>{0, 1, 1, 2, 0, 0});
  CHECK(counts == std::vector<int64_t>{3, 2, 1});
}

TEST_CASE("label map: values outside the map name the file, value and voxel", "[labelmap]") {
  const int64_t size[3] = {3, 2, 2};
  std::vector<float> raw(12, 0.f);
  raw[3 + 3 * 2 + 2] = 14; // x=2, y=1, z=1
  std::vector<int64_t> counts;
  CHECK_THROWS_WITH(apply_label_map(raw, LabelMap::parse("0:0,13:1"), 2, "seg.nii", size, counts),
                    Catch::Contains("'seg.nii'") && Catch::Contains("label value 14 at voxel (2, 1, 1) is not in the label map"));
  // Without a map, values must be below the class count.
  CHECK_THROWS_WITH(apply_label_map(raw, LabelMap{}, 4, "seg.nii", size, counts),
                    Catch::Contains("label value 14 at voxel (2, 1, 1) is not a class"));
  raw[0] = 0.5f;
  CHECK_THROWS_WITH(apply_label_map(raw, LabelMap{}, 0, "seg.nii", size, counts), Catch::Contains("is not an integer"));
  // A map may not send a value past the class names.
  raw[0] = 0;
  CHECK_THROWS_WITH(apply_label_map(raw, LabelMap::parse("14:5,*:0"), 3, "seg.nii", size, counts),
                    Catch::Contains("maps to class 5, but there are only 3 classes"));
}
