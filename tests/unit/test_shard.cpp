#include "dlk/core/error.h"
#include "dlk/core/half.h"
#include "dlk/core/input_stream.h"
#include "dlk/core/output_file.h"
#include "dlk/io/slices.h"
#include "dlk/shard/shard_meta.h"
#include "dlk/shard/shard_reader.h"
#include "dlk/shard/shard_writer.h"
#include "test_util.h"

#include <catch2/catch.hpp>

#include <fmt/format.h>

using namespace dlk;
using dlk::test::TempDir;

namespace {
Geometry geometry(int64_t nx, int64_t ny, int64_t nz) {
  Geometry g;
  g.size = {nx, ny, nz};
  g.spacing = {0.7, 0.8, 2.5};
  g.origin = {-10.5, 20.25, 3};
  g.direction = {1, 0, 0, 0, 0, 1, 0, -1, 0};
  return g;
}

// What a shard must give back: float32 exactly, float16 as the nearest half.
float stored(float v, ImageDType t) { return t == ImageDType::Float16 ? half_to_float(float_to_half(v)) : v; }

void expect_same(const test::SyntheticCase& c, const Slice& s, int64_t i) {
  REQUIRE(s.index == i);
  REQUIRE(s.image.size() == c.images[size_t(i)].size());
  for (size_t k = 0; k < s.image.size(); ++k) REQUIRE(s.image[k] == stored(c.images[size_t(i)][k], c.meta.dtype));
  if (c.meta.has_label) REQUIRE(s.label == c.labels[size_t(i)]);
  else REQUIRE(s.label.empty());
}

void expect_meta(const ShardMeta& a, const ShardMeta& b) {
  CHECK(a.to_json() == b.to_json()); // every field, through its serialised form
  CHECK(a.case_id == b.case_id);
  CHECK(a.geometry == b.geometry);
  CHECK(a.channels == b.channels);
  CHECK(a.image_sources == b.image_sources);
  CHECK(a.label_source == b.label_source);
  CHECK(a.normalization == b.normalization);
  CHECK(a.label_counts == b.label_counts);
  CHECK(a.n_slices == b.n_slices);
  CHECK(a.height == b.height);
  CHECK(a.width == b.width);
}
} // namespace

TEST_CASE("shard: round trip of every field and voxel", "[shard]") {
  TempDir dir;
  auto dtype = GENERATE(ImageDType::Float16, ImageDType::Float32);
  auto shuffle = GENERATE(true, false);
  auto labelled = GENERATE(true, false);
  auto c = test::make_case("c1", 2, geometry(7, 5, 4), 2, labelled, dtype, shuffle, 42);
  auto path = test::write_case_file(c, dir / "c1.dlks");

  ShardFile f(path);
  expect_meta(f.meta(), c.meta);
  for (int64_t i = c.meta.n_slices - 1; i >= 0; --i) expect_same(c, f.read_slice(i), i); // random order

  InputStream in(path);
  ShardStreamReader r(in);
  REQUIRE(r.next_shard());
  expect_meta(r.meta(), c.meta);
  Slice s;
  for (int64_t i = 0; i < c.meta.n_slices; ++i) {
    REQUIRE(r.next_slice(s));
    expect_same(c, s, i);
  }
  CHECK_FALSE(r.next_slice(s));
  CHECK_FALSE(r.next_shard());
}

TEST_CASE("shard: labels can be read without decoding images", "[shard]") {
  TempDir dir;
  auto c = test::make_case("c1", 1, geometry(9, 3, 2), 2, true, ImageDType::Float16, true, 1);
  ShardFile f(test::write_case_file(c, dir / "c.dlks"));
  Slice s = f.read_slice(1, false, true);
  CHECK(s.image.empty());
  CHECK(s.label == c.labels[1]);
}

TEST_CASE("shard: slices along each axis follow numpy's arr[s], arr[:, s], arr[:, :, s]", "[shard]") {
  // Volume value = x + 10 y + 100 z; numpy array [z][y][x].
  Geometry g = geometry(4, 3, 2);
  std::vector<float> vol;
  for (int z = 0; z < 2; ++z)
    for (int y = 0; y < 3; ++y)
      for (int x = 0; x < 4; ++x) vol.push_back(float(x + 10 * y + 100 * z));
  int64_t n, h, w;
  std::vector<float> out(12);
  slice_shape(g, 2, n, h, w); // arr[1] is [y][x]
  CHECK((n == 2 && h == 3 && w == 4));
  extract_slice(vol.data(), g, 2, 1, out.data());
  CHECK(out[0] == 100);
  CHECK(out[1 * 4 + 3] == 113);
  slice_shape(g, 1, n, h, w); // arr[:, 2] is [z][x]
  CHECK((n == 3 && h == 2 && w == 4));
  extract_slice(vol.data(), g, 1, 2, out.data());
  CHECK(out[0] == 20);
  CHECK(out[1 * 4 + 1] == 121);
  slice_shape(g, 0, n, h, w); // arr[:, :, 3] is [z][y]
  CHECK((n == 4 && h == 2 && w == 3));
  extract_slice(vol.data(), g, 0, 3, out.data());
  CHECK(out[0] == 3);
  CHECK(out[1 * 3 + 2] == 123);
}

