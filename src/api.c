/*
 * The public entry points: check the arguments, then call the active table's
 * kernel (src/parallel.h: through its streaming twin for arrays larger than the
 * caches, and split across threads when that pays). Nothing is written unless
 * every check passes.
 *
 * Order of the checks: n == 0 (nothing to do), NULL arrays, sizes that do not
 * fit in the address space, invalid scalars, overlapping arrays.
 */
#include <math.h>
#include <stdint.h>

#include "dispatch.h"
#include "parallel.h"

#define FR_TRY(expr)                                                                   \
    do {                                                                               \
        fastrelu_status fr_s_ = (expr);                                                \
        if (fr_s_ != FASTRELU_OK)                                                      \
            return fr_s_;                                                              \
    } while (0)

/* ---- argument checks ----------------------------------------------------- */

/* The bytes of p[0..n) as [*lo, *hi); 0 when they run past the address space. */
static int fr_span(const float *p, size_t n, uintptr_t *lo, uintptr_t *hi)
{
    size_t bytes;
    *lo = (uintptr_t)p;
    return !__builtin_mul_overflow(n, sizeof(float), &bytes) &&
           !__builtin_add_overflow(*lo, bytes, hi);
}

/* Inputs first, then the outputs; every array has n floats. */
typedef struct fr_arrays {
    const float *in[3];
    size_t n_in;
    const float *out[2]; /* an optional output is NULL and skipped by the caller's choice */
    size_t n_out;
} fr_arrays;

static fastrelu_status fr_check_present(const fr_arrays *a, size_t n)
{
    uintptr_t lo, hi;
    for (size_t i = 0; i < a->n_in; i++)
        if (!a->in[i])
            return FASTRELU_ERR_NULL_POINTER;
    for (size_t i = 0; i < a->n_out; i++)
        if (!a->out[i])
            return FASTRELU_ERR_NULL_POINTER;
    for (size_t i = 0; i < a->n_in; i++)
        if (!fr_span(a->in[i], n, &lo, &hi))
            return FASTRELU_ERR_SIZE_OVERFLOW;
    for (size_t i = 0; i < a->n_out; i++)
        if (!fr_span(a->out[i], n, &lo, &hi))
            return FASTRELU_ERR_SIZE_OVERFLOW;
    return FASTRELU_OK;
}

static int fr_apart(const float *p, size_t np, const float *q, size_t nq)
{
    uintptr_t plo, phi, qlo, qhi;
    /* A span past the address space leaves its end unset: call it overlapping. */
    if (!fr_span(p, np, &plo, &phi) || !fr_span(q, nq, &qlo, &qhi))
        return 0;
    return phi <= qlo || qhi <= plo;
}

/* Each output equals an input exactly (in place) or stays clear of it. */
static fastrelu_status fr_check_overlap(const fr_arrays *a, size_t n)
{
    for (size_t o = 0; o < a->n_out; o++)
        for (size_t i = 0; i < a->n_in; i++)
            if (a->out[o] != a->in[i] && !fr_apart(a->out[o], n, a->in[i], n))
                return FASTRELU_ERR_OVERLAP;
    return FASTRELU_OK;
}

static fastrelu_status fr_check_finite(float v)
{
    return isfinite(v) ? FASTRELU_OK : FASTRELU_ERR_INVALID_ARGUMENT;
}

static fastrelu_status fr_check_bounds(float lo, float hi)
{
    return isfinite(lo) && isfinite(hi) && lo <= hi ? FASTRELU_OK
                                                    : FASTRELU_ERR_INVALID_ARGUMENT;
}

/* Elementwise calls: the arrays, then the scalars, then overlap. */
#define FR_UNARY_ARRAYS(x, y) ((fr_arrays){{(x)}, 1, {(y)}, 1})
#define FR_BINARY_ARRAYS(dy, x, dx) ((fr_arrays){{(dy), (x)}, 2, {(dx)}, 1})

static fastrelu_status fr_check(fr_arrays a, size_t n, fastrelu_status scalars)
{
    FR_TRY(fr_check_present(&a, n));
    FR_TRY(scalars);
    return fr_check_overlap(&a, n);
}

/* ---- elementwise ops ----------------------------------------------------- */

fastrelu_status fastrelu_relu_f32(const float *x, float *y, size_t n)
{
    if (n == 0)
        return FASTRELU_OK;
    FR_TRY(fr_check(FR_UNARY_ARRAYS(x, y), n, FASTRELU_OK));
    FR_RUN(n, 2, y, relu_fwd, x + i, y + i, m);
    return FASTRELU_OK;
}

