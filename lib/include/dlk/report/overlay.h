// Overlays: a slice with the reference's and the prediction's class contours.
#pragma once
#include "dlk/io/volume.h"
#include "dlk/report/slice_view.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace dlk {

// A PNG of one slice at the image's resolution: the image in grey with the reference's class
// contours on the left and the prediction's on the right, one colour per class, titled, and a
// legend naming the classes present (by `classes`, index = label; "class N" beyond it).
// image/truth/pred share one grid (x fastest). The slice is turned as `view` shows it (from the
// grid's direction), with orientation letters at its edges and a caption naming the convention.
std::string overlay_png(const std::vector<float>& image, const std::vector<uint16_t>& truth, const std::vector<uint16_t>& pred,
                        const Geometry& grid, int axis, int64_t slice, const std::vector<std::string>& classes = {},
                        ViewConvention view = ViewConvention::Radiological);
// The slice along `axis` with the most voxels of class `cls` in `labels` (of any class when cls
// < 0; a grid of `size`, x fastest), the first of equals; -1 when no slice has one.
int64_t busiest_slice(const std::vector<uint16_t>& labels, const std::array<int64_t, 3>& size, int axis, int cls = -1);

} // namespace dlk
