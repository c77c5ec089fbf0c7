/*
 * How a call runs (src/parallel.c): which of the active table and its
 * streaming twin serves it, and how many OpenMP threads share it.
 */
#ifndef FASTRELU_PARALLEL_H
#define FASTRELU_PARALLEL_H

#include <stddef.h>

#include "dispatch.h"

typedef struct fr_plan {
    const fr_kernels *t;
    int threads;
} fr_plan;

/*
 * The plan for a call whose arrays span `bytes` in all: the streaming twin
 * once they outgrow the caches, and more than one thread only when each
 * thread gets enough work to pay for waking it.
 */
fr_plan fr_plan_big(size_t bytes);

/*
 * Waking a thread and joining it costs a few microseconds; a thread needs
 * at least this much array to be worth it (docs/performance.md).
 */
#define FR_MIN_BYTES_PER_THREAD ((size_t)256 << 10)

static inline fr_plan fr_plan_for(size_t bytes)
{
    const fr_kernels *t = fr_active();
    if (bytes < 2 * FR_MIN_BYTES_PER_THREAD && !fr_streams(bytes))
        return (fr_plan){t, 1};
    return fr_plan_big(bytes);
}

/* Inside a team: this thread's part [*i, *i + *m) of [0, n), cut at 64-byte lines of out. */
void fr_chunk(const float *out, size_t n, size_t *i, size_t *m);

#ifdef _OPENMP
#define FR_OMP_PARALLEL _Pragma("omp parallel num_threads(fr_nt_)")
#else
#define FR_OMP_PARALLEL
#endif

/*
 * Runs kernel `slot` of the plan's table over [0, n), whose arrays are
 * `arrays` float arrays and whose output is `out`: in one call, or in chunks
 * across the plan's threads. The kernel's arguments name the chunk as the
 * floats [i, i + m).
 */
#define FR_RUN(n, arrays, out, slot, ...)                                                      \
    do {                                                                                       \
        const fr_plan fr_p_ = fr_plan_for((n) * (arrays) * sizeof(float));                    \
        const int fr_nt_ = fr_p_.threads;                                                      \
        if (fr_nt_ == 1) {                                                                     \
            const size_t i = 0, m = (n);                                                       \
            fr_p_.t->slot(__VA_ARGS__);                                                        \
        } else {                                                                               \
            FR_OMP_PARALLEL                                                                    \
            {                                                                                  \
                size_t i, m;                                                                   \
                fr_chunk((out), (n), &i, &m);                                                  \
                if (m > 0)                                                                     \
                    fr_p_.t->slot(__VA_ARGS__);                                                \
            }                                                                                  \
        }                                                                                      \
    } while (0)

/* PReLU splits by rows of the outer dimension, or by channels when there is one row. */
void fr_run_prelu_fwd(FR_PARAMS_prelu_fwd);
void fr_run_prelu_bwd(FR_PARAMS_prelu_bwd);

#endif /* FASTRELU_PARALLEL_H */
