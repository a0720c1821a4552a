#include "dlk/metrics/connected_components.h"
#include "dlk/core/error.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <string>

namespace dlk {

std::vector<int64_t> keep_largest_components(std::vector<uint16_t>& labels, const std::array<int64_t, 3>& size,
                                             const std::vector<int>& classes, bool full) {
  const int64_t nx = size[0], ny = size[1], nz = size[2], n = nx * ny * nz;
  if (n != int64_t(labels.size())) throw Error("keep_largest_components: the labels do not fill the grid");
  int max_label = 0;
  for (uint16_t v : labels) max_label = std::max<int>(max_label, v);
  std::vector<char> wanted(size_t(max_label) + 1, classes.empty());
  for (int c : classes)
    if (c >= 1 && c <= max_label) wanted[size_t(c)] = 1;
  wanted[0] = 0;
  // Label every component of a wanted class with a breadth-first search: comp[i] = its index.
  std::vector<int32_t> comp(size_t(n), -1);
  std::vector<int64_t> comp_size, best(size_t(max_label) + 1, -1); // best: the largest component per class
  std::vector<int64_t> queue;
  for (int64_t start = 0; start < n; ++start) {
    const uint16_t c = labels[size_t(start)];
    if (!wanted[c] || comp[size_t(start)] >= 0) continue;
    const int32_t id = int32_t(comp_size.size());
    queue.assign(1, start);
    comp[size_t(start)] = id;
    for (size_t head = 0; head < queue.size(); ++head) {
      const int64_t i = queue[head], x = i % nx, y = i / nx % ny, z = i / (nx * ny);
      for (int dz = -1; dz <= 1; ++dz)
        for (int dy = -1; dy <= 1; ++dy)
          for (int dx = -1; dx <= 1; ++dx) {
            const int steps = (dx != 0) + (dy != 0) + (dz != 0);
            if (steps == 0 || (!full && steps > 1)) continue;
            const int64_t X = x + dx, Y = y + dy, Z = z + dz;
            if (X < 0 || Y < 0 || Z < 0 || X >= nx || Y >= ny || Z >= nz) continue;
            const int64_t j = (Z * ny + Y) * nx + X;
            if (labels[size_t(j)] != c || comp[size_t(j)] >= 0) continue;
            comp[size_t(j)] = id;
            queue.push_back(j);
          }
    }
    comp_size.push_back(int64_t(queue.size()));
    if (best[c] < 0 || comp_size[size_t(best[c])] < comp_size.back()) best[c] = id;
  }
  std::vector<int64_t> removed(size_t(max_label) + 1, 0);
  for (int64_t i = 0; i < n; ++i) {
    const int32_t id = comp[size_t(i)];
    if (id < 0) continue;
    const uint16_t c = labels[size_t(i)];
    if (id != best[c]) {
      labels[size_t(i)] = 0;
      ++removed[c];
    }
  }
  return removed;
}

std::optional<std::vector<int>> keep_largest_classes(const std::optional<std::vector<std::string>>& chosen,
                                                     const std::vector<std::string>& classes) {
  if (!chosen) return std::nullopt;
  std::vector<int> out; // empty: all
  for (const auto& name : *chosen) {
    auto it = std::find(classes.begin(), classes.end(), name);
    int v = it != classes.end() ? int(it - classes.begin()) : -1;
    if (v < 0 && name.find_first_not_of("0123456789") == std::string::npos && name.size() < 6) v = std::stoi(name);
    if (v < 1 || v >= int(classes.size()))
      throw UsageError(fmt::format("--keep-largest: '{}' is not a class of the checkpoint (1..{} or {})", name, classes.size() - 1,
                                   fmt::join(classes.begin() + 1, classes.end(), ", ")));
    out.push_back(v);
  }
  return out;
}

} // namespace dlk
