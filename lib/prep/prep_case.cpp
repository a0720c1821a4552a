#include "dlk/prep/prep_case.h"
#include "dlk/io/resampling.h"
#include "dlk/core/error.h"
#include "dlk/io/slices.h"
#include "dlk/prep/layout.h"
#include "dlk/shard/shard_meta.h"
#include "dlk/shard/shard_writer.h"

#include <fmt/format.h>

#include <cmath>

namespace dlk {

static void check_finite(const Volume& v) {
  const auto& s = v.geometry.size;
  for (size_t i = 0; i < v.voxels.size(); ++i)
    if (!std::isfinite(v.voxels[i])) {
      const int64_t x = int64_t(i) % s[0], y = (int64_t(i) / s[0]) % s[1], z = int64_t(i) / (s[0] * s[1]);
      fail(v.path, fmt::format("voxel ({}, {}, {}) is {}", x, y, z, std::isnan(v.voxels[i]) ? "NaN" : "infinite"));
    }
}

std::vector<Volume> read_channels(const std::vector<std::string>& paths, const std::string& series) {
  std::vector<Volume> images;
  for (auto& path : paths) {
    images.push_back(read_volume(path, series));
    const Volume& v = images.back();
    if (images.size() > 1) {
      std::string d = geometry_mismatch(images[0].geometry, v.geometry);
      if (!d.empty())
        fail(v.path, fmt::format("geometry differs from the first channel '{}': {}", images[0].path, d));
    }
    check_finite(v);
  }
  return images;
}

ShardMeta prep_case(const CaseInput& c, const PrepOptions& opt, OutputFile& out) {
  if (c.images.empty()) throw UsageError(fmt::format("case {}: no image given", c.id));
  if (!opt.channel_names.empty() && opt.channel_names.size() != c.images.size())
    throw UsageError(fmt::format("case {}: {} images but {} channel names", c.id, c.images.size(),
                                 opt.channel_names.size()));
  std::vector<Volume> images = read_channels(c.images, opt.series);
  const Geometry source = images[0].geometry;

  ShardMeta m;
  m.case_id = c.id;
  m.split = c.split;
  m.image_sources = c.images;
  m.label_source = c.label;
  m.channels = opt.channel_names;
  if (m.channels.empty())
    for (size_t k = 0; k < c.images.size(); ++k) m.channels.push_back(fmt::format("channel{}", k));
  m.geometry = source;
  if (opt.canonical) m.orientation = canonical_reorientation(source);
  const Geometry g = m.grid();
  m.source_pixel_type = images[0].pixel_type;
  m.axis = opt.axis;
  slice_shape(g, opt.axis, m.n_slices, m.height, m.width);
  if (opt.resample_to.size() == 2) {
    try {
      resampled_size(m.height, m.width, slice_spacing(g, m.axis), {{opt.resample_to[0], opt.resample_to[1]}});
    } catch (const Error& e) {
      fail(c.images[0], fmt::format("case {}: --spacing {},{}: {}", c.id, opt.resample_to[0], opt.resample_to[1], e.what()));
    }
  }
  m.dtype = opt.dtype;
  m.tool = opt.tool;
  m.label_map = opt.label_map.to_json();

  std::vector<uint8_t> labels;
  if (!c.label.empty()) {
    Volume lab = read_volume(c.label);
    std::string d = geometry_mismatch(source, lab.geometry);
    if (!d.empty()) fail(lab.path, fmt::format("label geometry differs from the image '{}': {}", images[0].path, d));
    const int n_classes = int(opt.classes.size());
    labels = apply_label_map(lab.voxels, opt.label_map, n_classes, lab.path, lab.geometry.size.data(), m.label_counts);
    m.has_label = true;
  }
  m.classes = opt.classes;
  if (m.classes.empty()) { // none given: name them by number, as many as the map or labels need
    size_t k = std::max<size_t>(m.label_counts.size(), opt.label_map.empty() ? 0 : size_t(opt.label_map.max_class() + 1));
    for (size_t i = 0; i < std::max<size_t>(k, 1); ++i) m.classes.push_back(i == 0 ? "background" : fmt::format("class{}", i));
  }
  if (m.has_label) m.label_counts.resize(m.classes.size(), 0);

  json::Array norms;
  for (auto& v : images) norms.push_back(normalize(v.voxels, opt.normalize));
  m.normalization = json::Value(std::move(norms));
  if (m.orientation && !m.orientation->identity()) { // slices are cut from the canonical grid
    for (auto& v : images) v.voxels = reorient(v.voxels, source, *m.orientation);
    if (m.has_label) labels = reorient(labels, source, *m.orientation);
  }

  ShardWriter w(out, m, opt.zstd_level);
  const size_t plane = m.slice_pixels();
  std::vector<float> image(plane * images.size());
  std::vector<uint8_t> label(plane);
  for (int64_t s = 0; s < m.n_slices; ++s) {
    for (size_t k = 0; k < images.size(); ++k) extract_slice(images[k].voxels.data(), g, m.axis, s, &image[k * plane]);
    if (m.has_label) extract_slice(labels.data(), g, m.axis, s, label.data());
    w.add(image.data(), m.has_label ? label.data() : nullptr);
  }
  w.finish();
  return m;
}

} // namespace dlk
