#include "dlk/prep/check.h"
#include "dlk/core/error.h"
#include "dlk/core/input_stream.h"
#include "dlk/core/notice.h"
#include "dlk/shard/dataset.h"
#include "dlk/shard/shard_reader.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <set>

namespace fs = std::filesystem;

namespace dlk {

namespace {

// Reads every slice of the current shard, checking labels against the classes and the
// recounted voxels against the metadata.
void verify_shard(ShardStreamReader& r, CheckReport& rep, const std::string& path) {
  const ShardMeta& m = r.meta();
  rep.case_id = m.case_id;
  rep.split = m.split;
  rep.slices = m.n_slices;
  rep.shape = fmt::format("{}x{}x{}", m.channel_count(), m.height, m.width);
  rep.dtype = dtype_name(m.dtype);
  rep.has_label = m.has_label;
  rep.classes = m.classes;
  rep.counts.assign(m.classes.size(), 0);
  Slice s;
  while (r.next_slice(s, true, true)) {
    for (size_t i = 0; i < s.label.size(); ++i) {
      if (s.label[i] >= m.classes.size())
        fail(path, fmt::format("case {}: slice {}: label value {} at row {}, column {} is not one of the {} classes",
                               m.case_id, s.index, int(s.label[i]), int64_t(i) / m.width, int64_t(i) % m.width,
                               m.classes.size()));
      ++rep.counts[s.label[i]];
    }
  }
  if (m.has_label && !m.label_counts.empty() && m.label_counts != rep.counts)
    fail(path, fmt::format("case {}: label counts [{}] disagree with the metadata [{}]", m.case_id,
                           fmt::join(rep.counts, ", "), fmt::join(m.label_counts, ", ")));
  if (!m.has_label) rep.counts.clear();
}

// Every shard of a file or stream; stops at the first fault (a stream cannot resync).
bool check_stream(const std::string& path, const std::function<void(const CheckReport&)>& report,
                  std::vector<CheckReport>* seen = nullptr) {
  InputStream in(path);
  ShardStreamReader r(in);
  CheckReport rep;
  rep.path = path;
  try {
    uint64_t start = in.offset();
    while (true) {
      rep = CheckReport{};
      rep.path = path;
      if (!r.next_shard()) break;
      verify_shard(r, rep, path);
      rep.bytes = in.offset() - start;
      start = in.offset();
      report(rep);
      if (seen) seen->push_back(rep);
    }
  } catch (const Error& e) {
    rep.error = e.what();
    report(rep);
    return false;
  }
  return true;
}

bool check_dataset(const std::string& dir, const std::function<void(const CheckReport&)>& report) {
  Dataset d = Dataset::load(dir);
  bool ok = true;
  for (auto& c : d.cases) {
    const std::string path = (fs::path(dir) / c.shard).string();
    std::vector<CheckReport> seen;
    auto mismatch = [&](const std::string& what) {
      CheckReport rep = seen.empty() ? CheckReport{} : seen[0];
      rep.path = path;
      rep.case_id = c.id;
      rep.error = fmt::format("{}: {}", quoted_path(path), what);
      report(rep);
      ok = false;
    };
    if (!fs::exists(path)) {
      mismatch("missing (listed in dataset.json)");
      continue;
    }
    if (!check_stream(path, [](const CheckReport&) {}, &seen)) {
      check_stream(path, report); // report the fault itself
      ok = false;
      continue;
    }
    const CheckReport& rep = seen[0];
    ShardFile sf(path); // also proves random access works
    const ShardMeta& m = sf.meta();
    if (seen.size() != 1) mismatch(fmt::format("holds {} shards, a dataset shard holds one", seen.size()));
    else if (std::string why = d.shard_mismatch(c, m); !why.empty()) mismatch(why);
    else if (c.has_label && rep.counts != c.label_counts) mismatch("label counts differ from dataset.json");
    else {
      CheckReport r2 = rep;
      r2.bytes = sf.bytes();
      report(r2);
    }
  }
  for (auto& unlisted : d.unlisted_shards(dir)) // nothing reads them
    notice(fmt::format("{}: not listed in dataset.json, so not part of the dataset (left by an interrupted "
                       "dlk-prep?): delete it", quoted_path(unlisted)));
  return ok;
}

} // namespace

bool check_path(const std::string& path, const std::function<void(const CheckReport&)>& report) {
  if (path != "-" && fs::is_directory(path)) {
    if (!Dataset::exists(path)) fail(path, "a directory without dataset.json is not a dlk dataset");
    return check_dataset(path, report);
  }
  return check_stream(path, report);
}

} // namespace dlk
