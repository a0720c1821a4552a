#include "dlk/io/slices.h"

namespace dlk {

void slice_shape(const Geometry& g, int axis, int64_t& n, int64_t& h, int64_t& w) {
  n = g.size[axis];
  switch (axis) {
  case 0: h = g.size[2]; w = g.size[1]; break;
  case 1: h = g.size[2]; w = g.size[0]; break;
  default: h = g.size[1]; w = g.size[0]; break;
  }
}

std::array<double, 2> slice_spacing(const Geometry& g, int axis) {
  switch (axis) {
  case 0: return {{g.spacing[1], g.spacing[2]}};
  case 1: return {{g.spacing[0], g.spacing[2]}};
  default: return {{g.spacing[0], g.spacing[1]}};
  }
}

} // namespace dlk