fastrelu_status fastrelu_relu_backward_f32(const float *dy, const float *x, float *dx, size_t n)
{
    if (n == 0)
        return FASTRELU_OK;
    FR_TRY(fr_check(FR_BINARY_ARRAYS(dy, x, dx), n, FASTRELU_OK));
    FR_RUN(n, 3, dx, relu_bwd, dy + i, x + i, dx + i, m);
    return FASTRELU_OK;
}

fastrelu_status fastrelu_leaky_relu_f32(const float *x, float *y, size_t n, float alpha)
{
    if (n == 0)
        return FASTRELU_OK;
    FR_TRY(fr_check(FR_UNARY_ARRAYS(x, y), n, fr_check_finite(alpha)));
    FR_RUN(n, 2, y, leaky_relu_fwd, x + i, y + i, m, alpha);
    return FASTRELU_OK;
}

fastrelu_status fastrelu_leaky_relu_backward_f32(const float *dy, const float *x, float *dx,
                                                 size_t n, float alpha)
{
    if (n == 0)
        return FASTRELU_OK;
    FR_TRY(fr_check(FR_BINARY_ARRAYS(dy, x, dx), n, fr_check_finite(alpha)));
    FR_RUN(n, 3, dx, leaky_relu_bwd, dy + i, x + i, dx + i, m, alpha);
    return FASTRELU_OK;
}

fastrelu_status fastrelu_elu_f32(const float *x, float *y, size_t n, float alpha)
{
    if (n == 0)
        return FASTRELU_OK;
    FR_TRY(fr_check(FR_UNARY_ARRAYS(x, y), n, fr_check_finite(alpha)));
    FR_RUN(n, 2, y, elu_fwd, x + i, y + i, m, alpha);
    return FASTRELU_OK;
}

fastrelu_status fastrelu_elu_backward_f32(const float *dy, const float *x, float *dx, size_t n,
                                          float alpha)
{
    if (n == 0)
        return FASTRELU_OK;
    FR_TRY(fr_check(FR_BINARY_ARRAYS(dy, x, dx), n, fr_check_finite(alpha)));
    FR_RUN(n, 3, dx, elu_bwd, dy + i, x + i, dx + i, m, alpha);
    return FASTRELU_OK;
}

fastrelu_status fastrelu_clip_f32(const float *x, float *y, size_t n, float lo, float hi)
{
    if (n == 0)
        return FASTRELU_OK;
    FR_TRY(fr_check(FR_UNARY_ARRAYS(x, y), n, fr_check_bounds(lo, hi)));
    FR_RUN(n, 2, y, clip_fwd, x + i, y + i, m, lo, hi);
    return FASTRELU_OK;
}

fastrelu_status fastrelu_clip_backward_f32(const float *dy, const float *x, float *dx, size_t n,
                                           float lo, float hi)
{
    if (n == 0)
        return FASTRELU_OK;
    FR_TRY(fr_check(FR_BINARY_ARRAYS(dy, x, dx), n, fr_check_bounds(lo, hi)));
    FR_RUN(n, 3, dx, clip_bwd, dy + i, x + i, dx + i, m, lo, hi);
    return FASTRELU_OK;
}

/* ---- PReLU --------------------------------------------------------------- */

/* alpha[0..channels) must exist, fit, be finite and stay clear of every output. */
static fastrelu_status fr_check_prelu_alpha(const float *alpha, size_t channels,
                                            const float *const *outs, const size_t *out_lens,
                                            size_t n_outs)
{
    uintptr_t lo, hi;
    if (!alpha)
        return FASTRELU_ERR_NULL_POINTER;
    if (!fr_span(alpha, channels, &lo, &hi))
        return FASTRELU_ERR_SIZE_OVERFLOW;
    if (!fr_active()->all_finite(alpha, channels))
        return FASTRELU_ERR_INVALID_ARGUMENT;
    for (size_t o = 0; o < n_outs; o++)
        if (outs[o] && !fr_apart(outs[o], out_lens[o], alpha, channels))
            return FASTRELU_ERR_OVERLAP;
    return FASTRELU_OK;
}

