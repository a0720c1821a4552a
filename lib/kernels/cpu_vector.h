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

// bf16 <-> fp32 for any width: F the float vector, U the uint32 one, H the uint16 one.
template <class F, class U, class H> DLK_INLINE F bf16_load(const uint16_t* p) {
  H h;
  std::memcpy(&h, p, sizeof h);
  const U u = __builtin_convertvector(h, U) << 16;
  F f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
template <class F, class U, class H> DLK_INLINE void bf16_store(uint16_t* p, F f) {
  U u;
  std::memcpy(&u, &f, sizeof u);
  const U rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  const U r = (u & 0x7fffffffu) > 0x7f800000u ? ((u >> 16) | 0x40u) : rounded;
  const H h = __builtin_convertvector(r, H);
  std::memcpy(p, &h, sizeof h);
}

DLK_INLINE v8 load8(const float* p) { v8 v; std::memcpy(&v, p, sizeof v); return v; }
DLK_INLINE void store8(float* p, v8 v) { std::memcpy(p, &v, sizeof v); }
DLK_INLINE v8 load8(const uint16_t* p) { return bf16_load<v8, u32x8, u16x8>(p); }
DLK_INLINE void store8(uint16_t* p, v8 f) { bf16_store<v8, u32x8, u16x8>(p, f); }

// 16-float vectors: one zmm register inside functions targeted at AVX-512.
typedef float v16 __attribute__((vector_size(64)));
typedef uint32_t u32x16 __attribute__((vector_size(64)));
typedef uint16_t u16x16 __attribute__((vector_size(32)));

DLK_INLINE v16 load16(const float* p) { v16 v; std::memcpy(&v, p, sizeof v); return v; }
DLK_INLINE void store16(float* p, v16 v) { std::memcpy(p, &v, sizeof v); }
DLK_INLINE v16 load16(const uint16_t* p) { return bf16_load<v16, u32x16, u16x16>(p); }
DLK_INLINE void store16(uint16_t* p, v16 f) { bf16_store<v16, u32x16, u16x16>(p, f); }

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
