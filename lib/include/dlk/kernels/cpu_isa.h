// Which vector instructions dlk's CPU kernels use: the widest the CPU has, or a narrower one named
// by the environment variable DLK_CPU_ISA (avx512, avx2 or portable), so that the AVX2 forms can be
// tested and measured on an AVX-512 machine. A name wider than the CPU has is not honoured.
#pragma once
#include <vector>

namespace dlk::kernels {

enum class CpuIsa { portable, avx2, avx512 };

CpuIsa cpu_isa();            // read once
const char* cpu_isa_name(CpuIsa isa);
CpuIsa cpu_isa_available();  // the widest the CPU has, whatever DLK_CPU_ISA says
std::vector<CpuIsa> cpu_isas_available(); // every form the CPU runs, the widest first (tests, benchmarks)

} // namespace dlk::kernels