static fastrelu_status fr_prelu_size(size_t outer, size_t channels, size_t inner, size_t *n)
{
    size_t oc;
    if (outer == 0 || channels == 0 || inner == 0) {
        *n = 0; /* an empty tensor, whatever the other dimensions say */
        return FASTRELU_OK;
    }
    if (__builtin_mul_overflow(outer, channels, &oc) || __builtin_mul_overflow(oc, inner, n))
        return FASTRELU_ERR_SIZE_OVERFLOW;
    return FASTRELU_OK;
}

fastrelu_status fastrelu_prelu_f32(const float *x, const float *alpha, float *y, size_t outer,
                                   size_t channels, size_t inner)
{
    size_t n;
    FR_TRY(fr_prelu_size(outer, channels, inner, &n));
    if (n == 0)
        return FASTRELU_OK;
    if (!alpha) /* NULL arrays come before sizes, alpha included */
        return FASTRELU_ERR_NULL_POINTER;
    fr_arrays a = FR_UNARY_ARRAYS(x, y);
    FR_TRY(fr_check_present(&a, n));
    FR_TRY(fr_check_prelu_alpha(alpha, channels, (const float *const[]){y}, (size_t[]){n}, 1));
    FR_TRY(fr_check_overlap(&a, n));
    fr_run_prelu_fwd(x, alpha, y, outer, channels, inner);
    return FASTRELU_OK;
}

fastrelu_status fastrelu_prelu_backward_f32(const float *dy, const float *x, const float *alpha,
                                            float *dx, float *dalpha, size_t outer,
                                            size_t channels, size_t inner)
{
    size_t n;
    FR_TRY(fr_prelu_size(outer, channels, inner, &n));
    if (n == 0)
        return FASTRELU_OK;
    if ((!dx && !dalpha) || !alpha)
        return FASTRELU_ERR_NULL_POINTER;
    fr_arrays a = {{dy, x}, 2, {dx}, dx ? 1 : 0};
    FR_TRY(fr_check_present(&a, n));
    uintptr_t lo, hi;
    if (dalpha && !fr_span(dalpha, channels, &lo, &hi))
        return FASTRELU_ERR_SIZE_OVERFLOW;
    FR_TRY(fr_check_prelu_alpha(alpha, channels, (const float *const[]){dx, dalpha},
                                (size_t[]){n, channels}, 2));
    FR_TRY(fr_check_overlap(&a, n));
    /* dalpha is a second output: it may not touch any array, dx included. */
    if (dalpha && !(fr_apart(dalpha, channels, dy, n) && fr_apart(dalpha, channels, x, n) &&
                    (!dx || fr_apart(dalpha, channels, dx, n))))
        return FASTRELU_ERR_OVERLAP;
    fr_run_prelu_bwd(dy, x, alpha, dx, dalpha, outer, channels, inner);
    return FASTRELU_OK;
}

/* ---- dispatch and introspection ----------------------------------------- */

fastrelu_isa fastrelu_get_isa(void) { return fr_active()->isa; }

fastrelu_status fastrelu_set_isa(fastrelu_isa isa)
{
    const fr_kernels *t = fr_table_for(fr_cpu_get(), (int)isa);
    if (!t)
        return FASTRELU_ERR_UNSUPPORTED_ISA;
    fr_set_active(t);
    return FASTRELU_OK;
}

int fastrelu_isa_supported(fastrelu_isa isa) { return fr_table_for(fr_cpu_get(), (int)isa) != NULL; }

fastrelu_isa fastrelu_best_isa(void) { return fr_select(fr_cpu_get(), NULL)->isa; }

const char *fastrelu_isa_name(fastrelu_isa isa) { return fr_isa_name(isa); }

const char *fastrelu_status_string(fastrelu_status status)
{
    switch (status) {
    case FASTRELU_OK: return "ok";
    case FASTRELU_ERR_NULL_POINTER: return "a required array is NULL";
    case FASTRELU_ERR_INVALID_ARGUMENT: return "invalid argument (non-finite alpha/bound or lo > hi)";
    case FASTRELU_ERR_OVERLAP: return "an output overlaps an input without being the same array";
    case FASTRELU_ERR_SIZE_OVERFLOW: return "array size overflows the address space";
    case FASTRELU_ERR_UNSUPPORTED_ISA: return "ISA not supported by this CPU or build";
    }
    return "unknown status";
}

#define FR_STR_(x) #x
#define FR_STR(x) FR_STR_(x)

const char *fastrelu_version(void)
{
    return FR_STR(FASTRELU_VERSION_MAJOR) "." FR_STR(FASTRELU_VERSION_MINOR) "." FR_STR(
        FASTRELU_VERSION_PATCH);
}
