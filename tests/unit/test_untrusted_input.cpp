// Inputs from others are untrusted (issue 13): case ids that would leave a directory, edited
// dataset.json files, shards whose labels run past their classes, outputs that are devices,
// FIFOs or links, and the temporaries killed runs leave. Expectations come from the rules in
// dlk-shard(5), not from the code.
#include "dlk/core/error.h"
#include "dlk/core/input_stream.h"
#include "dlk/core/output_file.h"
#include "dlk/core/temporary_files.h"
#include "dlk/core/whole_file.h"
#include "dlk/shard/dataset.h"
#include "dlk/shard/shard_meta.h"
#include "dlk/shard/shard_reader.h"
#include "dlk/shard/shard_writer.h"
#include "test_util.h"

#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <fmt/format.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace dlk;
namespace fs = std::filesystem;

TEST_CASE("case ids: only names that stay inside a directory", "[untrusted]") {
  for (const char* ok : {"img0001", "patient001_frame01", "brats_2013_pat0003_1", "la-003", "a", "case.1+x"})
    CHECK(case_id_problem(ok).empty());
  for (const char* bad : {"", "../x", "../../x", "/tmp/x", "a/b", ".hidden", "-rf", "a b", "a\\b", "x\ny", "..", "."})
    CHECK_FALSE(case_id_problem(bad).empty());
  CHECK_FALSE(case_id_problem(std::string(129, 'a')).empty());
  CHECK(case_id_problem(std::string(128, 'a')).empty());
  // A control character never reaches the message raw.
  CHECK(case_id_problem("a\x1b[2Jb").find('\x1b') == std::string::npos);
}

TEST_CASE("shard names in dataset.json: CASE.dlks or CASE@N.dlks", "[untrusted]") {
  CHECK(shard_name_problem("ct01.dlks").empty());
  CHECK(shard_name_problem("ct01@2.dlks").empty());
  for (const char* bad : {"../ct01.dlks", "ct01.nii.gz", ".dlks", "ct01@.dlks", "ct01@x.dlks", "/abs.dlks", "a/b.dlks"})
    CHECK_FALSE(shard_name_problem(bad).empty());
}

TEST_CASE("dataset.json: an edit breaks its checksum", "[untrusted]") {
  test::TempDir dir;
  test::sample_dataset({"case0001"}).save(dir.path.string());
  const std::string path = dir / "dataset.json", text = test::read_bytes(path);
  REQUIRE(Dataset::load(dir.path.string()).cases.size() == 1);
  // Every one of these edits is refused, naming the file.
  for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"\"slices\": 10", "\"slices\": 11"}, {"case0001.dlks", "case0002.dlks"}, {"\"axis\": 2", "\"axis\": 1"},
           {"\"CT\"", "\"MR\""}}) {
    std::string edited = text;
    REQUIRE(edited.find(from) != std::string::npos);
    edited.replace(edited.find(from), from.size(), to);
    test::write_bytes(path, edited);
    try {
      Dataset::load(dir.path.string());
      FAIL("an edit was accepted: " << from << " -> " << to);
    } catch (const Error& e) {
      CHECK(std::string(e.what()).find("checksum mismatch") != std::string::npos);
      CHECK(std::string(e.what()).find(path) != std::string::npos);
    }
  }
  // Whitespace is not content.
  std::string spaced = text;
  spaced.insert(spaced.find("\"name\""), "   ");
  test::write_bytes(path, spaced);
  CHECK_NOTHROW(Dataset::load(dir.path.string()));
}

TEST_CASE("dataset.json: hostile fields are refused", "[untrusted]") {
  auto v = test::sample_dataset({"case0001"}).to_json();
  auto with = [&](const std::string& key, json::Value x) {
    json::Value c = v;
    c.set("version", 1); // no checksum: the field checks themselves
    json::Value cs = c.at("cases").as_array()[0];
    cs.set(key, std::move(x));
    c.set("cases", json::Value(json::Array{cs}));
    return c;
  };
  CHECK_THROWS_AS(Dataset::from_json(with("id", "../../x")), Error);
  CHECK_THROWS_AS(Dataset::from_json(with("shard", "../other/x.dlks")), Error);
  CHECK_THROWS_AS(Dataset::from_json(with("split", "bogus")), Error);
  CHECK_THROWS_AS(Dataset::from_json(with("slices", int64_t(1) << 53)), Error);
  CHECK_NOTHROW(Dataset::from_json(with("slices", int64_t(10))));
}

