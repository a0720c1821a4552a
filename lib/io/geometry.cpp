#include "dlk/io/volume.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

namespace dlk {

static bool close(double a, double b, double tol) {
  return std::fabs(a - b) <= tol * std::max({1.0, std::fabs(a), std::fabs(b)});
}

std::string geometry_mismatch(const Geometry& a, const Geometry& b, double tol) {
  if (a.size != b.size)
    return fmt::format("size {} vs {}", fmt::join(a.size, "x"), fmt::join(b.size, "x"));
  for (int i = 0; i < 3; ++i)
    if (!close(a.spacing[i], b.spacing[i], tol))
      return fmt::format("spacing ({}) vs ({})", fmt::join(a.spacing, ", "), fmt::join(b.spacing, ", "));
  for (int i = 0; i < 3; ++i)
    if (!close(a.origin[i], b.origin[i], tol))
      return fmt::format("origin ({}) vs ({})", fmt::join(a.origin, ", "), fmt::join(b.origin, ", "));
  for (int i = 0; i < 9; ++i)
    if (std::fabs(a.direction[i] - b.direction[i]) > tol)
      return fmt::format("direction ({}) vs ({})", fmt::join(a.direction, ", "),
                         fmt::join(b.direction, ", "));
  return {};
}

bool is_orthonormal(const std::array<double, 9>& d, double tol) {
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      double dot = 0; // columns i and j
      for (int k = 0; k < 3; ++k) dot += d[k * 3 + i] * d[k * 3 + j];
      if (std::fabs(dot - (i == j ? 1.0 : 0.0)) > tol) return false;
    }
  return true;
}

std::string strip_volume_extension(const std::string& filename) {
  std::string name = std::filesystem::path(filename).filename().string();
  for (const char* ext : {".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd"}) {
    std::string e(ext);
    if (name.size() > e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0)
      return name.substr(0, name.size() - e.size());
  }
  return name;
}

std::string volume_case_id(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return strip_volume_extension(p);
}

} // namespace dlk
