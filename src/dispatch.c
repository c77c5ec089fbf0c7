/*
 * Picks the kernel table once, when the library is loaded: the best ISA of a
 * best-first ladder that the CPU runs, capped by FASTRELU_ISA. Calls then
 * cost one atomic load and one indirect call.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"

typedef struct fr_isa_desc {
    const char *name;
    const fr_kernels *table; /* NULL when this build has no kernels for it */
    int (*runs_on)(fr_cpu cpu);
} fr_isa_desc;

static int fr_any(fr_cpu cpu) { return (void)cpu, 1; }
static int fr_has_sse2(fr_cpu cpu) { return cpu.sse2; }
/* An ISA's instructions are usable only where the OS saves the registers they write. */
static int fr_has_avx2(fr_cpu cpu) { return cpu.avx2 && cpu.fma && cpu.os_ymm; }
/* The avx512 kernels are compiled with -mavx2 -mfma as well, so they need what avx2 needs. */
static int fr_has_avx512(fr_cpu cpu)
{
    return fr_has_avx2(cpu) && cpu.avx512f && cpu.avx512bw && cpu.avx512dq && cpu.avx512vl &&
           cpu.os_zmm;
}
static int fr_has_neon(fr_cpu cpu) { return cpu.neon; }

#if defined(FASTRELU_HAVE_SSE2)
#define FR_SSE2_TABLE &fr_kernels_sse2
#else
#define FR_SSE2_TABLE NULL
#endif
#if defined(FASTRELU_HAVE_AVX2)
#define FR_AVX2_TABLE &fr_kernels_avx2
#else
#define FR_AVX2_TABLE NULL
#endif
#if defined(FASTRELU_HAVE_AVX512)
#define FR_AVX512_TABLE &fr_kernels_avx512
#else
#define FR_AVX512_TABLE NULL
#endif
#if defined(FASTRELU_HAVE_NEON)
#define FR_NEON_TABLE &fr_kernels_neon
#else
#define FR_NEON_TABLE NULL
#endif

/* Indexed by fastrelu_isa; the ladder of each architecture runs through it by rank. */
static const fr_isa_desc fr_isas[] = {
    [FASTRELU_ISA_SCALAR] = {"scalar", &fr_kernels_scalar, fr_any},
    [FASTRELU_ISA_SSE2] = {"sse2", FR_SSE2_TABLE, fr_has_sse2},
    [FASTRELU_ISA_AVX2] = {"avx2", FR_AVX2_TABLE, fr_has_avx2},
    [FASTRELU_ISA_AVX512] = {"avx512", FR_AVX512_TABLE, fr_has_avx512},
    [FASTRELU_ISA_NEON] = {"neon", FR_NEON_TABLE, fr_has_neon},
};
#define FR_NUM_ISAS (sizeof fr_isas / sizeof fr_isas[0])

/* Best first. A cap names a rung; ISAs of other architectures are not on the ladder. */
#if defined(__aarch64__)
static const fastrelu_isa fr_ladder[] = {FASTRELU_ISA_NEON, FASTRELU_ISA_SCALAR};
#else
static const fastrelu_isa fr_ladder[] = {FASTRELU_ISA_AVX512, FASTRELU_ISA_AVX2,
                                         FASTRELU_ISA_SSE2, FASTRELU_ISA_SCALAR};
#endif
#define FR_LADDER_LEN (sizeof fr_ladder / sizeof fr_ladder[0])

_Atomic(const fr_kernels *) fr_active_table = NULL;

const char *fr_isa_name(fastrelu_isa isa)
{
    return (unsigned)isa < FR_NUM_ISAS ? fr_isas[isa].name : "unknown";
}

const fr_kernels *fr_table_for(fr_cpu cpu, int isa)
{
    if (isa < 0 || (unsigned)isa >= FR_NUM_ISAS)
        return NULL;
    const fr_isa_desc *d = &fr_isas[isa];
    return d->table && d->runs_on(cpu) ? d->table : NULL;
}

const fr_kernels *fr_select(fr_cpu cpu, const char *cap)
{
    size_t start = 0;
    for (size_t i = 0; cap && i < FR_LADDER_LEN; i++)
        if (strcmp(cap, fr_isas[fr_ladder[i]].name) == 0)
            start = i;
    for (size_t i = start; i < FR_LADDER_LEN; i++) {
        const fr_kernels *t = fr_table_for(cpu, (int)fr_ladder[i]);
        if (t)
            return t;
    }
    return &fr_kernels_scalar;
}

static fr_cpu fr_this_cpu;
_Atomic size_t fr_stream_bytes; /* 0 until a call large enough to stream asks */

/*
 * Arrays that outgrow the largest cache gain from bypassing it: the output
 * would be evicted before anyone reads it. At 3/4 of that cache the inputs
 * and outputs already crowd out everything else (docs/performance.md).
 */
static size_t fr_stream_threshold(size_t cache_bytes)
{
    return cache_bytes >= 4 ? cache_bytes / 4 * 3 : SIZE_MAX; /* never 0: 0 means not asked */
}

static void fr_stream_init(void)
{
    atomic_store_explicit(&fr_stream_bytes, fr_stream_threshold(fr_cache_bytes()),
                          memory_order_relaxed);
}

/*
 * The cache query is not made at load: in this VM every CPUID traps to the
 * hypervisor (about 6 us); cpu_features' cache query took 63-305 us and
 * glibc's first sysconf for L3 192 us (docs/performance.md).
 */
size_t fr_stream_query(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, fr_stream_init);
    return atomic_load_explicit(&fr_stream_bytes, memory_order_relaxed);
}

static void fr_init(void)
{
    fr_this_cpu = fr_cpu_detect();
    atomic_store_explicit(&fr_active_table, fr_select(fr_this_cpu, getenv("FASTRELU_ISA")),
                          memory_order_release);
}

static pthread_once_t fr_once = PTHREAD_ONCE_INIT;

/* Runs the selection once, whoever comes first: the constructor or a call made before it. */
static void fr_ensure_init(void) { pthread_once(&fr_once, fr_init); }

__attribute__((constructor)) static void fr_on_load(void) { fr_ensure_init(); }

const fr_kernels *fr_active_slow(void)
{
    fr_ensure_init();
    return atomic_load_explicit(&fr_active_table, memory_order_acquire);
}


fr_cpu fr_cpu_get(void)
{
    fr_ensure_init();
    return fr_this_cpu;
}

void fr_set_active(const fr_kernels *t)
{
    fr_ensure_init();
    atomic_store_explicit(&fr_active_table, t, memory_order_release);
}
