/* What this CPU and OS can run, from cpu_features. */
#include "dispatch.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuinfo_x86.h>
#elif defined(__aarch64__)
#include <cpuinfo_aarch64.h>
#endif

/* cpu_features reports AVX and AVX-512 only where XCR0 says the OS saves their registers. */
fr_cpu fr_cpu_detect(void)
{
    fr_cpu cpu = {0};
#if defined(__x86_64__) || defined(__i386__)
    const X86Features f = GetX86Info().features;
    cpu.sse2 = f.sse2;
    cpu.avx2 = f.avx2;
    cpu.fma = f.fma3;
    cpu.avx512f = f.avx512f;
    cpu.avx512bw = f.avx512bw;
    cpu.avx512dq = f.avx512dq;
    cpu.avx512vl = f.avx512vl;
#elif defined(__aarch64__)
    cpu.neon = GetAarch64Info().features.asimd;
#endif
    return cpu;
}
