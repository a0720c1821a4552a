#include "dlk/metrics/label_volumes.h"
#include "dlk/core/error.h"
#include "dlk/core/input_stream.h"
#include "dlk/core/temporary_files.h"
#include "dlk/io/slices.h"
#include "dlk/shard/dataset.h"
#include "dlk/shard/shard_meta.h"
#include "dlk/shard/shard_reader.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>

namespace fs = std::filesystem;

namespace dlk {

namespace {

bool is_volume_name(const fs::path& p) { return strip_volume_extension(p.string()) != p.filename().string(); }

LabelVolume from_file(const std::string& path, const LabelMap& map) {
  Volume v = read_volume(path);
  LabelVolume out;
  out.case_id = strip_volume_extension(path);
  out.source = path;
  out.geometry = v.geometry;
  out.labels.resize(v.voxels.size());
  if (!map.empty()) {
    std::vector<int64_t> counts;
    auto mapped = apply_label_map(v.voxels, map, 0, path, v.geometry.size.data(), counts);
    std::copy(mapped.begin(), mapped.end(), out.labels.begin());
    return out;
  }
  for (size_t i = 0; i < v.voxels.size(); ++i) {
    const float x = v.voxels[i];
    if (!(x >= 0 && x < 65536) || float(int(x)) != x) {
      const auto& s = v.geometry.size;
      fail(path, fmt::format("label value {} at voxel ({}, {}, {}) is not a class id (0..65535)", x, int64_t(i) % s[0],
                             (int64_t(i) / s[0]) % s[1], int64_t(i) / (s[0] * s[1])));
    }
    out.labels[i] = uint16_t(x);
  }
  return out;
}

// A shard's labels as a volume on the grid of the file it was prepared from: the slices
// (numbered by their index) are put on the grid they were cut from, which is then reoriented back.
template <class NextSlice> LabelVolume assemble(const ShardMeta& m, const std::string& source, NextSlice next) {
  if (!m.has_label) fail(source, fmt::format("case {} has no labels", m.case_id));
  LabelVolume out;
  out.case_id = m.case_id;
  out.source = source;
  out.geometry = m.grid();
  out.classes = m.classes;
  out.labels.assign(size_t(m.geometry.voxels()), 0);
  Slice sl;
  while (next(sl)) insert_slice(sl.label.data(), out.geometry, m.axis, sl.index, out.labels.data());
  if (m.orientation && !m.orientation->identity()) out.labels = unreorient(out.labels, m.geometry, *m.orientation);
  out.geometry = m.geometry;
  return out;
}

// Every slice of a shard file in order.
auto slices_of(const ShardFile& f) {
  return [&f, s = int64_t(0)](Slice& sl) mutable {
    if (s == f.meta().n_slices) return false;
    sl = f.read_slice(s++, false, true);
    return true;
  };
}

class FileSet : public LabelVolumes {
public:
  FileSet(std::map<std::string, std::string> files, LabelMap map) : files_(std::move(files)), map_(std::move(map)) {}
  bool random_access() const override { return true; }
  std::vector<std::string> case_ids() const override {
    std::vector<std::string> ids;
    for (auto& kv : files_) ids.push_back(kv.first);
    return ids;
  }
  LabelVolume load(const std::string& id) override { return from_file(files_.at(id), map_); }
  bool next(LabelVolume& out) override {
    if (it_ == files_.size()) return false;
    auto p = std::next(files_.begin(), long(it_++));
    out = from_file(p->second, map_);
    return true;
  }

private:
  std::map<std::string, std::string> files_;
  LabelMap map_;
  size_t it_ = 0;
};

class DatasetSet : public LabelVolumes {
public:
  DatasetSet(const std::string& dir, const std::string& split) : dir_(dir), ds_(Dataset::load(dir)) {
    for (auto* c : ds_.split(split)) cases_.push_back(c->id);
    if (cases_.empty()) fail(dir, fmt::format("no case in the '{}' split", split));
  }
  bool random_access() const override { return true; }
  std::vector<std::string> case_ids() const override { return cases_; }
  LabelVolume load(const std::string& id) override {
    const DatasetCase* c = ds_.find(id);
    if (!c) fail(dir_, fmt::format("no case {}", id));
    const auto shard = ds_.open_shard(dir_, *c);
    return assemble(shard->meta(), shard->path(), slices_of(*shard));
  }
  bool next(LabelVolume& out) override {
    if (it_ == cases_.size()) return false;
    out = load(cases_[it_++]);
    return true;
  }
  std::vector<std::string> classes() const override { return ds_.classes; }

private:
  std::string dir_;
  Dataset ds_;
  std::vector<std::string> cases_;
  size_t it_ = 0;
};

// A file of shards (dlk-infer -o FILE, dlk-prep -o FILE): random access by case id.
class ShardFileSet : public LabelVolumes {
public:
  explicit ShardFileSet(const std::string& path) : path_(path), shards_(ShardFile::open_all(path)) {
    for (auto& f : shards_) {
      if (!f->meta().has_label) fail(path, fmt::format("case {} has no labels", f->meta().case_id));
      if (f->meta().classes != shards_[0]->meta().classes)
        fail(path, fmt::format("case {} names other classes than case {}", f->meta().case_id, shards_[0]->meta().case_id));
    }
  }
  bool random_access() const override { return true; }
  std::vector<std::string> case_ids() const override {
    std::vector<std::string> ids;
    for (auto& f : shards_) ids.push_back(f->meta().case_id);
    return ids;
  }
  LabelVolume load(const std::string& id) override {
    for (auto& f : shards_)
      if (f->meta().case_id == id) return assemble(f->meta(), path_, slices_of(*f));
    fail(path_, fmt::format("no case {}", id));
  }
  bool next(LabelVolume& out) override {
    if (it_ == shards_.size()) return false;
    out = load(shards_[it_++]->meta().case_id);
    return true;
  }
  std::vector<std::string> classes() const override { return shards_[0]->meta().classes; }

private:
  std::string path_;
  std::vector<std::unique_ptr<ShardFile>> shards_;
  size_t it_ = 0;
};

class StreamSet : public LabelVolumes {
public:
  explicit StreamSet(const std::string& path) : in_(path), reader_(in_) {}
  bool random_access() const override { return false; }
  std::vector<std::string> case_ids() const override { return {}; }
  LabelVolume load(const std::string&) override { throw Error("a stream is read in order"); }
  bool next(LabelVolume& out) override {
    if (!reader_.next_shard()) return false;
    out = assemble(reader_.meta(), in_.path(), [this](Slice& sl) { return reader_.next_slice(sl, false, true); });
    return true;
  }

private:
  InputStream in_;
  ShardStreamReader reader_;
};

} // namespace

std::unique_ptr<LabelVolumes> LabelVolumes::open(const std::string& path, const std::string& split, const LabelMap& map) {
  if (path == "-") return std::make_unique<StreamSet>(path);
  if (fs::is_directory(path)) {
    if (Dataset::holds_dlk_dataset(path)) return std::make_unique<DatasetSet>(path, split); // else: volumes (nnU-Net's folders too)
    std::map<std::string, std::string> files;
    for (auto& e : fs::directory_iterator(path)) {
      if (!e.is_regular_file() || !is_volume_name(e.path()) || is_temporary_name(e.path().filename().string())) continue;
      const std::string id = strip_volume_extension(e.path().string());
      if (!files.emplace(id, e.path().string()).second)
        fail(e.path().string(), fmt::format("case {} appears twice in the directory", id));
    }
    if (files.empty()) fail(path, "no label volumes (.nii.gz, .nii, .nrrd, .mha...) and no dataset.json");
    return std::make_unique<FileSet>(std::move(files), map);
  }
  if (!fs::exists(path)) fail(path, "no such file or directory");
  if (is_shard_file(path)) {
    if (fs::is_regular_file(path)) return std::make_unique<ShardFileSet>(path);
    return std::make_unique<StreamSet>(path); // a FIFO, /dev/stdin
  }
  return std::make_unique<FileSet>(std::map<std::string, std::string>{{strip_volume_extension(path), path}}, map);
}

LabelVolume LabelVolumes::load_one(const std::string& path) {
  auto src = LabelVolumes::open(path, "all", {});
  LabelVolume v;
  if (!src->random_access()) {
    if (!src->next(v)) fail(path, "no case");
    return v;
  }
  const auto ids = src->case_ids();
  if (ids.size() != 1) fail(path, fmt::format("holds {} cases; give one volume or shard", ids.size()));
  return src->load(ids[0]);
}

} // namespace dlk
