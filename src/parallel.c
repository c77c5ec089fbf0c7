/*
 * Splitting calls across threads, on OpenMP's pool (libgomp with gcc). Every
 * thread runs the same kernel on its own part of the arrays, so results are
 * the one-thread results bit for bit; only PReLU's dalpha, summed from
 * per-thread partial sums when rows are split, rounds differently.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <stdint.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "dispatch.h"
#include "parallel.h"

static _Atomic int fr_num_threads = 1;

fastrelu_status fastrelu_set_num_threads(int n)
{
    if (n < 1)
        return FASTRELU_ERR_INVALID_ARGUMENT;
    atomic_store_explicit(&fr_num_threads, n, memory_order_relaxed);
    return FASTRELU_OK;
}

int fastrelu_get_num_threads(void) { return atomic_load_explicit(&fr_num_threads, memory_order_relaxed); }

fr_plan fr_plan_big(size_t bytes)
{
    fr_plan p = {fr_active(), 1};
    if (fr_streams(bytes))
        p.t = p.t->stream;
#ifdef _OPENMP
    size_t most = bytes / FR_MIN_BYTES_PER_THREAD;
    int want = fastrelu_get_num_threads();
    if (want > 1 && most > 1)
        p.threads = most < (size_t)want ? (int)most : want;
#endif
    return p;
}

/* This thread's place in its team: index and size. */
static void fr_team(int *k, int *size)
{
#ifdef _OPENMP
    *k = omp_get_thread_num();
    *size = omp_get_num_threads();
#else
    *k = 0;
    *size = 1;
#endif
}

/* Where part j of `size` parts of [0, n) begins, before any alignment. */
static size_t fr_cut(size_t n, int j, int size)
{
    size_t s = (size_t)size, u = (size_t)j;
    return n / s * u + n % s * u / s;
}

void fr_chunk(const float *out, size_t n, size_t *i, size_t *m)
{
    enum { LINE = 64 / sizeof(float) };
    int k, size;
    fr_team(&k, &size);
    /* Cuts move to the nearest line boundary of out, so no line is written by two threads. */
    size_t off = (size_t)((uintptr_t)out / sizeof(float)) % LINE;
    size_t cut[2];
    for (int e = 0; e < 2; e++) {
        int j = k + e;
        size_t c = fr_cut(n, j, size);
        if (j > 0 && j < size) {
            c = (c + off + LINE / 2) / LINE * LINE;
            c = c < off ? 0 : c - off;
            c = c < n ? c : n;
        }
        cut[e] = c;
    }
    *i = cut[0];
    *m = cut[1] > cut[0] ? cut[1] - cut[0] : 0;
}

/* This thread's rows [*r, *r + *nr) of `rows`. */
static void fr_rows(size_t rows, size_t *r, size_t *nr)
{
    int k, size;
    fr_team(&k, &size);
    *r = fr_cut(rows, k, size);
    *nr = fr_cut(rows, k + 1, size) - *r;
}

/*
 * This thread's part of a PReLU call: rows of the outer dimension, or, with
 * a single row, a run of whole channels. It starts `off` floats into the
 * arrays and `c0` channels into alpha (and dalpha); empty when outer or
 * channels is 0.
 */
typedef struct fr_prelu_part {
    size_t off, c0, outer, channels;
} fr_prelu_part;

static fr_prelu_part fr_prelu_part_of(size_t outer, size_t channels, size_t inner)
{
    size_t r, nr;
    if (outer > 1) {
        fr_rows(outer, &r, &nr);
        return (fr_prelu_part){r * channels * inner, 0, nr, channels};
    }
    fr_rows(channels, &r, &nr);
    return (fr_prelu_part){r * inner, r, 1, nr};
}

static int fr_prelu_part_empty(fr_prelu_part q) { return q.outer == 0 || q.channels == 0; }

void fr_run_prelu_fwd(FR_PARAMS_prelu_fwd)
{
    size_t n = outer * channels * inner;
    const fr_plan p = fr_plan_for(2 * n * sizeof(float));
    const int fr_nt_ = p.threads;
    if (fr_nt_ == 1 || (outer == 1 && channels == 1)) {
        p.t->prelu_fwd(FR_ARGS_prelu_fwd);
        return;
    }
    FR_OMP_PARALLEL
    {
        fr_prelu_part q = fr_prelu_part_of(outer, channels, inner);
        if (!fr_prelu_part_empty(q))
            p.t->prelu_fwd(x + q.off, alpha + q.c0, y + q.off, q.outer, q.channels, inner);
    }
}

/* Rows split with dalpha wanted: each thread sums its rows into its own partial dalpha. */
static void fr_prelu_bwd_partials(fr_plan p, FR_PARAMS_prelu_bwd)
{
    const int fr_nt_ = p.threads;
    float *part = calloc((size_t)fr_nt_ * channels, sizeof(float));
    if (!part) {
        p.t->prelu_bwd(FR_ARGS_prelu_bwd);
        return;
    }
    FR_OMP_PARALLEL
    {
        int k, size;
        fr_team(&k, &size);
        (void)size;
        fr_prelu_part q = fr_prelu_part_of(outer, channels, inner);
        if (!fr_prelu_part_empty(q))
            p.t->prelu_bwd(dy + q.off, x + q.off, alpha, dx ? dx + q.off : NULL,
                           part + (size_t)k * channels, q.outer, channels, inner);
    }
    /* In a fixed order, in double: the same team size gives the same dalpha every time. */
    for (size_t c = 0; c < channels; c++) {
        double s = 0.0;
        for (int k = 0; k < fr_nt_; k++)
            s += part[(size_t)k * channels + c];
        dalpha[c] = (float)s;
    }
    free(part);
}

void fr_run_prelu_bwd(FR_PARAMS_prelu_bwd)
{
    size_t n = outer * channels * inner;
    const fr_plan p = fr_plan_for((dx ? 3 : 2) * n * sizeof(float));
    const int fr_nt_ = p.threads;
    if (fr_nt_ == 1 || (outer == 1 && channels == 1)) {
        p.t->prelu_bwd(FR_ARGS_prelu_bwd);
        return;
    }
    if (outer > 1 && dalpha) {
        fr_prelu_bwd_partials(p, FR_ARGS_prelu_bwd);
        return;
    }
    /* Without dalpha, or with one row: then each thread owns its channels' dalpha. */
    FR_OMP_PARALLEL
    {
        fr_prelu_part q = fr_prelu_part_of(outer, channels, inner);
        if (!fr_prelu_part_empty(q))
            p.t->prelu_bwd(dy + q.off, x + q.off, alpha + q.c0, dx ? dx + q.off : NULL,
                           dalpha ? dalpha + q.c0 : NULL, q.outer, q.channels, inner);
    }
}
