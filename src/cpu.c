/* What this CPU and OS can run, from cpu_features and XCR0. */
#include <stdint.h>

#include <unistd.h>

#include "dispatch.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <cpuinfo_x86.h>
#elif defined(__aarch64__)
#include <cpuinfo_aarch64.h>
#endif

#if defined(__x86_64__) || defined(__i386__)

/* XCR0 state components (Intel SDM vol. 1, 13.1). */
#define FR_XCR0_YMM (UINT64_C(1) << 1 | UINT64_C(1) << 2)                    /* SSE, AVX */
#define FR_XCR0_ZMM (UINT64_C(1) << 5 | UINT64_C(1) << 6 | UINT64_C(1) << 7) /* opmask, ZMM */

/* The state the OS saves, or 0 when it has not enabled XSAVE (XGETBV would then fault). */
static uint64_t fr_xcr0(void)
{
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & bit_OSXSAVE))
        return 0;
    /* Inline asm rather than _xgetbv: this file is built without -mxsave. */
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return (uint64_t)edx << 32 | eax;
}

/*
 * cpu_features already reports AVX and AVX-512 only where XCR0 allows them;
 * os_ymm and os_zmm restate that rule where dispatch (and its tests) can see it.
 */
static fr_cpu fr_cpu_detect_x86(void)
{
    const X86Features f = GetX86Info().features;
    const uint64_t xcr0 = fr_xcr0();
    fr_cpu cpu = {0};
    cpu.sse2 = f.sse2;
    cpu.avx2 = f.avx2;
    cpu.fma = f.fma3;
    cpu.avx512f = f.avx512f;
    cpu.avx512bw = f.avx512bw;
    cpu.avx512dq = f.avx512dq;
    cpu.avx512vl = f.avx512vl;
    cpu.os_ymm = (xcr0 & FR_XCR0_YMM) == FR_XCR0_YMM;
    cpu.os_zmm = (xcr0 & FR_XCR0_ZMM) == FR_XCR0_ZMM;
    return cpu;
}

#endif

fr_cpu fr_cpu_detect(void)
{
#if defined(__x86_64__) || defined(__i386__)
    return fr_cpu_detect_x86();
#else
    fr_cpu cpu = {0};
#if defined(__aarch64__)
    cpu.neon = GetAarch64Info().features.asimd;
#endif
    return cpu;
#endif
}

/*
 * The largest cache cpu_features reports, in bytes. cpu_features 0.7 reads
 * Intel's cache leaves only; elsewhere glibc's figure for the last level
 * stands in (from AMD's cache leaves), and 0 means unknown.
 */
size_t fr_cache_bytes(void)
{
    size_t best = 0;
#if defined(__x86_64__) || defined(__i386__)
    const CacheInfo c = GetX86CacheInfo();
    for (int i = 0; i < c.size; i++) {
        const CacheLevelInfo *l = &c.levels[i];
        int holds_data = l->cache_type == CPU_FEATURE_CACHE_DATA ||
                         l->cache_type == CPU_FEATURE_CACHE_UNIFIED;
        if (holds_data && l->cache_size > 0 && (size_t)l->cache_size > best)
            best = (size_t)l->cache_size;
    }
#endif
#if defined(_SC_LEVEL3_CACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE)
    for (int name = 0; best == 0 && name < 2; name++) {
        long v = sysconf(name == 0 ? _SC_LEVEL3_CACHE_SIZE : _SC_LEVEL2_CACHE_SIZE);
        best = v > 0 ? (size_t)v : 0;
    }
#endif
    return best;
}
