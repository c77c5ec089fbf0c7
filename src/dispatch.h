/* Selection of the active kernel table (src/cpu.c, src/dispatch.c). */
#ifndef FASTRELU_DISPATCH_H
#define FASTRELU_DISPATCH_H

#include <stdatomic.h>

#include "internal.h"

/* ---- CPU features and selection (src/cpu.c, src/dispatch.c) ------------- */

/*
 * What this CPU and OS can run; a plain struct so tests can invent CPUs.
 * The instruction bits say what the CPU implements; os_ymm and os_zmm say
 * whether the OS saves the registers those instructions use (XCR0). An ISA
 * needs both, so dispatch states the OS rule itself rather than relying on
 * cpu_features having masked the instruction bits already.
 */
typedef struct fr_cpu {
    unsigned sse2 : 1;
    unsigned avx2 : 1;
    unsigned fma : 1;
    unsigned avx512f : 1;
    unsigned avx512bw : 1;
    unsigned avx512dq : 1;
    unsigned avx512vl : 1;
    unsigned neon : 1;
    unsigned os_ymm : 1; /* XCR0 bits 1, 2: SSE and AVX (upper YMM) state */
    unsigned os_zmm : 1; /* XCR0 bits 5, 6, 7: opmask, ZMM0-15 upper halves, ZMM16-31 */
} fr_cpu;

fr_cpu fr_cpu_detect(void);
/* The largest data cache, in bytes (0 when unknown). */
size_t fr_cache_bytes(void);
/* Calls whose arrays span at least this many bytes use the streaming twin tables; 0 until
 * fr_stream_query has run. */
extern _Atomic size_t fr_stream_bytes;
/* Asks for the cache sizes on first use, and returns fr_stream_bytes. */
size_t fr_stream_query(void);

/* The table to use on cpu, capped at the ISA named by cap (NULL or unknown: no cap). */
const fr_kernels *fr_select(fr_cpu cpu, const char *cap);
/* The table for isa if this build has it and cpu can run it, else NULL. */
const fr_kernels *fr_table_for(fr_cpu cpu, int isa);

/* The CPU as detected at load time. */
fr_cpu fr_cpu_get(void);
/* Makes t the active table for every thread. */
void fr_set_active(const fr_kernels *t);
const char *fr_isa_name(fastrelu_isa isa);

/* The active table; selects one on first use if the load-time constructor has not run. */
const fr_kernels *fr_active_slow(void);
extern _Atomic(const fr_kernels *) fr_active_table;

static inline const fr_kernels *fr_active(void)
{
    const fr_kernels *t = atomic_load_explicit(&fr_active_table, memory_order_acquire);
    return __builtin_expect(t != NULL, 1) ? t : fr_active_slow();
}

/*
 * Below this, no call streams, whatever the caches: every CPU the library
 * runs on has a largest cache of 64 KiB or more, and the threshold is 3/4 of
 * it. Smaller calls therefore never need the cache query.
 */
#define FR_STREAM_FLOOR ((size_t)48 << 10)

/* Whether a call whose arrays span `bytes` uses the streaming twin tables. */
static inline int fr_streams(size_t bytes)
{
    if (bytes < FR_STREAM_FLOOR)
        return 0;
    size_t b = atomic_load_explicit(&fr_stream_bytes, memory_order_relaxed);
    return bytes >= (__builtin_expect(b != 0, 1) ? b : fr_stream_query());
}

#endif /* FASTRELU_DISPATCH_H */
