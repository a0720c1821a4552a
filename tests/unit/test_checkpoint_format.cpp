// The checkpoint container without LibTorch: files crafted here as a writer would make them
// (CRC-valid header and metadata, trailer with the true size), with absurd tensor tables that
// the reader must refuse before allocating anything.
#include "dlk/core/crc32.h"
#include "dlk/core/error.h"
#include "dlk/core/random_access_file.h"
#include "dlk/model/checkpoint_format.h"

#include "test_util.h"

#include <catch2/catch.hpp>

#include <cstring>

using namespace dlk;
namespace cf = dlk::checkpoint_format;

namespace {

void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += char(uint8_t(v >> (8 * i)));
}

json::Value entry(const std::string& name, const std::string& dtype, std::vector<int64_t> shape, int64_t offset,
                  int64_t bytes, int64_t crc) {
  json::Value e;
  e.set("name", name);
  e.set("dtype", dtype);
  e.set("shape", shape);
  e.set("offset", offset);
  e.set("bytes", bytes);
  e.set("crc32", crc);
  return e;
}

// Header, metadata with `table`, padding, `data` (the tensor region) and trailer, each field
// as dlk/model/checkpoint.h describes it; the checksums are right whatever the table says.
std::string container_with(const json::Value& meta, const std::string& data) {
  const std::string m = meta.dump();
  std::string h(reinterpret_cast<const char*>(cf::kMagic), 8);
  put_le(h, 1, 2); // major
  put_le(h, 0, 2); // minor
  put_le(h, 0, 4); // flags
  put_le(h, m.size(), 4);
  put_le(h, crc32(m.data(), m.size(), crc32(h.data(), 20)), 4);
  std::string out = h + m;
  out.resize(size_t(cf::align(out.size())), '\0');
  out += data;
  const uint64_t total = out.size() + 16;
  out += "DLKZ";
  put_le(out, 0, 4);
  put_le(out, total, 8);
  return out;
}

std::string container(const json::Array& table, const std::string& data) {
  json::Value meta;
  meta.set("format", "dlk-checkpoint");
  meta.set("tensors", json::Value(table));
  return container_with(meta, data);
}

uint32_t crc_of(const std::string& s) { return crc32(s.data(), s.size()); }

// Two tensors as the writer lays them out: "a" float32 [2, 3] at 0, "b" int64 [4] at 64.
struct Good {
  std::string a = std::string(24, '\x11'), b = std::string(32, '\x22');
  std::string data = a + std::string(40, '\0') + b + std::string(32, '\0'); // padded to 128
  json::Array table{entry("a", "float32", {2, 3}, 0, 24, crc_of(a)), entry("b", "int64", {4}, 64, 32, crc_of(b))};
};

// Writes the file and returns the error that reading its index gives.
std::string refusal(const test::TempDir& dir, const std::string& bytes) {
  const std::string path = dir / "c.dlkc";
  test::write_bytes(path, bytes);
  try {
    RandomAccessFile f(path);
    read_checkpoint_index(f);
  } catch (const Error& e) {
    return e.what();
  }
  return "(accepted)";
}

} // namespace

TEST_CASE("checkpoint format: a well-formed file gives its table and its tensors", "[checkpoint]") {
  test::TempDir dir;
  Good g;
  const std::string bytes = container(g.table, g.data);
  test::write_bytes(dir / "c.dlkc", bytes);
  RandomAccessFile f(dir / "c.dlkc");
  CheckpointIndex ix = read_checkpoint_index(f);
  REQUIRE(ix.tensors.size() == 2);
  CHECK(ix.meta.at("format").as_string() == "dlk-checkpoint");
  const CheckpointTensorInfo& b = ix.tensors[1];
  CHECK(b.name == "b");
  CHECK(b.shape == std::vector<int64_t>{4});
  CHECK(b.numel == 4);
  CHECK(b.bytes == 32);
  CHECK(b.offset == bytes.size() - 16 - 64); // absolute: from the start of the file
  std::string got(32, '\0');
  read_checkpoint_tensor(f, b, got.data());
  CHECK(got == g.b);

  // A flipped byte inside a tensor is found by its own checksum, which names it.
  std::string bad = bytes;
  bad[size_t(ix.tensors[0].offset) + 5] ^= 0x40;
  test::write_bytes(dir / "bad.dlkc", bad);
  RandomAccessFile fb(dir / "bad.dlkc");
  CheckpointIndex bx = read_checkpoint_index(fb); // the table itself is intact
  std::string buf(24, '\0');
  CHECK_THROWS_WITH(read_checkpoint_tensor(fb, bx.tensors[0], buf.data()),
                    Catch::Contains("bad.dlkc") && Catch::Contains("tensor a: checksum mismatch"));
}

