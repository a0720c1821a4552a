#include "dlk/io/resampling.h"
#include "dlk/core/error.h"

#include <fmt/format.h>

#include <cmath>

namespace dlk {

std::string target_spacing_problem(double x) {
  if (std::isfinite(x) && x >= kMinTargetSpacing && x <= kMaxTargetSpacing) return {};
  return fmt::format("{} mm is not a target spacing ({} to {} mm)", x, kMinTargetSpacing, kMaxTargetSpacing);
}

std::array<int64_t, 2> resampled_size(int64_t rows, int64_t cols, const std::array<double, 2>& from,
                                      const std::array<double, 2>& to) {
  for (double s : {from[0], from[1], to[0], to[1]})
    if (!std::isfinite(s) || !(s > 0)) throw Error(fmt::format("a spacing of {} mm cannot be resampled", s));
  // In doubles first: a ratio of 1e30 must not reach an integer conversion.
  const double r = std::round(double(rows) * from[1] / to[1]), c = std::round(double(cols) * from[0] / to[0]);
  if (r > double(kMaxResampledSide) || c > double(kMaxResampledSide))
    throw Error(fmt::format("slices of {}x{} pixels {:g}x{:g} mm apart resampled to {:g}x{:g} mm would be {:g}x{:g} "
                            "pixels ({} at most per side)",
                            rows, cols, from[0], from[1], to[0], to[1], r, c, kMaxResampledSide));
  return {{std::max<int64_t>(1, int64_t(r)), std::max<int64_t>(1, int64_t(c))}};
}

} // namespace dlk
