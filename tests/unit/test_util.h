// Helpers shared by the unit tests: temporary directories and small synthetic shards.
#pragma once
#include "dlk/core/output_file.h"
#include "dlk/core/whole_file.h"
#include "dlk/io/slices.h"
#include "dlk/shard/dataset.h"
#include "dlk/shard/shard_meta.h"
#include "dlk/shard/shard_writer.h"

#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace dlk::test {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "dlk-test-XXXXXX").string();
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

inline std::string read_bytes(const std::string& path) { return read_text_file(path); }
inline void write_bytes(const std::string& path, const std::string& bytes) {
  OutputFile f(path);
  f.write(bytes);
  f.commit();
}

// A shard's content kept beside it, to compare what comes back.
struct SyntheticCase {
  ShardMeta meta;
  std::vector<std::vector<float>> images;   // per slice, C*H*W
  std::vector<std::vector<uint8_t>> labels; // per slice, H*W
};

inline SyntheticCase make_case(const std::string& id, int64_t channels, Geometry g, int axis, bool labelled,
                               ImageDType dtype, bool shuffle, unsigned seed) {
  SyntheticCase c;
  ShardMeta& m = c.meta;
  m.case_id = id;
  m.split = "train";
  for (int64_t k = 0; k < channels; ++k) {
    m.channels.push_back("ch" + std::to_string(k));
    m.image_sources.push_back("/data/" + id + "_" + std::to_string(k) + ".nii.gz");
  }
  m.label_source = labelled ? "/data/" + id + "_seg.nii.gz" : "";
  m.geometry = g;
  m.source_pixel_type = "int16";
  m.axis = axis;
  slice_shape(g, axis, m.n_slices, m.height, m.width);
  m.dtype = dtype;
  m.byte_shuffle = shuffle;
  m.has_label = labelled;
  json::Array norms;
  for (int64_t k = 0; k < channels; ++k) {
    json::Value n;
    n.set("method", "zscore");
    n.set("mean", 12.5 + double(k));
    n.set("std", 3.25);
    norms.push_back(n);
  }
  m.normalization = json::Value(norms);
  m.classes = {"background", "a", "b"};
  m.tool = "dlk-prep test";
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.f, 2.f);
  std::uniform_int_distribution<int> ud(0, 2);
  if (labelled) m.label_counts.assign(3, 0);
  for (int64_t s = 0; s < m.n_slices; ++s) {
    std::vector<float> img(size_t(channels * m.height * m.width));
    for (auto& v : img) v = nd(rng);
    c.images.push_back(img);
    if (labelled) {
      std::vector<uint8_t> lab(size_t(m.height * m.width));
      for (auto& v : lab) {
        v = uint8_t(ud(rng));
        ++m.label_counts[v];
      }
      c.labels.push_back(lab);
    }
  }
  return c;
}

inline void write_case(const SyntheticCase& c, OutputFile& out, int level = 3) {
  ShardWriter w(out, c.meta, level);
  for (size_t s = 0; s < c.images.size(); ++s)
    w.add(c.images[s].data(), c.meta.has_label ? c.labels[s].data() : nullptr);
  w.finish();
}

inline std::string write_case_file(const SyntheticCase& c, const std::string& path) {
  OutputFile out(path);
  write_case(c, out);
  out.commit();
  return path;
}

// A dataset directory of one labelled training case of 32x32 slices (`slices` of them).
inline void write_one_case_dataset(const std::filesystem::path& dir, const std::string& name, int64_t slices = 6) {
  Geometry g;
  g.size = {32, 32, slices};
  auto c = make_case("c1", 1, g, 2, true, ImageDType::Float32, true, 5);
  write_case_file(c, (dir / "c1.dlks").string());
  Dataset d;
  d.name = name;
  d.channels = {"ch0"};
  d.classes = c.meta.classes;
  d.normalization = json::Value::parse(R"({"method":"zscore"})");
  d.dtype = "float32";
  DatasetCase dc;
  dc.id = "c1";
  dc.split = "train";
  dc.shard = "c1.dlks";
  dc.slices = c.meta.n_slices;
  dc.has_label = true;
  dc.label_counts = c.meta.label_counts;
  d.put(dc, false);
  d.save(dir.string());
}

// A dataset (not on disk) named synapse: one CT channel, classes background and aorta, the cases
// `ids` with 10 labelled slices each (90 + 10 voxels), case0005 in train and the others in test.
inline Dataset sample_dataset(const std::vector<std::string>& ids = {"case0005", "case0001", "case0003"}) {
  Dataset d;
  d.name = "synapse";
  d.channels = {"CT"};
  d.classes = {"background", "aorta"};
  d.normalization = json::Value::parse(R"({"method":"window","window":[-125,275]})");
  d.label_map = json::Value::parse(R"({"8":1,"*":0})");
  for (const auto& id : ids) {
    DatasetCase c;
    c.id = id;
    c.split = id == "case0005" ? "train" : "test";
    c.shard = c.id + ".dlks";
    c.slices = 10;
    c.has_label = true;
    c.label_counts = {90, 10};
    d.put(c, false);
  }
  return d;
}

} // namespace dlk::test
