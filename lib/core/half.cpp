#include "dlk/core/half.h"

#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#include <cpuid.h>
#endif

namespace dlk {

uint16_t float_to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  x &= 0x7FFFFFFFu;
  if (x >= 0x7F800000u) // Inf or NaN (keep a quiet NaN)
    return uint16_t(sign | 0x7C00u | (x > 0x7F800000u ? 0x200u : 0u));
  if (x >= 0x477FF000u) // rounds to >= 65520: overflow to Inf
    return uint16_t(sign | 0x7C00u);
  if (x < 0x38800000u) { // below the smallest normal half: subnormal or zero
    if (x < 0x33000000u) return uint16_t(sign); // < 2^-25 rounds to 0
    const uint32_t e = x >> 23;
    const uint32_t m = (x & 0x7FFFFFu) | 0x800000u;
    const uint32_t shift = 126 - e; // 14..24
    uint32_t r = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (r & 1))) ++r;
    return uint16_t(sign | r);
  }
  // Normal: rebias exponent, round mantissa 23 -> 10 bits to nearest even.
  uint32_t r = ((x - 0x38000000u) >> 13);
  const uint32_t rem = x & 0x1FFFu;
  if (rem > 0x1000u || (rem == 0x1000u && (r & 1))) ++r; // may carry into exponent: correct
  return uint16_t(sign | r);
}

float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  uint32_t e = (h >> 10) & 0x1Fu;
  uint32_t m = h & 0x3FFu;
  uint32_t x;
  if (e == 0x1F) x = sign | 0x7F800000u | (m << 13);
  else if (e != 0) x = sign | ((e + 112) << 23) | (m << 13);
  else if (m == 0) x = sign;
  else { // subnormal: normalise
    e = 113;
    while (!(m & 0x400u)) { m <<= 1; --e; }
    x = sign | (e << 23) | ((m & 0x3FFu) << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

#if defined(__x86_64__) && defined(__GNUC__)
// F16C converts 8 values per instruction with the same rounding (to nearest even) and the same
// NaN/Inf/subnormal results as the scalar code; used when the CPU has it (checked once).
__attribute__((target("f16c,avx"))) static void to_halves_f16c(const float* in, uint16_t* out, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; ++i) out[i] = float_to_half(in[i]);
}
__attribute__((target("f16c,avx"))) static void to_floats_f16c(const uint16_t* in, float* out, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i))));
  for (; i < n; ++i) out[i] = half_to_float(in[i]);
}
static bool have_f16c() {
  // F16C from CPUID itself: clang before 16 has no "f16c" for __builtin_cpu_supports (the
  // fuzzing build did not compile); "avx" there also checks that the OS saves YMM state.
  static const bool yes = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    return __builtin_cpu_supports("avx") && __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C) != 0;
  }();
  return yes;
}
#endif

bool half_simd_available() {
#if defined(__x86_64__) && defined(__GNUC__)
  return have_f16c();
#else
  return false;
#endif
}

void floats_to_halves(const float* in, uint16_t* out, size_t n, bool allow_simd) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (allow_simd && have_f16c()) return to_halves_f16c(in, out, n);
#endif
  for (size_t i = 0; i < n; ++i) out[i] = float_to_half(in[i]);
}
void halves_to_floats(const uint16_t* in, float* out, size_t n, bool allow_simd) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (allow_simd && have_f16c()) return to_floats_f16c(in, out, n);
#endif
  for (size_t i = 0; i < n; ++i) out[i] = half_to_float(in[i]);
}

} // namespace dlk
