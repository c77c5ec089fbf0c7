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

/* One signature per argument shape. */
typedef void (*fr_unary_fn)(const float *x, float *y, size_t n);
typedef void (*fr_unary_a_fn)(const float *x, float *y, size_t n, float alpha);
typedef void (*fr_unary_ab_fn)(const float *x, float *y, size_t n, float lo, float hi);
typedef void (*fr_binary_fn)(const float *dy, const float *x, float *dx, size_t n);
typedef void (*fr_binary_a_fn)(const float *dy, const float *x, float *dx, size_t n, float alpha);
typedef void (*fr_binary_ab_fn)(const float *dy, const float *x, float *dx, size_t n, float lo,
                                float hi);
typedef void (*fr_prelu_fwd_fn)(const float *x, const float *alpha, float *y, size_t outer,
                                size_t channels, size_t inner);
/* dx or dalpha may be NULL (not both). */
typedef void (*fr_prelu_bwd_fn)(const float *dy, const float *x, const float *alpha, float *dx,
                                float *dalpha, size_t outer, size_t channels, size_t inner);

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

typedef struct fr_kernels {
    fastrelu_isa isa;
#define FR_SLOT(op, dir, sig, ulp) fr_##sig##_fn op##_##dir;
    FR_KERNEL_LIST(FR_SLOT)
#undef FR_SLOT
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

/* The ISA's kernel names: fr_f32_<op>_<fwd|bwd>__<isa>. */
#define FR_CAT5_(a, b, c, d, e) a##b##c##d##e
#define FR_CAT5(a, b, c, d, e) FR_CAT5_(a, b, c, d, e)
#define FR_KERNEL_NAME(op, dir, isa) FR_CAT5(fr_f32_, op, _##dir, __, isa)

/* Defines fr_kernels_<isa> from the kernels named after FR_ISA. */
#define FR_TABLE_ENTRY(op, dir, sig, ulp) .op##_##dir = FR_KERNEL_NAME(op, dir, FR_ISA),
#define FR_DEFINE_TABLE(isa_enum)                                             \
    const fr_kernels FR_CAT5(fr_kernels_, FR_ISA, , , ) = {                   \
        .isa = (isa_enum), FR_KERNEL_LIST(FR_TABLE_ENTRY)}

#endif /* FASTRELU_INTERNAL_H */
