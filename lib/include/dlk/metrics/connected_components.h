// Connected components of a label volume, and nnU-Net's post-processing on them: keep each
// class's largest component, and nothing else of it.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dlk {

// For each class c in `classes` (label values >= 1; empty: every class present), keeps only the
// largest 3-D connected component of the voxels labelled c (face-connected, 6 neighbours; with
// `full_connectivity` 26) and makes the rest background. Of components of equal size the first
// in memory order stays. `labels` is a size[0] x size[1] x size[2] grid, x fastest. Returns the
// voxels removed, indexed by label value.
std::vector<int64_t> keep_largest_components(std::vector<uint16_t>& labels, const std::array<int64_t, 3>& size,
                                             const std::vector<int>& classes, bool full_connectivity = false);

// The classes whose largest component is kept (--keep-largest), resolved against a model's or
// dataset's class names (index = label value): nothing when `chosen` is empty, every class (an
// empty list) for {} ("all"), else the label values of the names or numbers chosen; one not
// there is a UsageError naming the option.
std::optional<std::vector<int>> keep_largest_classes(const std::optional<std::vector<std::string>>& chosen,
                                                     const std::vector<std::string>& classes);

} // namespace dlk
