#include "dlk/infer/infer_run.h"
#include "dlk/core/error.h"
#include "dlk/core/input_stream.h"
#include "dlk/core/output_file.h"
#include "dlk/core/temporary_files.h"
#include "dlk/infer/segmenter.h"
#include "dlk/io/dicom_seg.h"
#include "dlk/io/dicom_series.h"
#include "dlk/io/slices.h"
#include "dlk/metrics/connected_components.h"
#include "dlk/shard/dataset.h"
#include "dlk/shard/shard_meta.h"
#include "dlk/shard/shard_reader.h"
#include "dlk/shard/shard_writer.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <future>
#include <map>
#include <optional>
#include <regex>

namespace fs = std::filesystem;

namespace dlk {

namespace {

using Clock = std::chrono::steady_clock;

// A case a source can produce: volumes to read, or a shard already prepared by dlk-prep.
struct Job {
  std::string id;
  std::vector<std::string> images;
  std::string shard;                       // path of a dataset's shard
  std::shared_ptr<const Dataset> dataset;  // which lists it (checked against it when read)
  const DatasetCase* listed = nullptr;
};

InferCase from_shard_meta(const ShardMeta& m, const std::string& source, const Segmenter& seg) {
  if (m.channel_count() != seg.channels())
    fail(source, fmt::format("case {} has {} channels, the model wants {}", m.case_id, m.channel_count(), seg.channels()));
  if (m.axis != seg.axis()) fail(source, fmt::format("case {} was sliced along axis {}, the model along {}", m.case_id, m.axis, seg.axis()));
  const NormalizeSpec want = seg.normalization();
  for (auto& n : m.normalization.as_array())
    if (std::string why = normalization_mismatch(want, n); !why.empty())
      fail(source, fmt::format("case {} was normalized differently from the model's training data: {}", m.case_id, why));
  // Classes a shard names (more than the lone "background" of unlabelled data) must be the model's:
  // a label map of 3 classes read by a 9-class model would get labels it does not have.
  const auto classes = seg.classes();
  if (m.classes.size() > 1 && m.classes != classes)
    fail(source, fmt::format("case {} has classes [{}], the model [{}]", m.case_id, fmt::join(m.classes, ", "),
                             fmt::join(classes, ", ")));
  if (m.orientation.has_value() != seg.canonical())
    fail(source, fmt::format("case {} was {}, the model's training data {}", m.case_id,
                             m.orientation ? "reoriented to LPS" : "sliced as stored", seg.canonical() ? "reoriented" : "sliced as stored"));
  if (m.channel_count() > kMaxCaseValues / std::max<int64_t>(m.geometry.voxels(), 1))
    fail(source, fmt::format("case {}: {} channels of {} voxels are more than {} values (16 GiB)", m.case_id,
                             m.channel_count(), m.geometry.voxels(), kMaxCaseValues));
  InferCase c;
  c.id = m.case_id;
  c.source = source;
  c.geometry = m.grid();
  c.stored = m.geometry;
  c.orientation = m.orientation;
  c.channels.assign(size_t(m.channel_count()), std::vector<float>(size_t(m.geometry.voxels())));
  return c;
}

void put_slice(InferCase& c, const ShardMeta& m, const Slice& s) {
  for (int64_t ch = 0; ch < m.channel_count(); ++ch)
    insert_slice(s.image.data() + size_t(ch) * m.slice_pixels(), c.geometry, m.axis, s.index, c.channels[size_t(ch)].data());
}

InferCase load_shard_case(const Job& j, const Segmenter& seg) {
  const auto t0 = Clock::now();
  const auto shard = j.dataset->open_shard(fs::path(j.shard).parent_path().string(), *j.listed);
  const ShardFile& f = *shard;
  InferCase c = from_shard_meta(f.meta(), j.shard, seg);
  for (int64_t s = 0; s < f.meta().n_slices; ++s) put_slice(c, f.meta(), f.read_slice(s, true, false));
  c.spent.read = std::chrono::duration<double>(Clock::now() - t0).count();
  return c;
}

std::vector<Job> list_jobs(const InferRun& r, const Segmenter& seg) {
  std::vector<Job> jobs;
  if (!r.images.empty()) {
    jobs.push_back({r.case_id.empty() ? volume_case_id(r.images[0]) : r.case_id, r.images, {}, nullptr, nullptr});
    return jobs;
  }
  if (is_dicom_directory(r.input)) { // one series: one case, named after its directory
    jobs.push_back({volume_case_id(r.input), {r.input}, {}, nullptr, nullptr});
    return jobs;
  }
  if (fs::is_directory(r.input)) {
    if (Dataset::holds_dlk_dataset(r.input)) {
      auto d = std::make_shared<const Dataset>(Dataset::load(r.input));
      for (auto* c : d->split(r.split)) jobs.push_back({c->id, {}, (fs::path(r.input) / c->shard).string(), d, c});
      if (jobs.empty()) fail(r.input, fmt::format("no case in the '{}' split", r.split));
      return jobs;
    }
    // Volumes: CASE_0000.ext, CASE_0001.ext... (nnU-Net) group into channels; other names are cases.
    std::map<std::string, std::map<int, std::string>> by_case;
    static const std::regex channel(R"((.+)_(\d{4}))");
    for (auto& e : fs::directory_iterator(r.input)) {
      if (e.is_directory() && is_dicom_directory(e.path().string())) { // a case's DICOM series
        by_case[e.path().filename().string()][0] = e.path().string();
        continue;
      }
      if (!e.is_regular_file() || is_temporary_name(e.path().filename().string())) continue; // another run's, being written
      const std::string stem = strip_volume_extension(e.path().string());
      if (stem == e.path().filename().string()) continue; // not a volume
      std::smatch m;
      if (std::regex_match(stem, m, channel)) by_case[m[1].str()][std::stoi(m[2].str())] = e.path().string();
      else by_case[stem][0] = e.path().string();
    }
    for (auto& [id, chans] : by_case) {
      Job j{id, {}, {}, nullptr, nullptr};
      for (auto& [k, path] : chans) {
        if (k != int(j.images.size())) fail(path, fmt::format("case {}: channel {} missing", id, j.images.size()));
        j.images.push_back(path);
      }
      if (int64_t(j.images.size()) != seg.channels())
        fail(j.images[0], fmt::format("case {} has {} channel file(s), the model wants {}", id, j.images.size(), seg.channels()));
      jobs.push_back(j);
    }
    if (jobs.empty()) fail(r.input, "no volumes and no dataset.json");
    return jobs;
  }
  if (!fs::exists(r.input)) fail(r.input, "no such file or directory");
  jobs.push_back({strip_volume_extension(r.input), {r.input}, {}, nullptr, nullptr});
  return jobs;
}

// The cases of a run, one at a time: those of a shard stream, or of the listed jobs (this part's).
class CaseSource {
public:
  CaseSource(const InferRun& r, const Segmenter& seg, const std::function<void(const std::string&)>& log)
      : seg_(seg), norm_(seg.normalization()), series_(r.options.series) {
    if (r.input == "-" || (!r.input.empty() && fs::is_regular_file(r.input) && is_shard_file(r.input))) {
      if (r.parts > 1) throw UsageError("--part splits a list of cases, not a stream");
      if (r.format == "dicom-seg") throw UsageError("--format dicom-seg needs DICOM input, not shards");
      in_ = std::make_unique<InputStream>(r.input);
      reader_ = std::make_unique<ShardStreamReader>(*in_);
      return;
    }
    jobs_ = list_jobs(r, seg);
    if (r.format == "dicom-seg") // a Segmentation references its source images
      for (const Job& j : jobs_)
        if (j.images.empty() || !is_dicom_directory(j.images[0]))
          throw UsageError(fmt::format("--format dicom-seg needs DICOM input (a Segmentation references its source "
                                       "series): case {} is {}", j.id, j.images.empty() ? "a shard" : "'" + j.images[0] + "'"));
    const size_t n = jobs_.size(), lo = n * size_t(r.part - 1) / size_t(r.parts), hi = n * size_t(r.part) / size_t(r.parts);
    jobs_ = std::vector<Job>(jobs_.begin() + long(lo), jobs_.begin() + long(hi));
    if (r.parts > 1) log(fmt::format("part {}/{}: cases {}..{} of {}", r.part, r.parts, lo + 1, hi, n));
  }
  std::optional<InferCase> next() {
    if (!reader_) {
      if (at_ == jobs_.size()) return std::nullopt;
      const Job& j = jobs_[at_++];
      return j.shard.empty() ? read_case(j.id, j.images, norm_, seg_.canonical(), series_) : load_shard_case(j, seg_);
    }
    if (!reader_->next_shard()) return std::nullopt;
    const auto t0 = Clock::now();
    InferCase c = from_shard_meta(reader_->meta(), in_->path(), seg_);
    Slice s;
    while (reader_->next_slice(s, true, false)) put_slice(c, reader_->meta(), s);
    c.spent.read = std::chrono::duration<double>(Clock::now() - t0).count();
    return c;
  }

private:
  const Segmenter& seg_;
  const NormalizeSpec norm_;
  const std::string series_;
  std::vector<Job> jobs_;
  size_t at_ = 0;
  std::unique_ptr<InputStream> in_;
  std::unique_ptr<ShardStreamReader> reader_;
};

class Writer {
public:
  Writer(const InferRun& r, std::vector<std::string> classes, int axis) : run_(r), classes_(std::move(classes)), axis_(axis) {
    if (r.output == "-") stream_ = std::make_unique<OutputFile>("-");
  }
  // A case's outputs, all or none: its probability maps, labels and probabilities are written
  // under temporary names first and renamed into place together (in a stream: after its labels
  // went out), so that a failure leaves none of them, and no older set mixes with a newer one.
  void write(const InferCase& c, const Segmentation& s) {
    make_directories(); // on the first case: a run that fails before one is segmented leaves none
    std::vector<std::unique_ptr<StagedVolume>> staged;
    if (!run_.options.probability_maps.empty()) staged = probability_maps(c, s);
    if (stream_) {
      write_shard(*stream_, c, s, true);
      for (auto& v : staged) v->commit();
      return;
    }
    const std::vector<uint16_t> labels = c.to_stored(s.labels);
    if (run_.format == "dicom-seg") { // written whole under a temporary name; renamed last
      for (auto& x : staged) x->commit();
      write_dicom_seg((fs::path(run_.output) / (c.id + ".dcm")).string(), index_dicom_series(c.source, run_.options.series), labels,
                      classes_, DLK_VERSION);
      return;
    }
    std::vector<float> v(labels.begin(), labels.end());
    staged.push_back(std::make_unique<StagedVolume>((fs::path(run_.output) / (c.id + extension(c))).string(), c.stored,
                                                    v.data(), VoxelType::UInt8)); // a model has 2..256 classes (ModelConfig)
    std::unique_ptr<OutputFile> probs;
    if (run_.options.probabilities) {
      probs = std::make_unique<OutputFile>((fs::path(run_.output) / (c.id + ".probs.dlks")).string());
      write_shard(*probs, c, s, false);
      probs->close();
    }
    for (auto& x : staged) x->commit();
    if (probs) probs->commit();
  }
  void finish() {
    make_directories(); // a run with no case (an empty --part) still leaves -o
    if (stream_) stream_->commit();
  }

private:
  std::string extension(const InferCase& c) const {
    if (run_.format == "nifti") return ".nii.gz";
    if (run_.format == "nrrd") return ".nrrd";
    if (run_.format == "mha") return ".mha";
    return c.extension;
  }
  void make_directories() {
    if (made_) return;
    for (const std::string* dir : {&run_.output, &run_.options.probability_maps}) {
      if (dir->empty() || *dir == "-") continue;
      std::error_code ec;
      fs::create_directories(*dir, ec);
      if (ec) fail(*dir, "cannot create directory: " + ec.message());
    }
    made_ = true;
  }
  // The probability maps, one uint8 NIfTI per class on the case's grid (--probability-maps),
  // written under temporary names.
  std::vector<std::unique_ptr<StagedVolume>> probability_maps(const InferCase& c, const Segmentation& s) const {
    const size_t k = s.probabilities.size(), n = size_t(c.geometry.voxels());
    std::vector<std::vector<float>> q(k, std::vector<float>(n));
    std::vector<std::pair<double, size_t>> rem(k);
    for (size_t i = 0; i < n; ++i) { // largest remainders: 255ths that sum to exactly 255
      int total = 0;
      for (size_t j = 0; j < k; ++j) {
        const double v = std::clamp(double(s.probabilities[j][i]), 0.0, 1.0) * 255;
        q[j][i] = float(std::floor(v));
        total += int(q[j][i]);
        rem[j] = {v - std::floor(v), j};
      }
      std::sort(rem.begin(), rem.end(), [](auto& a, auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
      for (int d = 0; d < 255 - total && d < int(k); ++d) q[rem[size_t(d)].second][i] += 1;
    }
    std::vector<std::unique_ptr<StagedVolume>> out;
    for (size_t j = 0; j < k; ++j) {
      const std::string name = j < classes_.size() && case_id_problem(classes_[j]).empty() ? classes_[j] : fmt::format("class{}", j);
      out.push_back(std::make_unique<StagedVolume>((fs::path(run_.options.probability_maps) / (c.id + "_" + name + ".nii.gz")).string(),
                                                   c.stored, c.to_stored(q[j]).data(), VoxelType::UInt8));
    }
    return out;
  }
  // A shard of the labels (and/or the probabilities as float16 channels), sliced as the input
  // was: from the canonical grid, with the stored one and the reorientation recorded.
  void write_shard(OutputFile& out, const InferCase& c, const Segmentation& s, bool labels) {
    ShardMeta m;
    m.case_id = c.id;
    m.split = "test";
    m.image_sources = {c.source};
    m.geometry = c.stored;
    m.orientation = c.orientation;
    m.source_pixel_type = labels ? "uint8" : "float32";
    m.axis = axis_;
    slice_shape(c.geometry, axis_, m.n_slices, m.height, m.width);
    m.has_label = labels;
    m.classes = classes_;
    json::Array norms;
    if (!s.probabilities.empty())
      for (auto& name : classes_) {
        m.channels.push_back("p_" + name);
        json::Value n;
        n.set("method", "none");
        norms.push_back(n);
      }
    m.normalization = json::Value(norms);
    m.tool = "dlk-infer " DLK_VERSION;
    std::vector<uint8_t> lab(s.labels.size());
    if (labels) {
      m.label_counts.assign(classes_.size(), 0);
      for (size_t i = 0; i < lab.size(); ++i) {
        lab[i] = uint8_t(s.labels[i]);
        ++m.label_counts[s.labels[i]];
      }
    }
    ShardWriter w(out, m);
    const size_t plane = m.slice_pixels();
    std::vector<float> image(plane * s.probabilities.size());
    std::vector<uint8_t> label(plane);
    for (int64_t z = 0; z < m.n_slices; ++z) {
      for (size_t k = 0; k < s.probabilities.size(); ++k)
        extract_slice(s.probabilities[k].data(), c.geometry, axis_, z, &image[k * plane]);
      if (labels) extract_slice(lab.data(), c.geometry, axis_, z, label.data());
      w.add(image.empty() ? nullptr : image.data(), labels ? label.data() : nullptr);
    }
    w.finish();
  }

  const InferRun& run_;
  std::vector<std::string> classes_;
  int axis_;
  std::unique_ptr<OutputFile> stream_;
  bool made_ = false; // the output directories
};

} // namespace

json::Value InferStats::to_json(const InferRun& r) const {
  json::Value v;
  v.set("cases", cases);
  v.set("slices", slices);
  v.set("seconds", seconds);
  v.set("slices_per_s", seconds > 0 ? double(slices) / seconds : 0.0);
  v.set("segment_seconds", segment_seconds);
  json::Value s;
  for (auto [name, t] : {std::pair<const char*, double>{"read", stages.read}, {"preprocess", stages.preprocess}, {"network", stages.network},
                         {"postprocess", stages.postprocess}, {"write", stages.write}})
    s.set(name, t);
  v.set("stage_seconds", s);
  // Of the time outside the network, how much ran while another stage did (0 when nothing overlapped).
  const double others = stages.sum() - stages.network, exposed = std::max(0.0, seconds - stages.network);
  v.set("hidden_seconds", std::max(0.0, others - exposed));
  v.set("network_slices_per_s", network_slices_per_s());
  v.set("end_to_end_share", stages.network > 0 ? stages.network / seconds : 0.0);
  // The share of the run's wall time in which the network's device (the GPU) did not compute.
  v.set("network_busy_seconds", network_busy);
  v.set("network_idle_share", seconds > 0 ? std::clamp(1.0 - network_busy / seconds, 0.0, 1.0) : 0.0);
  v.set("prefetch", r.options.prefetch);
  v.set("device", r.options.device);
  v.set("precision", r.options.device.rfind("cuda", 0) == 0 || uses_cpu_bf16(r.options) ? r.options.precision : std::string("fp32"));
  v.set("batch", r.options.batch);
  v.set("resize", r.options.resize);
  v.set("tta", r.options.tta);
  v.set("checkpoint", r.checkpoints.size() == 1 ? json::Value(r.checkpoints[0]) : json::Value(r.checkpoints));
  return v;
}


InferStats run_infer(const InferRun& r, const std::function<void(const std::string&)>& log) {
  const auto t0 = Clock::now();
  if (r.output.empty()) throw UsageError("no output: give -o DIR (or -o - for a shard stream)");
  if (r.parts < 1 || r.part < 1 || r.part > r.parts) throw UsageError(fmt::format("--part {}/{}: K must be within 1..N", r.part, r.parts));
  if (r.images.empty() == r.input.empty()) throw UsageError("give either --image (one case) or an input (volumes, a dataset or -)");
  if (!r.case_id.empty())
    if (std::string why = case_id_problem(r.case_id); !why.empty()) throw UsageError("--case: " + why);
  InferOptions compute = r.options; // probability maps need the probabilities
  compute.probabilities = r.options.probabilities || !r.options.probability_maps.empty();
  Segmenter seg(r.checkpoints, compute);
  if (const std::string held = checkpoint_network(seg.checkpoint()); !held.empty())
    log(fmt::format("{}: its model is the {} of a semi-supervised run (dlk-train --semi); segmenting with the {}", r.checkpoints[0], held,
                    r.options.network.empty() ? held : r.options.network));
  const std::optional<std::vector<int>> keep = keep_largest_classes(r.options.keep_largest, seg.classes());
  Writer writer(r, seg.classes(), seg.axis());
  InferStats st;
  CaseSource source(r, seg, log);
  auto next = [&source] { return source.next(); };
  auto loading = std::async(std::launch::async, next);
  std::future<void> writing;
  double post = 0, write = 0; // on the writing thread, read after it is joined
  while (true) {
    std::optional<InferCase> c = loading.get();
    if (!c) break;
    st.stages.read += c->spent.read;
    st.stages.preprocess += c->spent.preprocess;
    loading = std::async(std::launch::async, next);
    const auto ts = Clock::now();
    Segmentation s = seg.segment(*c);
    st.segment_seconds += std::chrono::duration<double>(Clock::now() - ts).count();
    if (writing.valid()) writing.get();
    writing = std::async(std::launch::async, [&writer, &keep, c = std::move(*c), s = std::move(s), &log, &post, &write]() mutable {
      const auto t0 = Clock::now();
      int64_t removed = 0;
      if (keep)
        for (int64_t n : keep_largest_components(s.labels, c.geometry.size, *keep)) removed += n;
      const auto t1 = Clock::now();
      writer.write(c, s);
      post += std::chrono::duration<double>(t1 - t0).count();
      write += std::chrono::duration<double>(Clock::now() - t1).count();
      log(keep ? fmt::format("{}: {} voxels segmented, {} outside the largest components removed", c.id, c.geometry.voxels(), removed)
               : fmt::format("{}: {} voxels segmented", c.id, c.geometry.voxels()));
    });
    ++st.cases;
  }
  if (writing.valid()) writing.get();
  const auto tf = Clock::now();
  writer.finish();
  write += std::chrono::duration<double>(Clock::now() - tf).count();
  st.stages.preprocess += seg.seconds().preprocess;
  st.stages.network = seg.seconds().network;
  st.stages.postprocess += seg.seconds().postprocess + post;
  st.stages.write = write;
  st.slices = seg.slices_done();
  st.network_busy = seg.device_busy_seconds();
  st.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return st;
}

} // namespace dlk
