/* Selection of the active kernel table (src/cpu.c, src/dispatch.c). */
#ifndef FASTRELU_DISPATCH_H
#define FASTRELU_DISPATCH_H

#include <stdatomic.h>

#include "internal.h"

/* ---- CPU features and selection (src/cpu.c, src/dispatch.c) ------------- */

/* What this CPU and OS can run; a plain struct so tests can invent CPUs. */
typedef struct fr_cpu {
    unsigned sse2 : 1;
    unsigned avx2 : 1;      /* AVX2 with OS support for the YMM state */
    unsigned fma : 1;
    unsigned avx512f : 1;   /* with OS support for the ZMM and opmask state */
    unsigned avx512bw : 1;
    unsigned avx512dq : 1;
    unsigned avx512vl : 1;
    unsigned neon : 1;
} fr_cpu;

fr_cpu fr_cpu_detect(void);

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

#endif /* FASTRELU_DISPATCH_H */