TEST_CASE("shard: the same input gives byte-identical output", "[shard]") {
  TempDir dir;
  auto c = test::make_case("c1", 1, geometry(16, 16, 3), 2, true, ImageDType::Float16, true, 3);
  CHECK(test::read_bytes(test::write_case_file(c, dir / "a.dlks")) ==
        test::read_bytes(test::write_case_file(c, dir / "b.dlks")));
}

TEST_CASE("shard: a stream of shards reads back shard by shard", "[shard][stream]") {
  TempDir dir;
  std::vector<test::SyntheticCase> cases;
  for (int k = 0; k < 3; ++k)
    cases.push_back(test::make_case(fmt::format("case{}", k), 1 + k % 2, geometry(5 + k, 4, 2 + k), 2, k != 1,
                                    ImageDType::Float16, true, unsigned(k)));
  {
    OutputFile out(dir / "stream.dlks");
    for (auto& c : cases) test::write_case(c, out);
    out.commit();
  }
  InputStream in(dir / "stream.dlks");
  ShardStreamReader r(in);
  Slice s;
  for (auto& c : cases) {
    REQUIRE(r.next_shard());
    CHECK(r.meta().case_id == c.meta.case_id);
    if (c.meta.case_id == "case1") { // skipping a shard's slices still verifies them
      r.skip_rest();
      continue;
    }
    for (int64_t i = 0; i < c.meta.n_slices; ++i) {
      REQUIRE(r.next_slice(s));
      expect_same(c, s, i);
    }
  }
  CHECK_FALSE(r.next_shard());
  CHECK(r.shards_read() == 3);

  auto all = ShardFile::open_all(dir / "stream.dlks");
  REQUIRE(all.size() == 3);
  for (size_t k = 0; k < 3; ++k) {
    expect_meta(all[k]->meta(), cases[k].meta);
    expect_same(cases[k], all[k]->read_slice(cases[k].meta.n_slices - 1), cases[k].meta.n_slices - 1);
  }
}

namespace {
// Reads everything both ways; returns the first error message (empty when both read cleanly).
std::string read_everything(const std::string& path) {
  std::string err;
  try {
    InputStream in(path);
    ShardStreamReader r(in);
    Slice s;
    while (r.next_shard())
      while (r.next_slice(s)) {
      }
  } catch (const Error& e) {
    err = e.what();
  }
  std::string err2;
  try {
    for (auto& f : ShardFile::open_all(path))
      for (int64_t i = 0; i < f->meta().n_slices; ++i) f->read_slice(i);
  } catch (const Error& e) {
    err2 = e.what();
  }
  if (err.empty() != err2.empty()) return "readers disagree: '" + err + "' vs '" + err2 + "'";
  return err;
}
} // namespace

TEST_CASE("shard: a flipped byte anywhere is an error, naming the slice inside a record", "[shard][corrupt]") {
  TempDir dir;
  auto c = test::make_case("c1", 2, geometry(6, 5, 3), 2, true, ImageDType::Float16, true, 9);
  const std::string path = test::write_case_file(c, dir / "c.dlks");
  const std::string good = test::read_bytes(path);
  ShardFile f(path);
  // Where each slice's record lies, from the index at the end.
  std::vector<std::pair<size_t, size_t>> records;
  {
    const size_t n = size_t(c.meta.n_slices), index_at = good.size() - 32 - (12 + 8 * n);
    std::vector<size_t> offs;
    for (size_t i = 0; i < n; ++i) {
      uint64_t o = 0;
      std::memcpy(&o, good.data() + index_at + 8 + 8 * i, 8);
      offs.push_back(size_t(o));
    }
    offs.push_back(index_at);
    for (size_t i = 0; i < n; ++i) records.emplace_back(offs[i], offs[i + 1]);
  }
  const std::string bad_path = dir / "bad.dlks";
  for (size_t at = 0; at < good.size(); ++at) {
    for (unsigned char mask : {0x01, 0x80}) {
      std::string bad = good;
      bad[at] = char(bad[at] ^ mask);
      test::write_bytes(bad_path, bad);
      const std::string err = read_everything(bad_path);
      INFO("byte " << at << " mask " << int(mask));
      REQUIRE_FALSE(err.empty());
      REQUIRE(err.find("readers disagree") == std::string::npos);
      REQUIRE(err.find("bad.dlks") != std::string::npos);
      for (size_t i = 0; i < records.size(); ++i)
        if (at >= records[i].first && at < records[i].second) REQUIRE(err.find(fmt::format("slice {}", i)) != std::string::npos);
    }
  }
}

