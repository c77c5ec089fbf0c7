/*
 * Internal contract between src/ and kernels/: kernel signatures, the kernel
 * table, and the one registry of kernels that drives the tables, the tests
 * and the benchmarks.
 *
 * Kernels trust their arguments (src/api.c has checked them) and return void.
 */
#ifndef FASTRELU_INTERNAL_H
#define FASTRELU_INTERNAL_H

#include <stddef.h>

#include "fastrelu.h"

/*
 * One signature per argument shape: FR_PARAMS_<sig> is the parameter list and
 * FR_ARGS_<sig> the same names as arguments, so kernel bodies can forward them.
 */
#define FR_PARAMS_unary const float *x, float *y, size_t n
#define FR_ARGS_unary x, y, n
#define FR_PARAMS_unary_a const float *x, float *y, size_t n, float alpha
#define FR_ARGS_unary_a x, y, n, alpha
#define FR_PARAMS_unary_ab const float *x, float *y, size_t n, float lo, float hi
#define FR_ARGS_unary_ab x, y, n, lo, hi
#define FR_PARAMS_binary const float *dy, const float *x, float *dx, size_t n
#define FR_ARGS_binary dy, x, dx, n
#define FR_PARAMS_binary_a const float *dy, const float *x, float *dx, size_t n, float alpha
#define FR_ARGS_binary_a dy, x, dx, n, alpha
#define FR_PARAMS_binary_ab const float *dy, const float *x, float *dx, size_t n, float lo, float hi
#define FR_ARGS_binary_ab dy, x, dx, n, lo, hi
#define FR_PARAMS_prelu_fwd                                                                   \
    const float *x, const float *alpha, float *y, size_t outer, size_t channels, size_t inner
#define FR_ARGS_prelu_fwd x, alpha, y, outer, channels, inner
/* dx or dalpha may be NULL (not both). */
#define FR_PARAMS_prelu_bwd                                                                   \
    const float *dy, const float *x, const float *alpha, float *dx, float *dalpha, size_t outer, \
        size_t channels, size_t inner
#define FR_ARGS_prelu_bwd dy, x, alpha, dx, dalpha, outer, channels, inner

typedef void (*fr_unary_fn)(FR_PARAMS_unary);
typedef void (*fr_unary_a_fn)(FR_PARAMS_unary_a);
typedef void (*fr_unary_ab_fn)(FR_PARAMS_unary_ab);
typedef void (*fr_binary_fn)(FR_PARAMS_binary);
typedef void (*fr_binary_a_fn)(FR_PARAMS_binary_a);
typedef void (*fr_binary_ab_fn)(FR_PARAMS_binary_ab);
typedef void (*fr_prelu_fwd_fn)(FR_PARAMS_prelu_fwd);
typedef void (*fr_prelu_bwd_fn)(FR_PARAMS_prelu_bwd);

/*
 * The registry: X(op, dir, signature, ulp_bound).
 * ulp_bound 0 means bit-identical to the reference; otherwise the largest
 * allowed distance in units in the last place (docs/semantics.md).
 * Adding a kernel means adding a line here and a body in kernels/body/.
 */
#define FR_KERNEL_LIST(X)                  \
    X(relu, fwd, unary, 0)                 \
    X(relu, bwd, binary, 0)                \
    X(leaky_relu, fwd, unary_a, 0)         \
    X(leaky_relu, bwd, binary_a, 0)        \
    X(prelu, fwd, prelu_fwd, 0)            \
    X(prelu, bwd, prelu_bwd, 0)            \
    X(elu, fwd, unary_a, 2)                \
    X(elu, bwd, binary_a, 3)               \
    X(clip, fwd, unary_ab, 0)              \
    X(clip, bwd, binary_ab, 0)

/*
 * An ISA's kernels. Each table has a twin whose kernels write their output
 * with non-temporal (streaming) stores, for calls whose arrays exceed the
 * caches; `stream` points at it (a table without such stores is its own twin).
 */
typedef struct fr_kernels {
    fastrelu_isa isa;
    const struct fr_kernels *stream;
#define FR_SLOT(op, dir, sig, ulp) fr_##sig##_fn op##_##dir;
    FR_KERNEL_LIST(FR_SLOT)
#undef FR_SLOT
    /* Nonzero when p[0, n) are all finite: src/api.c's check of PReLU's alphas, at the ISA's
     * width (compiled for the baseline in src/, 512 alphas took about 40 ns). */
    int (*all_finite)(const float *p, size_t n);
} fr_kernels;

/* The per-ISA tables. Each ISA file exports exactly one of these. */
extern const fr_kernels fr_kernels_scalar;
#if defined(FASTRELU_HAVE_SSE2)
extern const fr_kernels fr_kernels_sse2;
#endif
#if defined(FASTRELU_HAVE_AVX2)
extern const fr_kernels fr_kernels_avx2;
#endif
#if defined(FASTRELU_HAVE_AVX512)
extern const fr_kernels fr_kernels_avx512;
#endif
#if defined(FASTRELU_HAVE_NEON)
extern const fr_kernels fr_kernels_neon;
#endif

/* The ISA's kernel names: fr_f32_<op>_<fwd|bwd>__<isa>, streaming twins fr_f32_<op>_<dir>__nt_<isa>. */
#define FR_CAT5_(a, b, c, d, e) a##b##c##d##e
#define FR_CAT5(a, b, c, d, e) FR_CAT5_(a, b, c, d, e)
#define FR_KERNEL_NAME(op, dir, isa) FR_CAT5(fr_f32_, op, _##dir, __, isa)
#define FR_KERNEL_NAME_NT(op, dir, isa) FR_CAT5(fr_f32_, op, _##dir, __nt_, isa)
#define FR_ALL_FINITE_NAME(isa) FR_CAT5(fr_f32_all_finite, , , __, isa)

/* Defines fr_kernels_<isa> and its streaming twin from the kernels named after FR_ISA. */
#define FR_TABLE_ENTRY(op, dir, sig, ulp) .op##_##dir = FR_KERNEL_NAME(op, dir, FR_ISA),
#define FR_TABLE_ENTRY_NT(op, dir, sig, ulp) .op##_##dir = FR_KERNEL_NAME_NT(op, dir, FR_ISA),
#define FR_TABLE_(prefix) FR_CAT5(fr_kernels_, prefix, FR_ISA, , )
#define FR_DEFINE_TABLE(isa_enum)                                                              \
    static const fr_kernels FR_TABLE_(nt_);                                                    \
    const fr_kernels FR_TABLE_() = {.isa = (isa_enum),                                        \
                                     .stream = &FR_TABLE_(nt_),                                \
                                     FR_KERNEL_LIST(FR_TABLE_ENTRY).all_finite =               \
                                         FR_ALL_FINITE_NAME(FR_ISA)};                          \
    static const fr_kernels FR_TABLE_(nt_) = {.isa = (isa_enum),                               \
                                              .stream = &FR_TABLE_(nt_),                       \
                                              FR_KERNEL_LIST(FR_TABLE_ENTRY_NT).all_finite =   \
                                                  FR_ALL_FINITE_NAME(FR_ISA)}
/* For an ISA without streaming stores: the table is its own twin. */
#define FR_DEFINE_TABLE_SOLO(isa_enum)                                                         \
    const fr_kernels FR_TABLE_() = {.isa = (isa_enum),                                        \
                                     .stream = &FR_TABLE_(),                                   \
                                     FR_KERNEL_LIST(FR_TABLE_ENTRY).all_finite =               \
                                         FR_ALL_FINITE_NAME(FR_ISA)}

#endif /* FASTRELU_INTERNAL_H */
