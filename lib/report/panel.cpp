#include "dlk/report/panel.h"
#include "dlk/core/error.h"
#include "dlk/io/orientation.h"
#include "dlk/io/slices.h"
#include "dlk/metrics/label_volumes.h"
#include "dlk/report/overlay.h"
#include "dlk/report/png_encoder.h"
#include "dlk/report/text_raster.h"
#include "dlk/shard/dataset.h"
#include "class_legend.h"
#include "grey_levels.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <memory>

namespace dlk {

namespace {

// One row: the slice's image (grey, 0..255) and the label slices of the reference and models.
struct Row {
  std::string title;
  int64_t h = 0, w = 0;
  std::vector<uint8_t> grey;
  std::vector<std::vector<uint16_t>> labels; // reference, then each model
  SliceView view;                            // how the slices are shown: grey and labels already turned
};

std::vector<Row> load_rows(const PanelRequest& r, const Dataset& d, int cls) {
  auto truth = LabelVolumes::open(r.dataset, r.split, {});
  std::vector<std::unique_ptr<LabelVolumes>> preds;
  for (auto& p : r.predictions) {
    preds.push_back(LabelVolumes::open(p, "all", {}));
    if (!preds.back()->random_access()) fail(p, "a panel needs a file, directory or dataset of predictions (not a pipe)");
  }
  std::vector<std::string> ids = r.cases.empty() ? truth->case_ids() : r.cases;
  std::vector<Row> rows;
  for (const auto& id : ids) {
    if (!r.cases.empty() && !d.find(id)) fail(r.dataset, fmt::format("no case {}", id));
    auto sf = d.open_shard(r.dataset, *d.find(id));
    const ShardMeta& m = sf->meta();
    // Label volumes come on the stored grid; the shard's slices, and so the panel's, are cut from
    // its slicing grid (reoriented to LPS, when it was).
    auto on_grid = [&](LabelVolume v, const std::string& src) {
      if (std::string why = geometry_mismatch(m.geometry, v.geometry); !why.empty())
        fail(src, fmt::format("case {} is not on the reference's grid: {}", id, why));
      if (m.orientation && !m.orientation->identity()) v.labels = reorient(v.labels, v.geometry, *m.orientation);
      v.geometry = m.grid();
      return v;
    };
    const LabelVolume t = on_grid(truth->load(id), r.dataset);
    const int64_t s = busiest_slice(t.labels, t.geometry.size, d.axis, cls);
    if (s < 0) {
      if (!r.cases.empty()) fail(r.dataset, fmt::format("case {} has no {} voxels", id, cls < 0 ? "labelled" : r.only_class));
      continue; // automatic rows: cases that show the class
    }
    Row row;
    row.title = fmt::format("{}, slice {}", id, s);
    int64_t n;
    slice_shape(t.geometry, d.axis, n, row.h, row.w);
    Slice sl = sf->read_slice(s, true, false);
    row.grey = grey_levels(std::vector<float>(sl.image.begin(), sl.image.begin() + row.h * row.w)); // channel 0
    auto cut = [&](const LabelVolume& v) {
      std::vector<uint16_t> out(size_t(row.h * row.w));
      extract_slice(v.labels.data(), v.geometry, d.axis, s, out.data());
      return out;
    };
    row.labels.push_back(cut(t));
    for (size_t k = 0; k < preds.size(); ++k) row.labels.push_back(cut(on_grid(preds[k]->load(id), r.predictions[k])));
    // Which way is which: a shard records its source's direction (geometry.direction) and, when
    // dlk-prep reoriented it, the permutation and flips to LPS, so the slicing grid m.grid() has
    // a direction in both cases (as stored: the source's own). A direction that is no rotation
    // (a hand-made shard) gets no letters, and the caption says so.
    row.view = slice_view(m.grid().direction, d.axis, r.view);
    auto shown = [&](const auto& px) {
      int64_t h = row.h, w = row.w;
      return show_slice(px, h, w, row.view);
    };
    row.grey = shown(row.grey);
    for (auto& l : row.labels) l = shown(l);
    if (row.view.transpose) std::swap(row.h, row.w);
    rows.push_back(std::move(row));
    if (r.cases.empty() && int(rows.size()) == r.rows) break;
  }
  if (rows.empty()) fail(r.dataset, fmt::format("no {} case shows {}", r.split, cls < 0 ? "a label" : r.only_class));
  return rows;
}

} // namespace

std::string panel_png(const PanelRequest& r) {
  if (r.names.size() != r.predictions.size()) throw UsageError("panel: one --name per --pred");
  const Dataset d = Dataset::load(r.dataset);
  int cls = -1;
  if (!r.only_class.empty()) {
    auto it = std::find(d.classes.begin(), d.classes.end(), r.only_class);
    if (it == d.classes.end() || it == d.classes.begin())
      throw UsageError(fmt::format("--class {}: the dataset's classes are {}", r.only_class, fmt::join(d.classes, ", ")));
    cls = int(it - d.classes.begin());
  }
  const std::vector<Row> rows = load_rows(r, d, cls);
  const bool text = TextRaster::available();
  const TextRaster font(16);
  std::vector<std::string> titles{"image", "reference"};
  titles.insert(titles.end(), r.names.begin(), r.names.end());
  int64_t tw = 0, th = 0, label_w = 0;
  for (auto& row : rows) tw = std::max(tw, row.w), th = std::max(th, row.h), label_w = std::max<int64_t>(label_w, font.width(row.title));
  for (auto& t : titles) tw = std::max<int64_t>(tw, font.width(t) + 8);
  const int64_t gap = 4, head = text ? 28 : 0, left = text ? label_w + 12 : 0, cols = int64_t(titles.size());
  const bool all_known = std::all_of(rows.begin(), rows.end(), [](const Row& row) { return row.view.known; });
  const int64_t caption = text ? (all_known ? 20 : 38) : 0; // the convention; a line more for rows without letters
  // The legend: a swatch and the name of each class shown, in rows under the panel.
  std::vector<std::pair<int, std::string>> shown;
  for (int c = 1; c < int(d.classes.size()); ++c)
    if (cls < 0 || c == cls) shown.emplace_back(c, d.classes[size_t(c)]);
  const int64_t W = left + cols * (tw + gap);
  const ClassLegend legend = layout_legend(shown, font, W - left);
  const int64_t body = head + int64_t(rows.size()) * (th + gap), H = body + caption + legend.height;
  std::vector<uint8_t> rgb(size_t(W * H * 3), 255);
  for (int64_t c = 0; c < cols; ++c)
    font.draw(rgb, W, H, left + c * (tw + gap) + (tw - font.width(titles[size_t(c)])) / 2, 4, titles[size_t(c)], {0, 0, 0});
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& row = rows[i];
    const int64_t y0 = head + int64_t(i) * (th + gap);
    font.draw(rgb, W, H, 4, y0 + th / 2 - 8, row.title, {0, 0, 0});
    const TextRaster letters(int(std::clamp<int64_t>(std::min(row.h, row.w) / 8, 10, 14)));
    for (int64_t c = 0; c < cols; ++c) {
      const int64_t x0 = left + c * (tw + gap);
      for (int64_t y = 0; y < row.h; ++y)
        for (int64_t x = 0; x < row.w; ++x) {
          const size_t k = size_t(y * row.w + x);
          uint8_t* p = &rgb[size_t(((y0 + y) * W + x0 + x) * 3)];
          p[0] = p[1] = p[2] = row.grey[k];
          const int lab = c == 0 ? 0 : row.labels[size_t(c - 1)][k];
          if (lab == 0 || (cls >= 0 && lab != cls)) continue;
          const Rgb col = class_colour(lab); // half the class colour over the image
          for (int j = 0; j < 3; ++j) p[j] = uint8_t((p[j] + col[size_t(j)] + 1) / 2);
        }
      draw_edge_letters(rgb, W, H, x0, y0, row.w, row.h, row.view, letters);
    }
  }
  const TextRaster small(13);
  small.draw(rgb, W, H, left, body + 2, view_caption(r.view, true, small, W - left), {0, 0, 0});
  if (!all_known) small.draw(rgb, W, H, left, body + 20, "rows without letters: orientation unknown, shown as stored", {0, 0, 0});
  draw_legend(rgb, W, H, left, H - legend.height, legend, font);
  return encode_png(rgb, W, H);
}

} // namespace dlk
