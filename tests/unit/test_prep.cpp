// Needs ITK (built only with DLK_WITH_ITK): synthetic volumes written to disk, then prepared.
#include "dlk/cli/option_values.h"
#include "dlk/core/error.h"
#include "dlk/core/half.h"
#include "dlk/core/output_file.h"
#include "dlk/prep/check.h"
#include "dlk/prep/layout.h"
#include "dlk/prep/prep_case.h"
#include "dlk/prep/prep_run.h"
#include "test_util.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <set>

using namespace dlk;

namespace {
Geometry grid(int64_t nx, int64_t ny, int64_t nz) {
  Geometry g;
  g.size = {nx, ny, nz};
  g.spacing = {0.5, 0.5, 3};
  g.origin = {1, 2, 3};
  return g;
}

struct Fixture {
  test::TempDir dir;
  Geometry g = grid(6, 5, 4);
  std::vector<float> ct, seg;
  Fixture() {
    for (int64_t i = 0; i < g.voxels(); ++i) {
      ct.push_back(float(-200 + 37 * (i % 13)));
      seg.push_back(float(i % 5 == 0 ? 8 : i % 7 == 0 ? 13 : 0));
    }
    write_volume(dir / "ct.nii.gz", g, ct.data(), VoxelType::Float32);
    write_volume(dir / "seg.nii.gz", g, seg.data(), VoxelType::UInt8);
  }
  CaseInput input() const {
    CaseInput c;
    c.id = c.group = "case0001";
    c.images = {dir / "ct.nii.gz"};
    c.label = dir / "seg.nii.gz";
    return c;
  }
  PrepOptions options() const {
    PrepOptions o;
    o.label_map = LabelMap::parse("8:1,13:0,0:0");
    o.classes = {"background", "aorta"};
    o.channel_names = {"CT"};
    return o;
  }
};
} // namespace

TEST_CASE("prep: a case becomes a shard of normalized slices and mapped labels", "[prep]") {
  Fixture f;
  auto opt = f.options();
  opt.dtype = ImageDType::Float32;
  {
    OutputFile out(f.dir / "c.dlks");
    prep_case(f.input(), opt, out);
    out.commit();
  }
  ShardFile s(f.dir / "c.dlks");
  const ShardMeta& m = s.meta();
  CHECK(m.n_slices == 4);
  CHECK((m.height == 5 && m.width == 6));
  CHECK(m.geometry == f.g);
  int64_t aorta = 0;
  for (float v : f.seg) aorta += v == 8;
  CHECK(m.label_counts == std::vector<int64_t>{f.g.voxels() - aorta, aorta});
  for (int64_t z = 0; z < 4; ++z) {
    Slice sl = s.read_slice(z);
    for (int64_t y = 0; y < 5; ++y)
      for (int64_t x = 0; x < 6; ++x) {
        const size_t vi = size_t(x + 6 * (y + 5 * z)), si = size_t(y * 6 + x);
        const double hu = std::min(275.0, std::max(-125.0, double(f.ct[vi])));
        REQUIRE(sl.image[si] == Approx((hu + 125) / 400).epsilon(1e-6));
        REQUIRE(int(sl.label[si]) == (f.seg[vi] == 8 ? 1 : 0));
      }
  }
}

TEST_CASE("prep: bad input is named, with the field or voxel at fault", "[prep]") {
  Fixture f;
  auto run = [&](const CaseInput& c, const PrepOptions& o) {
    OutputFile out(f.dir / "x.dlks");
    prep_case(c, o, out);
  };
  // Label on another grid.
  Geometry other = f.g;
  other.spacing[2] = 2.5;
  write_volume(f.dir / "seg2.nii.gz", other, f.seg.data(), VoxelType::UInt8);
  CaseInput c = f.input();
  c.label = f.dir / "seg2.nii.gz";
  CHECK_THROWS_WITH(run(c, f.options()), Catch::Contains("seg2.nii.gz") && Catch::Contains("spacing"));
  // A second channel of another size.
  Geometry small = grid(6, 5, 3);
  write_volume(f.dir / "t2.nii.gz", small, f.ct.data(), VoxelType::Float32);
  c = f.input();
  c.images.push_back(f.dir / "t2.nii.gz");
  auto o2 = f.options();
  o2.channel_names = {"CT", "T2"};
  CHECK_THROWS_WITH(run(c, o2), Catch::Contains("t2.nii.gz") && Catch::Contains("size 6x5x4 vs 6x5x3"));
  // NaN voxel.
  std::vector<float> nan = f.ct;
  nan[6 * 5 * 2 + 6 + 3] = std::nanf("");
  write_volume(f.dir / "nan.nii.gz", f.g, nan.data(), VoxelType::Float32);
  c = f.input();
  c.images = {f.dir / "nan.nii.gz"};
  CHECK_THROWS_WITH(run(c, f.options()), Catch::Contains("nan.nii.gz") && Catch::Contains("voxel (3, 1, 2) is NaN"));
  // A label value the map does not know.
  auto o3 = f.options();
  o3.label_map = LabelMap::parse("8:1,0:0");
  CHECK_THROWS_WITH(run(f.input(), o3), Catch::Contains("label value 13") && Catch::Contains("not in the label map"));
  CHECK(!std::filesystem::exists(f.dir / "x.dlks"));
}