TEST_CASE("checkpoint format: empty tensors may share an offset, as the writer places them", "[checkpoint]") {
  test::TempDir dir;
  Good g;
  g.table.push_back(entry("empty", "float32", {0, 3}, 64, 0, 0));
  g.table.push_back(entry("huge-but-empty", "float32", {int64_t(1) << 40, 0}, 0, 0, 0));
  g.table.push_back(entry("scalar", "float64", {}, 128, 8, crc_of(std::string(8, '\x33'))));
  CHECK(refusal(dir, container(g.table, g.data + std::string(8, '\x33'))) == "(accepted)");
}

TEST_CASE("checkpoint format: absurd tensor tables are refused before any allocation", "[checkpoint]") {
  test::TempDir dir;
  auto refused = [&](json::Array table, const std::string& what, const std::string& tensor = "a") {
    const std::string msg = refusal(dir, container(table, Good().data));
    INFO(msg);
    CHECK_THAT(msg, Catch::StartsWith("'" + (dir / "c.dlkc") + "': ") && Catch::Contains("tensor " + tensor) &&
                        Catch::Contains(what));
  };
  const int64_t tera = int64_t(1) << 40;
  Good g;
  const int64_t crc_a = g.table[0].at("crc32").as_int();

  SECTION("a shape of 2^40 elements, bytes and all consistent") {
    refused({entry("a", "float32", {tera}, 0, tera * 4, crc_a)}, "needs more bytes than the file holds");
  }
  SECTION("dimensions whose product overflows 64 bits") {
    refused({entry("a", "float32", {tera, tera, tera}, 0, 24, crc_a)}, "needs more bytes than the file holds");
    refused({entry("a", "uint8", {int64_t(1) << 53, 4096}, 0, 24, crc_a)}, "needs more bytes than the file holds");
  }
  SECTION("negative dimensions") {
    refused({entry("a", "float32", {-2, -3}, 0, 24, crc_a)}, "negative dimension");
    refused({entry("a", "float32", {2, 3, -1}, 0, 0, crc_a)}, "negative dimension");
  }
  SECTION("too many dimensions") {
    refused({entry("a", "float32", std::vector<int64_t>(17, 1), 0, 4, crc_a)}, "17 dimensions");
  }
  SECTION("bytes disagreeing with the shape") {
    refused({entry("a", "float32", {2, 3}, 0, 20, crc_a)}, "20 bytes disagree with its shape [2, 3] of float32 (24 bytes)");
    refused({entry("a", "float32", {2, 3}, 0, -24, crc_a)}, "disagree with its shape");
  }
  SECTION("an offset beyond the end of the file") {
    refused({entry("a", "float32", {2, 3}, int64_t(1) << 30, 24, crc_a)}, "beyond the data region");
    refused({entry("a", "float32", {2, 3}, 128, 24, crc_a)}, "beyond the data region"); // region is 128 bytes
    refused({entry("a", "uint8", {72}, 64, 72, crc_a)}, "bytes 64..136 lie beyond the data region (128 bytes");
  }
  SECTION("offsets the writer never makes") {
    refused({entry("a", "float32", {2, 3}, 8, 24, crc_a)}, "offset 8 is not a multiple of 64");
    refused({entry("a", "float32", {2, 3}, -64, 24, crc_a)}, "negative offset -64");
  }
  SECTION("overlapping tensors") {
    refused({g.table[0], entry("b", "float32", {2}, 0, 8, 0)}, "overlaps tensor", "b");
    refused({entry("a", "uint8", {96}, 0, 96, 0), g.table[1]}, "overlaps tensor a", "b");
  }
  SECTION("a name listed twice") {
    refused({g.table[0], entry("a", "int64", {4}, 64, 32, 0)}, "listed twice");
  }
  SECTION("an unknown dtype") {
    refused({entry("a", "complex64", {2, 3}, 0, 24, crc_a)}, "unknown tensor type 'complex64'");
  }
  SECTION("a checksum that is not 32 bits") {
    refused({entry("a", "float32", {2, 3}, 0, 24, int64_t(1) << 32)}, "not a 32-bit checksum");
    refused({entry("a", "float32", {2, 3}, 0, 24, -1)}, "not a 32-bit checksum");
  }
  SECTION("fields of the wrong JSON type") {
    json::Value e = g.table[0];
    e.set("shape", json::Array{json::Value(1.5)});
    refused({e}, "shape must be an integer");
    e = g.table[0];
    e.set("offset", "0");
    refused({e}, "offset must be a number");
    refused({json::Value(3)}, "checkpoint metadata", "#0");
  }
}