TEST_CASE("shard: every truncation is an error", "[shard][corrupt]") {
  TempDir dir;
  auto c = test::make_case("c1", 1, geometry(6, 5, 3), 2, true, ImageDType::Float16, true, 5);
  const std::string good = test::read_bytes(test::write_case_file(c, dir / "c.dlks"));
  for (size_t len = 0; len < good.size(); ++len) {
    test::write_bytes(dir / "t.dlks", good.substr(0, len));
    INFO("length " << len);
    REQUIRE_FALSE(read_everything(dir / "t.dlks").empty());
  }
  // Trailing garbage after a complete shard is an error too.
  test::write_bytes(dir / "t.dlks", good + "x");
  CHECK_FALSE(read_everything(dir / "t.dlks").empty());
}

TEST_CASE("shard: wrong magic and unsupported versions are named", "[shard][corrupt]") {
  TempDir dir;
  auto c = test::make_case("c1", 1, geometry(4, 4, 1), 2, false, ImageDType::Float16, true, 5);
  std::string good = test::read_bytes(test::write_case_file(c, dir / "c.dlks"));
  std::string bad = good;
  bad[1] = 'X';
  test::write_bytes(dir / "m.dlks", bad);
  CHECK_THROWS_WITH(ShardFile(dir / "m.dlks"), Catch::Contains("not a dlk shard (bad magic)"));
  bad = good;
  bad[8] = 2; // major version 2
  test::write_bytes(dir / "v.dlks", bad);
  CHECK_THROWS_WITH(ShardFile(dir / "v.dlks"), Catch::Contains("version 2.0 is not supported"));
  test::write_bytes(dir / "e.dlks", "");
  CHECK_THAT(read_everything(dir / "e.dlks"), Catch::Contains("e.dlks") && Catch::Contains("empty"));
}

TEST_CASE("shard: writers refuse inconsistent input", "[shard]") {
  TempDir dir;
  auto c = test::make_case("c1", 1, geometry(4, 4, 2), 2, true, ImageDType::Float16, true, 5);
  OutputFile out(dir / "x.dlks");
  ShardWriter w(out, c.meta);
  CHECK_THROWS_WITH(w.add(c.images[0].data(), nullptr), Catch::Contains("label missing"));
  w.add(c.images[0].data(), c.labels[0].data());
  CHECK_THROWS_WITH(w.finish(), Catch::Contains("1 slices written, 2 announced"));
}

TEST_CASE("shard: an uncommitted output leaves no file behind", "[io]") {
  TempDir dir;
  {
    OutputFile out(dir / "x.dlks");
    out.write("partial");
  }
  CHECK(std::filesystem::is_empty(dir.path));
}

TEST_CASE("shard: label-only shards (no image channels) round trip", "[shard]") {
  TempDir dir;
  auto c = test::make_case("pred", 1, geometry(5, 4, 3), 2, true, ImageDType::Float16, true, 11);
  c.meta.channels.clear();
  c.meta.image_sources.clear();
  c.meta.normalization = json::Value(json::Array{});
  {
    OutputFile out(dir / "p.dlks");
    ShardWriter w(out, c.meta);
    CHECK_THROWS_WITH(w.add(c.images[0].data(), c.labels[0].data()), Catch::Contains("label-only"));
    for (size_t s = 0; s < c.labels.size(); ++s) w.add(nullptr, c.labels[s].data());
    w.finish();
    out.commit();
  }
  ShardFile f(dir / "p.dlks");
  CHECK(f.meta().channel_count() == 0);
  for (int64_t i = 0; i < 3; ++i) {
    Slice s = f.read_slice(i);
    CHECK(s.image.empty());
    CHECK(s.label == c.labels[size_t(i)]);
  }
  // Without labels as well as without channels, a shard would hold nothing: refused.
  c.meta.has_label = false;
  c.meta.label_counts.clear();
  OutputFile out(dir / "q.dlks");
  CHECK_THROWS_WITH(ShardWriter(out, c.meta), Catch::Contains("without image channels must hold labels"));
}
