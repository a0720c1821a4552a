// 8-float vectors and bf16 conversions shared by dlk's CPU kernels. GCC/Clang vector types: one
// ymm register inside functions targeted at AVX2, two SSE halves elsewhere. bf16 is the top half
// of an fp32; it is rounded to nearest, ties to even, and a NaN stays a (quiet) NaN.
#pragma once
#include <cstdint>
#include <cstring>

#define DLK_INLINE inline __attribute__((always_inline))

namespace dlk::kernels::cpu {

typedef float v8 __attribute__((vector_size(32)));
typedef uint32_t u32x8 __attribute__((vector_size(32)));
typedef uint16_t u16x8 __attribute__((vector_size(16)));

DLK_INLINE v8 load8(const float* p) { v8 v; std::memcpy(&v, p, sizeof v); return v; }
DLK_INLINE void store8(float* p, v8 v) { std::memcpy(p, &v, sizeof v); }
DLK_INLINE v8 load8(const uint16_t* p) {
  u16x8 h;
  std::memcpy(&h, p, sizeof h);
  const u32x8 u = __builtin_convertvector(h, u32x8) << 16;
  v8 f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
DLK_INLINE void store8(uint16_t* p, v8 f) {
  u32x8 u;
  std::memcpy(&u, &f, sizeof u);
  const u32x8 rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  const u32x8 r = (u & 0x7fffffffu) > 0x7f800000u ? ((u >> 16) | 0x40u) : rounded;
  const u16x8 h = __builtin_convertvector(r, u16x8);
  std::memcpy(p, &h, sizeof h);
}

// 16-float vectors: one zmm register inside functions targeted at AVX-512.
typedef float v16 __attribute__((vector_size(64)));
typedef uint32_t u32x16 __attribute__((vector_size(64)));
typedef uint16_t u16x16 __attribute__((vector_size(32)));

DLK_INLINE v16 load16(const float* p) { v16 v; std::memcpy(&v, p, sizeof v); return v; }
DLK_INLINE void store16(float* p, v16 v) { std::memcpy(p, &v, sizeof v); }
DLK_INLINE v16 load16(const uint16_t* p) {
  u16x16 h;
  std::memcpy(&h, p, sizeof h);
  const u32x16 u = __builtin_convertvector(h, u32x16) << 16;
  v16 f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
DLK_INLINE void store16(uint16_t* p, v16 f) {
  u32x16 u;
  std::memcpy(&u, &f, sizeof u);
  const u32x16 rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  const u32x16 r = (u & 0x7fffffffu) > 0x7f800000u ? ((u >> 16) | 0x40u) : rounded;
  const u16x16 h = __builtin_convertvector(r, u16x16);
  std::memcpy(p, &h, sizeof h);
}

// The L-float vector (8 or 16) and its loads and stores, for code written once for both widths.
template <int L> struct Lanes;
template <> struct Lanes<8> {
  using V = v8;
  template <class P> static DLK_INLINE V load(const P* p) { return load8(p); }
  template <class P> static DLK_INLINE void store(P* p, V v) { store8(p, v); }
};
template <> struct Lanes<16> {
  using V = v16;
  template <class P> static DLK_INLINE V load(const P* p) { return load16(p); }
  template <class P> static DLK_INLINE void store(P* p, V v) { store16(p, v); }
};

DLK_INLINE float to_float(float v) { return v; }
DLK_INLINE float to_float(uint16_t v) {
  const uint32_t u = uint32_t(v) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
DLK_INLINE void store1(float* p, float v) { *p = v; }
DLK_INLINE void store1(uint16_t* p, float v) {
  uint32_t u;
  std::memcpy(&u, &v, 4);
  *p = (u & 0x7fffffffu) > 0x7f800000u ? uint16_t((u >> 16) | 0x40u) : uint16_t((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

} // namespace dlk::kernels::cpu
