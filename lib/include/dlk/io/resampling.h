// Slices resampled to another in-plane spacing (dlk-prep --spacing; dlk-train and dlk-infer do
// it): the limits that keep a spacing read from a header, a dataset or a checkpoint from sizing
// an allocation (dlk-shard(5), "Limits"; README, "Untrusted input").
#pragma once
#include <array>
#include <cstdint>
#include <string>

namespace dlk {

// A target spacing (mm) lies within [kMinTargetSpacing, kMaxTargetSpacing] on each axis.
constexpr double kMinTargetSpacing = 0.01, kMaxTargetSpacing = 100;
// A resampled slice has at most this many rows and at most this many columns.
constexpr int64_t kMaxResampledSide = 4096;

// "" when x (mm) may be a target spacing, else why not.
std::string target_spacing_problem(double x);

// Rows and columns of a slice of `rows` x `cols` pixels whose columns and rows are `from` mm
// apart (slice_spacing's order: x then y) once resampled to `to` (same order): each rounded, at
// least 1. A spacing that is not a positive finite number, or a size beyond kMaxResampledSide,
// is a dlk::Error that says which (the caller names the file).
std::array<int64_t, 2> resampled_size(int64_t rows, int64_t cols, const std::array<double, 2>& from,
                                      const std::array<double, 2>& to);

} // namespace dlk