TEST_CASE("shards: labels past the class list, a case twice in a stream", "[untrusted]") {
  test::TempDir dir;
  Geometry g;
  g.size = {6, 5, 3};
  auto c = test::make_case("c1", 1, g, 2, true, ImageDType::Float16, true, 7);
  c.meta.classes = {"background", "a", "b"};
  c.meta.label_counts.clear();
  for (auto& l : c.labels) std::fill(l.begin(), l.end(), 0);
  c.labels[1][4] = 3; // one past the classes, in slice 1 (row 0, column 4)
  {
    OutputFile out(dir / "bad.dlks");
    ShardWriter w(out, c.meta);
    for (size_t s = 0; s < c.images.size(); ++s) w.add(c.images[s].data(), c.labels[s].data());
    w.finish();
    out.commit();
  }
  ShardFile f(dir / "bad.dlks");
  CHECK_NOTHROW(f.read_slice(0));
  try {
    f.read_slice(1);
    FAIL("label 3 of 3 classes was accepted");
  } catch (const Error& e) {
    const std::string m = e.what();
    CHECK(m.find("slice 1") != std::string::npos);
    CHECK(m.find("label 3") != std::string::npos);
    CHECK(m.find("bad.dlks") != std::string::npos);
  }
  // Two shards of one case, back to back.
  c.labels[1][4] = 0;
  {
    OutputFile out(dir / "twice.dlks");
    for (int k = 0; k < 2; ++k) {
      ShardWriter w(out, c.meta);
      for (size_t s = 0; s < c.images.size(); ++s) w.add(c.images[s].data(), c.labels[s].data());
      w.finish();
    }
    out.commit();
  }
  CHECK_THROWS_WITH(ShardFile::open_all(dir / "twice.dlks"), Catch::Contains("appears twice"));
  InputStream in(dir / "twice.dlks");
  ShardStreamReader r(in);
  REQUIRE(r.next_shard());
  CHECK_THROWS_WITH(r.next_shard(), Catch::Contains("appears twice"));
}

namespace {
// A character device to write to: a copy of /dev/null's or /dev/full's node in `dir` where this
// process may make one (root), so that a regression cannot replace the system's own; else the
// system's, which a process without root cannot replace; "" for root that cannot make one.
std::string device(const test::TempDir& dir, const char* name, unsigned minor) {
  const std::string node = dir / name;
  if (::mknod(node.c_str(), S_IFCHR | 0666, makedev(1, minor)) == 0) return node;
  return ::geteuid() == 0 ? std::string() : std::string("/dev/") + name; // root: never risk the system's
}
} // namespace

TEST_CASE("outputs: devices and FIFOs are written in place, links stay links", "[untrusted]") {
  test::TempDir dir;
  const std::string null = device(dir, "null", 3), full = device(dir, "full", 7);
  struct stat st {};
  if (null.empty() || full.empty()) {
    WARN("root without mknod: the device checks are skipped");
  } else {
    OutputFile to_null(null);
    to_null.write("x");
    to_null.commit();
    REQUIRE(stat(null.c_str(), &st) == 0);
    CHECK(S_ISCHR(st.st_mode));
    OutputFile to_full(full);
    to_full.write("x");
    CHECK_THROWS_WITH(to_full.commit(), Catch::Contains(full));
    REQUIRE(stat(full.c_str(), &st) == 0);
    CHECK(S_ISCHR(st.st_mode));
  }

  const std::string fifo = dir / "fifo";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  std::string got;
  std::thread reader([&] { got = read_text_file(fifo); });
  {
    OutputFile out(fifo);
    out.write("through the fifo");
    out.commit();
  }
  reader.join();
  CHECK(got == "through the fifo");
  REQUIRE(lstat(fifo.c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));

  test::write_bytes(dir / "target", "old");
  REQUIRE(symlink("target", (dir / "link").c_str()) == 0);
  test::write_bytes(dir / "link", "new");
  REQUIRE(lstat((dir / "link").c_str(), &st) == 0);
  CHECK(S_ISLNK(st.st_mode));
  CHECK(test::read_bytes(dir / "target") == "new");
  CHECK_THROWS_WITH(OutputFile(dir.path.string()), Catch::Contains("is a directory"));
}

TEST_CASE("temporaries: a killed run's are removed by the next, others' are not", "[untrusted]") {
  test::TempDir dir;
  // A process that is gone: a child that exited.
  const pid_t dead = fork();
  if (dead == 0) _exit(0);
  REQUIRE(dead > 0);
  waitpid(dead, nullptr, 0);
  std::string probe;
  ::close(create_temporary_beside(dir / "probe", "", probe)); // learn this host's token from a real name
  const std::string token = fs::path(probe).filename().string().substr(std::string("probe.tmp-").size());
  const std::string host = token.substr(0, token.find('-'));
  ::unlink(probe.c_str());
  // Directory readers (volumes to segment or score) skip such names, whoever wrote them.
  CHECK(is_temporary_name(fs::path(probe).filename().string()));
  CHECK(is_temporary_name("c.tmp-otherhost-12-AbC123.nii.gz"));
  CHECK_FALSE(is_temporary_name("c.nii.gz"));
  CHECK_FALSE(is_temporary_name("plain.tmp-notours"));

  test::TempDir d2;
  const std::string stale = d2 / fmt::format("x.dlks.tmp-{}-{}-AbC123", host, dead);
  const std::string stale_vol = d2 / fmt::format("c.tmp-{}-{}-AbC123.nii.gz", host, dead);
  const std::string live = d2 / fmt::format("y.dlks.tmp-{}-{}-AbC123", host, getpid());
  const std::string other = d2 / fmt::format("z.dlks.tmp-{}-{}-AbC123", host + "x", dead);
  const std::string mine = d2 / "plain.tmp-notours";
  for (auto& p : {stale, stale_vol, live, other, mine}) std::ofstream(p) << "x"; // not OutputFile: it would sweep now
  OutputFile out(d2 / "new.dlks"); // the first output into d2 sweeps it
  out.write("y");
  out.commit();
  CHECK_FALSE(fs::exists(stale));
  CHECK_FALSE(fs::exists(stale_vol));
  CHECK(fs::exists(live));  // this process is alive
  CHECK(fs::exists(other)); // another host's process: not ours to judge
  CHECK(fs::exists(mine));
}