TEST_CASE("prep: a dataset run is all or nothing", "[prep]") {
  Fixture f;
  PrepRun run;
  run.options = f.options();
  run.out_dir = f.dir / "out";
  run.cases = {f.input(), f.input()};
  run.cases[1].id = "case0002";
  run.cases[1].label = f.dir / "missing.nii.gz";
  CHECK_THROWS_WITH(run_prep(run), Catch::Contains("missing.nii.gz") && Catch::Contains("missing (label of case case0002)"));

  // Case 2 fails late (a label value outside the map): nothing of the run may remain.
  std::vector<float> bad = f.seg;
  bad.back() = 99;
  write_volume(f.dir / "bad.nii.gz", f.g, bad.data(), VoxelType::UInt8);
  run.cases[1].label = f.dir / "bad.nii.gz";
  run.threads = 2;
  CHECK_THROWS_WITH(run_prep(run), Catch::Contains("label value 99"));
  CHECK_FALSE(std::filesystem::exists(f.dir / "out")); // the directory it made is gone too

  // Into an existing dataset: the directory stays, with nothing of the failed run in it.
  run.cases = {f.input()};
  run_prep(run);
  run.cases[0].id = "case0002";
  run.cases[0].label = f.dir / "bad.nii.gz";
  CHECK_THROWS_WITH(run_prep(run), Catch::Contains("label value 99"));
  std::set<std::string> left;
  for (auto& e : std::filesystem::directory_iterator(f.dir / "out")) left.insert(e.path().filename().string());
  CHECK(left == std::set<std::string>{".dataset.lock", "case0001.dlks", "dataset.json"});
  CHECK(Dataset::load(f.dir / "out").cases.size() == 1);
}

TEST_CASE("prep: the dataset is named after its directory, or --name", "[prep]") {
  Fixture f;
  PrepRun run;
  run.options = f.options();
  run.cases = {f.input()};
  run.out_dir = f.dir / "brats/"; // a trailing slash still names it "brats"
  run_prep(run);
  CHECK(Dataset::load(f.dir / "brats").name == "brats");
  run.cases[0].id = "case0002";
  run.name = "other";
  CHECK_THROWS_WITH(run_prep(run), Catch::Contains("--name other: the dataset in") && Catch::Contains("is named brats"));
}

TEST_CASE("prep: runs add cases to a dataset, refuse duplicates, and are reproducible", "[prep]") {
  Fixture f;
  PrepRun run;
  run.options = f.options();
  run.out_dir = f.dir / "out";
  run.cases = {f.input(), f.input()};
  run.cases[1].id = "case0002";
  run.cases[1].split = "test";
  run.threads = 2;
  auto sum = run_prep(run);
  CHECK(sum.cases == 2);
  CHECK(sum.slices == 8);
  Dataset d = Dataset::load(run.out_dir);
  REQUIRE(d.cases.size() == 2);
  CHECK(d.cases[1].split == "test");
  CHECK(d.classes == std::vector<std::string>{"background", "aorta"});
  const std::string first = test::read_bytes(f.dir / "out/case0001.dlks");

  PrepRun more = run; // a third case into the same directory
  more.cases = {f.input()};
  more.cases[0].id = "case0003";
  run_prep(more);
  CHECK(Dataset::load(run.out_dir).cases.size() == 3);

  PrepRun again = run; // case0001 again: refused unless forced
  again.cases = {f.input()};
  CHECK_THROWS_WITH(run_prep(again), Catch::Contains("case case0001 is already in the dataset"));
  again.force = true;
  again.threads = 1;
  run_prep(again);
  // The new shard never replaces the one the old dataset.json lists: it has the other name
  // (CASE.dlks and CASE@2.dlks alternate), and the old one goes once dataset.json is renamed.
  const std::string shard = Dataset::load(run.out_dir).find("case0001")->shard;
  CHECK(shard == "case0001@2.dlks");
  CHECK_FALSE(std::filesystem::exists(f.dir / "out/case0001.dlks"));
  CHECK(test::read_bytes(f.dir / ("out/" + shard)) == first); // same bytes, one thread or two

  PrepRun other = run; // other normalization into the same dataset: refused
  other.cases = {f.input()};
  other.cases[0].id = "case0009";
  other.options.normalize = cli::normalize_option("zscore", "", "");
  CHECK_THROWS_WITH(run_prep(other), Catch::Contains("does not match this run: normalization"));
  CHECK(Dataset::load(run.out_dir).cases.size() == 3);

  bool ok = check_path(run.out_dir, [](const CheckReport& r) { CHECK(r.error.empty()); });
  CHECK(ok);
}
