#include "dlk/prep/prep_run.h"
#include "dlk/core/error.h"
#include "dlk/core/file_lock.h"
#include "dlk/core/notice.h"
#include "dlk/core/output_file.h"
#include "dlk/core/progress.h"
#include "dlk/core/thread_group.h"
#include "dlk/prep/layout.h"
#include "dlk/prep/prep_case.h"
#include "dlk/shard/dataset.h"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <unistd.h>

namespace fs = std::filesystem;

namespace dlk {

namespace {

Dataset dataset_header(const PrepRun& run, const std::vector<std::string>& channels) {
  Dataset d;
  d.name = run.name;
  d.channels = channels;
  d.classes = run.options.classes;
  d.normalization = run.options.normalize.to_json();
  d.label_map = run.options.label_map.to_json();
  d.orientation = run.options.canonical ? "canonical" : "stored";
  d.axis = run.options.axis;
  d.dtype = dtype_name(run.options.dtype);
  d.spacing = run.spacing;
  return d;
}

std::vector<std::string> channel_names(const PrepRun& run) {
  if (!run.options.channel_names.empty()) return run.options.channel_names;
  std::vector<std::string> out;
  for (size_t k = 0; k < run.cases[0].images.size(); ++k) out.push_back(fmt::format("channel{}", k));
  return out;
}

void check_inputs(const PrepRun& run) {
  std::set<std::string> ids;
  for (auto& c : run.cases) {
    if (std::string why = case_id_problem(c.id); !why.empty())
      throw UsageError(why + (c.id.empty() ? "" : " (give another with --case)"));
    if (!ids.insert(c.id).second) throw UsageError(fmt::format("duplicate case id '{}'", c.id));
    if (!valid_split_name(c.split)) throw UsageError(fmt::format("case {}: split '{}' (train, val or test)", c.id, c.split));
    if (c.images.size() != run.cases[0].images.size())
      throw UsageError(fmt::format("case {} has {} channels, case {} has {}", c.id, c.images.size(),
                                   run.cases[0].id, run.cases[0].images.size()));
    // Missing files show up before any work is done.
    for (auto& f : c.images) // a volume file, or a DICOM series' directory
      if (!fs::is_regular_file(f) && !fs::is_directory(f)) fail(f, fmt::format("missing (image of case {})", c.id));
    if (!c.label.empty() && !fs::is_regular_file(c.label) && !fs::is_directory(c.label))
      fail(c.label, fmt::format("missing (label of case {})", c.id));
  }
}

uint64_t file_bytes(const CaseInput& c) {
  uint64_t n = 0;
  std::error_code ec;
  for (auto& f : c.images) n += fs::is_directory(f) ? 0 : fs::file_size(f, ec); // progress only
  if (!c.label.empty()) n += fs::file_size(c.label, ec);
  return n;
}

} // namespace

namespace {

using OnCase = std::function<void(const ShardMeta&, uint64_t)>;

// The output directory, made if missing (`created`), and the dataset.json it holds, if any.
std::optional<Dataset> open_out_dir(const std::string& out_dir, bool& created) {
  if (fs::exists(out_dir) && !fs::is_directory(out_dir)) fail(out_dir, "exists and is not a directory");
  std::error_code ec;
  created = !fs::exists(out_dir);
  fs::create_directories(out_dir, ec);
  if (ec) fail(out_dir, "cannot create directory: " + ec.message());
  if (Dataset::exists(out_dir)) return Dataset::load(out_dir);
  return std::nullopt;
}

// The dataset header: classes and name, from the options, an existing dataset.json (which must
// agree with this run) or the directory's name.
void settle_header(PrepRun& run, const std::optional<Dataset>& existing) {
  if (run.options.classes.empty()) {
    if (existing) run.options.classes = existing->classes;
    else if (!run.options.label_map.empty()) {
      for (int i = 0; i <= run.options.label_map.max_class(); ++i)
        run.options.classes.push_back(i == 0 ? "background" : fmt::format("class{}", i));
    } else if (run.cases.size() > 1) { // each case would name classes after its own labels
      throw UsageError("the classes are not known: give --classes (or a --label-map) for several cases");
    }
  }
  if (existing && !run.name.empty() && run.name != existing->name)
    throw UsageError(fmt::format("--name {}: the dataset in '{}' is named {}", run.name, run.out_dir, existing->name));
  if (run.name.empty() && existing) run.name = existing->name;
  if (run.name.empty()) { // the directory's own name, also for "data/" and "."
    fs::path p = fs::absolute(run.out_dir).lexically_normal();
    if (p.filename().empty()) p = p.parent_path();
    run.name = p.filename().string();
  }
  if (existing) {
    Dataset mine = dataset_header(run, channel_names(run));
    if (mine.classes.empty()) mine.classes = existing->classes;
    std::string why = existing->incompatibility(mine);
    if (!why.empty())
      fail((fs::path(run.out_dir) / Dataset::kFileName).string(),
           "the existing dataset does not match this run: " + why);
    for (auto& c : run.cases)
      if (existing->find(c.id) && !run.force)
        fail((fs::path(run.out_dir) / Dataset::kFileName).string(),
             fmt::format("case {} is already in the dataset (use --force to replace it)", c.id));
  }
}

// Out directory "-": one stream on stdout, cases in order. Returns the bytes written.
uint64_t prep_to_stdout(const PrepRun& run, std::vector<ShardMeta>& metas, ProgressCounter& progress,
                        const OnCase& on_case) {
  uint64_t bytes = 0;
  OutputFile out("-");
  for (size_t i = 0; i < run.cases.size(); ++i) {
    metas[i] = prep_case(run.cases[i], run.options, out);
    const uint64_t before = bytes;
    bytes = out.bytes_written();
    if (on_case) on_case(metas[i], bytes - before);
    progress.add(1, run.cases[i].id);
  }
  out.commit();
  return bytes;
}

// Every case into a temporary in the out directory, on run.threads threads; `sizes` receives
// their sizes. On a failure the temporaries go, and the directory too if this run made it
// (`created_dir`) and nothing else is in it; then the first error is thrown.
std::vector<std::unique_ptr<OutputFile>> prep_cases(const PrepRun& run, bool created_dir, std::vector<ShardMeta>& metas,
                                                    std::vector<uint64_t>& sizes, ProgressCounter& progress,
                                                    const OnCase& on_case) {
  std::vector<std::unique_ptr<OutputFile>> outputs(run.cases.size());
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::string first_error;
  bool usage = false;
  auto worker = [&] {
    for (size_t i; !failed && (i = next++) < run.cases.size();) {
      const CaseInput& c = run.cases[i];
      try {
        auto out = std::make_unique<OutputFile>((fs::path(run.out_dir) / (c.id + ".dlks")).string());
        metas[i] = prep_case(c, run.options, *out);
        sizes[i] = out->bytes_written();
        out->close();
        outputs[i] = std::move(out);
        std::lock_guard<std::mutex> lock(mu);
        if (on_case) on_case(metas[i], sizes[i]);
        progress.add(1, c.id);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(mu);
        if (!failed.exchange(true)) {
          first_error = e.what();
          usage = dynamic_cast<const UsageError*>(&e) != nullptr;
        }
      }
    }
  };
  ThreadGroup pool;
  pool.start(std::max(1, std::min<int>(run.threads, int(run.cases.size()))), worker);
  pool.join();
  progress.finish();
  if (failed) { // the OutputFiles' destructors remove every temporary of this run
    outputs.clear();
    if (created_dir) { // and a directory this run made goes too, if nothing else is in it
      std::error_code ec;
      fs::remove(fs::path(run.out_dir) / ".dataset.lock", ec);
      fs::remove(run.out_dir, ec);
    }
    if (usage) throw UsageError(first_error);
    throw Error(first_error);
  }
  return outputs;
}

// The cases of this run entered into `d`: the shard name each goes to (`names`) and the shards
// they replace (`replaced`).
// The commit is the rename of dataset.json, and nothing before it changes what the current
// dataset.json describes: a case prepared again goes to a shard name the current file does
// not list (CASE.dlks and CASE@2.dlks alternate), the shards it replaces go after the commit.
// A failure or kill at any point leaves the old dataset whole; what a kill can leave is an
// unlisted shard, which the next run (and --check) reports.
void enter_cases(const PrepRun& run, const std::vector<ShardMeta>& metas, Dataset& d, std::vector<std::string>& names,
                 std::vector<std::string>& replaced) {
  names.resize(run.cases.size());
  for (size_t i = 0; i < run.cases.size(); ++i) {
    if (metas[i].classes != d.classes)
      fail(run.cases[i].label, fmt::format("case {} has {} classes, the dataset {}", run.cases[i].id,
                                           metas[i].classes.size(), d.classes.size()));
    DatasetCase dc;
    dc.id = metas[i].case_id;
    dc.split = metas[i].split;
    dc.shard = dc.id + ".dlks";
    if (const DatasetCase* prev = d.find(dc.id)) {
      if (prev->shard == dc.shard) dc.shard = dc.id + "@2.dlks";
      replaced.push_back(prev->shard);
    }
    dc.slices = metas[i].n_slices;
    dc.has_label = metas[i].has_label;
    dc.label_counts = metas[i].label_counts;
    if (run.cases[i].group != dc.id) dc.group = run.cases[i].group; // ACDC: the patient
    d.put(dc, run.force);
    names[i] = dc.shard;
  }
}

// Commits the prepared shards and dataset.json under a lock, re-reading dataset.json: parallel
// runs (a Slurm array) may share OUT.
void commit_dataset(const PrepRun& run, const std::vector<ShardMeta>& metas,
                    std::vector<std::unique_ptr<OutputFile>>& outputs) {
  FileLock lock((fs::path(run.out_dir) / ".dataset.lock").string());
  Dataset mine = dataset_header(run, channel_names(run));
  if (mine.classes.empty()) mine.classes = metas[0].classes; // derived from a single case's labels
  Dataset d = mine;
  if (Dataset::exists(run.out_dir)) {
    d = Dataset::load(run.out_dir);
    if (std::string why = d.incompatibility(mine); !why.empty())
      fail((fs::path(run.out_dir) / Dataset::kFileName).string(), "changed while this run worked: " + why);
  }
  std::vector<std::string> names, replaced;
  enter_cases(run, metas, d, names, replaced);
  if (run.folds > 0) d.assign_folds(run.folds, run.fold_seed);
  else if (d.folds > 0) d.assign_folds(d.folds, d.fold_seed); // the new cases join the folds
  const fs::path dir(run.out_dir);
  OutputFile index((dir / Dataset::kFileName).string());
  index.write(d.to_json().dump(2) + "\n");
  index.close(); // written and synced: a full disk shows here, before anything is renamed
  std::vector<std::string> placed;
  try {
    for (size_t i = 0; i < run.cases.size(); ++i) {
      outputs[i]->commit_as((dir / names[i]).string());
      placed.push_back((dir / names[i]).string());
    }
    index.commit();
  } catch (...) {
    for (auto& p : placed) ::unlink(p.c_str()); // listed by no dataset.json
    throw;
  }
  for (auto& old : replaced) {
    std::error_code ec;
    fs::remove(dir / old, ec);
  }
  for (auto& path : d.unlisted_shards(dir.string()))
    notice(fmt::format("'{}' is not listed in dataset.json (left by an interrupted run?): delete it", path));
}

} // namespace

PrepSummary run_prep(PrepRun run, const OnCase& on_case) {
  if (run.folds != 0 && (run.folds < 2 || run.folds > 100)) throw UsageError(fmt::format("--folds {}: 2 to 100 (0: none)", run.folds));
  if (run.folds && run.out_dir == "-") throw UsageError("--folds: folds are recorded in a dataset's dataset.json, not in a stream");
  const auto t0 = std::chrono::steady_clock::now();
  if (run.cases.empty()) throw UsageError("no cases to prepare");
  check_inputs(run);
  if (std::string why = spacing_problem(run.spacing); !why.empty()) throw UsageError("--spacing " + why);
  if (run.spacing.is_array()) run.options.resample_to = {run.spacing.as_array()[0].as_number(), run.spacing.as_array()[1].as_number()};
  PrepSummary sum;
  const bool to_stdout = run.out_dir == "-";

  // Settle the dataset header first: an existing dataset.json must agree with this run.
  std::optional<Dataset> existing;
  bool created_dir = false;
  if (!to_stdout) existing = open_out_dir(run.out_dir, created_dir);
  settle_header(run, existing);

  ProgressCounter progress(run.progress, "dlk-prep", int64_t(run.cases.size()));
  std::vector<ShardMeta> metas(run.cases.size());
  if (to_stdout) {
    sum.bytes = prep_to_stdout(run, metas, progress, on_case);
  } else {
    std::vector<uint64_t> sizes(run.cases.size());
    auto outputs = prep_cases(run, created_dir, metas, sizes, progress, on_case);
    for (auto s : sizes) sum.bytes += s;
    commit_dataset(run, metas, outputs);
  }
  for (size_t i = 0; i < run.cases.size(); ++i) {
    sum.slices += metas[i].n_slices;
    sum.source_bytes += file_bytes(run.cases[i]);
  }
  sum.cases = int64_t(run.cases.size());
  sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return sum;
}

} // namespace dlk