TEST_CASE("checkpoint format: the table's size and the header's lengths are bounded", "[checkpoint]") {
  test::TempDir dir;
  json::Array many;
  for (size_t i = 0; i <= cf::kMaxTensors; ++i) many.push_back(entry("t" + std::to_string(i), "uint8", {0}, 0, 0, 0));
  CHECK_THAT(refusal(dir, container(many, "")), Catch::Contains("65537 tensors (at most 65536)"));

  // A header announcing 60 MiB of metadata in a file of a few hundred bytes: refused before
  // the metadata buffer is allocated (the checksum cannot be right, but is not reached).
  Good g;
  std::string bytes = container(g.table, g.data);
  const uint32_t big = 60u << 20;
  std::memcpy(&bytes[16], &big, 4); // little-endian hosts only, like the rest of dlk
  CHECK_THAT(refusal(dir, bytes), Catch::Contains("truncated checkpoint") && Catch::Contains("62914560 bytes of metadata"));
  const uint32_t huge = 65u << 20;
  std::memcpy(&bytes[16], &huge, 4);
  CHECK_THAT(refusal(dir, bytes), Catch::Contains("corrupt checkpoint header"));

  // No table, a table that is not an array, metadata that is not JSON (with a right checksum).
  CHECK(refusal(dir, container({}, "")) == "(accepted)");
  CHECK_THAT(refusal(dir, container_with(json::Value(json::Object{}), "")),
             Catch::Contains("checkpoint metadata: missing key \"tensors\""));
  json::Value meta;
  meta.set("tensors", json::Value(json::Object{}));
  CHECK_THAT(refusal(dir, container_with(meta, "")), Catch::Contains("tensors must be an array"));
  CHECK_THAT(refusal(dir, container_with(json::Value("not an object"), "")),
             Catch::Contains("checkpoint metadata: value must be an object"));
  bytes = container(g.table, g.data);
  bytes[24] = '['; // breaks the JSON, and so the checksum
  CHECK_THAT(refusal(dir, bytes), Catch::Contains("checksum mismatch"));
  CHECK_THAT(refusal(dir, bytes.substr(0, 30)), Catch::Contains("truncated"));
  CHECK_THAT(refusal(dir, "\x89" "DLKC"), Catch::Contains("truncated"));
}

TEST_CASE("checkpoint format: the writer lays out exactly what the format describes", "[checkpoint]") {
  test::TempDir dir;
  Good g;
  // The same tensors through the library's writer: byte for byte the hand-made container.
  const std::vector<CheckpointTensorBytes> tensors{{"a", "float32", {2, 3}, g.a.data(), 24},
                                                   {"b", "int64", {4}, g.b.data(), 32}};
  write_checkpoint(dir / "w.dlkc", json::Value(), tensors);
  CHECK(test::read_bytes(dir / "w.dlkc") == container(g.table, g.data));

  // Metadata is kept, empty tensors and scalars round-trip.
  json::Value meta;
  meta.set("epoch", 7);
  const double one = 1.0;
  write_checkpoint(dir / "m.dlkc", meta, {{"none", "uint8", {3, 0}, nullptr, 0}, {"one", "float64", {}, &one, 8}});
  RandomAccessFile f(dir / "m.dlkc");
  CheckpointIndex ix = read_checkpoint_index(f);
  CHECK(ix.meta.at("epoch").as_int() == 7);
  REQUIRE(ix.tensors.size() == 2);
  CHECK(ix.tensors[0].numel == 0);
  double back = 0;
  read_checkpoint_tensor(f, ix.tensors[1], &back);
  CHECK(back == 1.0);

  // What the reader would refuse is not written.
  CHECK_THROWS_WITH(write_checkpoint(dir / "x.dlkc", json::Value(), {{"a", "float32", {2, 3}, g.a.data(), 20}}),
                    Catch::Contains("x.dlkc") && Catch::Contains("tensor a: cannot write float32 [2, 3] as 20 bytes"));
  CHECK_THROWS_WITH(write_checkpoint(dir / "x.dlkc", json::Value(), {{"a", "complex64", {1}, g.a.data(), 8}}),
                    Catch::Contains("tensor a: cannot write"));
  CHECK_FALSE(std::filesystem::exists(dir / "x.dlkc"));
}
