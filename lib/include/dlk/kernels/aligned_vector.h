// A std::vector whose data start on a 64-byte boundary (a cache line, a zmm register). The CPU
// kernels' vector loads then never straddle two cache lines: with malloc's 16-byte alignment
// every 64-byte load did, which halved the depthwise kernel's rate (2-core Xeon, 2026-12-06).
#pragma once
#include <cstddef>
#include <new>
#include <vector>

namespace dlk::kernels {

template <class T> struct CacheAligned {
  using value_type = T;
  static constexpr std::align_val_t alignment{64};
  CacheAligned() = default;
  template <class U> CacheAligned(const CacheAligned<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), alignment)); }
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, alignment); }
  template <class U> bool operator==(const CacheAligned<U>&) const noexcept { return true; }
  template <class U> bool operator!=(const CacheAligned<U>&) const noexcept { return false; }
};

using AlignedFloats = std::vector<float, CacheAligned<float>>;

} // namespace dlk::kernels
