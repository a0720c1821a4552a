// IEEE 754 binary16 <-> binary32, round to nearest even. Shards store image slices as
// float16 by default; this is the only place the bits are touched.
#pragma once
#include <cstddef>
#include <cstdint>

namespace dlk {
uint16_t float_to_half(float f);
float half_to_float(uint16_t h);
// Bulk conversions: F16C on x86-64 CPUs that have it (same results), else the scalar code.
void floats_to_halves(const float* in, uint16_t* out, size_t n, bool allow_simd = true);
void halves_to_floats(const uint16_t* in, float* out, size_t n, bool allow_simd = true);
bool half_simd_available();
} // namespace dlk
