/*
 * The memory system's ceilings for a forward op of n floats, measured with
 * loops that do nothing but move data at the CPU's widest vector width:
 *  - store: write n floats. A forward op stores as much, so it cannot run
 *    faster than this (in L1: the store port; beyond: write-allocate).
 *  - load: read 2n floats. Once the arrays outgrow L1, a core reads each
 *    output line for ownership before it writes it, so a forward op brings
 *    2n floats into L1: its input and its output's old lines. (Inside L1
 *    nothing is brought in, and this ceiling does not bind.)
 * Neither loop computes anything; both keep four vectors in flight, and the
 * load loop ORs the bits together (a one-cycle op) so that nothing waits.
 */
#include "ceiling.h"

#include <stdint.h>
#include <string.h>

/*
 * The two loops for vectors of `bytes` bytes, compiled for `target`: GCC's
 * vector types become zmm, ymm or xmm code under the target attribute.
 */
// NOLINTBEGIN(bugprone-macro-parentheses): `target` is an attribute, not an expression
#define FRB_CEILING_LOOPS(name, target, bytes)                                                    \
    typedef uint32_t frb_##name##_v __attribute__((vector_size(bytes)));                          \
    enum { frb_##name##_lanes = (bytes) / 4 };                                                    \
                                                                                                  \
    static target void frb_store_##name(float *y, size_t n)                                       \
    {                                                                                             \
        const frb_##name##_v one = (frb_##name##_v){0} + 0x3f800000u; /* 1.0f */                  \
        size_t i = 0;                                                                             \
        for (; i + 4 * frb_##name##_lanes <= n; i += 4 * frb_##name##_lanes)                      \
            for (int k = 0; k < 4; k++)                                                           \
                memcpy(y + i + k * frb_##name##_lanes, &one, sizeof one);                         \
        for (; i < n; i++)                                                                        \
            y[i] = 1.0f;                                                                          \
    }                                                                                             \
                                                                                                  \
    static target float frb_load_##name(const float *a, const float *b, size_t n)                 \
    {                                                                                             \
        frb_##name##_v s[4] = {{0}}, v;                                                           \
        size_t i = 0;                                                                             \
        for (; i + 2 * frb_##name##_lanes <= n; i += 2 * frb_##name##_lanes)                      \
            for (int k = 0; k < 2; k++) {                                                         \
                memcpy(&v, a + i + k * frb_##name##_lanes, sizeof v);                             \
                s[k] |= v;                                                                        \
                memcpy(&v, b + i + k * frb_##name##_lanes, sizeof v);                             \
                s[2 + k] |= v;                                                                    \
            }                                                                                     \
        v = (s[0] | s[1]) | (s[2] | s[3]);                                                        \
        uint32_t bits = 0;                                                                        \
        for (int k = 0; k < frb_##name##_lanes; k++)                                              \
            bits |= v[k];                                                                         \
        for (; i < n; i++) {                                                                      \
            uint32_t ab[2];                                                                       \
            memcpy(&ab[0], a + i, 4);                                                             \
            memcpy(&ab[1], b + i, 4);                                                             \
            bits |= ab[0] | ab[1];                                                                \
        }                                                                                         \
        return (float)(bits & 1u);                                                                \
    }
// NOLINTEND(bugprone-macro-parentheses)

/* Everywhere (SSE2, NEON): 16-byte vectors, the baseline. */
FRB_CEILING_LOOPS(base, , 16)

#if defined(__x86_64__) && defined(__GNUC__)
FRB_CEILING_LOOPS(avx512, __attribute__((target("avx512f"))), 64)
FRB_CEILING_LOOPS(avx2, __attribute__((target("avx2"))), 32)
#endif

frb_ceiling frb_ceiling_get(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return (frb_ceiling){"512-bit", frb_store_avx512, frb_load_avx512};
    if (__builtin_cpu_supports("avx2"))
        return (frb_ceiling){"256-bit", frb_store_avx2, frb_load_avx2};
#endif
    return (frb_ceiling){"128-bit", frb_store_base, frb_load_base};
}
