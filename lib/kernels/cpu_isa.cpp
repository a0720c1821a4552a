#include "dlk/kernels/cpu_isa.h"

#include <cstdlib>
#include <cstring>

namespace dlk::kernels {

CpuIsa cpu_isa_available() {
  static const CpuIsa isa = [] {
    const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
      return CpuIsa::avx512;
    return avx2 ? CpuIsa::avx2 : CpuIsa::portable;
  }();
  return isa;
}

std::vector<CpuIsa> cpu_isas_available() {
  std::vector<CpuIsa> v;
  for (CpuIsa isa : {CpuIsa::avx512, CpuIsa::avx2, CpuIsa::portable})
    if (isa <= cpu_isa_available()) v.push_back(isa);
  return v;
}

CpuIsa cpu_isa() {
  static const CpuIsa isa = [] {
    const CpuIsa best = cpu_isa_available();
    const char* v = std::getenv("DLK_CPU_ISA");
    if (!v || !*v) return best;
    CpuIsa asked = best;
    if (!std::strcmp(v, "avx2")) asked = CpuIsa::avx2;
    else if (!std::strcmp(v, "portable")) asked = CpuIsa::portable;
    return asked < best ? asked : best;
  }();
  return isa;
}

const char* cpu_isa_name(CpuIsa isa) {
  switch (isa) {
  case CpuIsa::avx512: return "avx512";
  case CpuIsa::avx2: return "avx2";
  default: return "portable";
  }
}

} // namespace dlk::kernels
