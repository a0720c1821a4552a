// The in-plane spacing training slices are resampled to (dlk-prep --spacing).
#include "dlk/core/error.h"
#include "dlk/io/resampling.h"
#include "dlk/io/slices.h"
#include "dlk/metrics/metrics.h"
#include "trainer_parts.h"

#include <fmt/format.h>

namespace dlk {

std::vector<double> target_spacing(const Dataset& d, const std::vector<std::shared_ptr<ShardFile>>& train) {
  if (d.spacing.is_null()) return {};
  if (d.spacing.is_array()) return {d.spacing.as_array()[0].as_number(), d.spacing.as_array()[1].as_number()};
  // "auto": the median column and row spacing of the training cases (numpy's, which nnU-Net takes).
  std::vector<double> x, y;
  for (auto& f : train) {
    const auto s = slice_spacing(f->meta().grid(), f->meta().axis);
    x.push_back(s[0]);
    y.push_back(s[1]);
  }
  if (x.empty()) throw Error("spacing auto: no training case to take the median of");
  const std::vector<double> median{percentile_linear(x, 50), percentile_linear(y, 50)};
  for (double m : median)
    if (std::string why = target_spacing_problem(m); !why.empty()) throw Error("spacing auto: the training cases' median " + why);
  return median;
}

void check_resampled_sizes(const std::vector<std::shared_ptr<ShardFile>>& shards, const std::vector<double>& to) {
  if (to.size() != 2) return;
  for (auto& f : shards) {
    const ShardMeta& m = f->meta();
    try {
      resampled_size(m.height, m.width, slice_spacing(m.grid(), m.axis), {{to[0], to[1]}});
    } catch (const Error& e) {
      fail(f->path(), fmt::format("case {}: {}", m.case_id, e.what()));
    }
  }
}

} // namespace dlk
