#include "dlk/report/axis_ticks.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace dlk {

std::string AxisTicks::label(double v) const {
  if (std::fabs(v) < step * 1e-9) v = 0; // no "-0.00"
  return fmt::format("{:.{}f}", v, decimals);
}

AxisTicks nice_ticks(double lo, double hi, int max_ticks, bool integers) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (hi < lo) std::swap(lo, hi);
  if (hi == lo) hi = lo + (integers ? 1 : std::max(1.0, std::fabs(lo)) * 0.1);
  max_ticks = std::max(max_ticks, 2);
  const double raw = (hi - lo) / (max_ticks - 1);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  AxisTicks t;
  double mantissa = 10;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (integers && m * mag < 1) continue;
    if (integers && m == 2.5 && mag < 10) continue; // 2.5 is no whole number
    if (m * mag >= raw * (1 - 1e-9)) {
      mantissa = m;
      break;
    }
  }
  t.step = std::max(mantissa * mag, integers ? 1.0 : 0.0);
  t.lo = std::floor(lo / t.step + 1e-9) * t.step;
  t.hi = std::ceil(hi / t.step - 1e-9) * t.step;
  const int n = int(std::lround((t.hi - t.lo) / t.step));
  for (int i = 0; i <= n; ++i) t.values.push_back(t.lo + i * t.step);
  // Decimals that show the step exactly: 0.05 -> 2, 0.25 -> 2, 2.5 -> 1, 20 -> 0.
  t.decimals = 0;
  while (t.decimals < 12 && std::fabs(t.step * std::pow(10.0, t.decimals) - std::round(t.step * std::pow(10.0, t.decimals))) > 1e-6)
    ++t.decimals;
  return t;
}

} // namespace dlk
