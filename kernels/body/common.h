/*
 * Loop drivers shared by every kernel body. An ISA file includes its shim
 * (simd/<isa>.h), defines FR_ISA, then includes the bodies; each op is then
 * written once as a per-vector function that the drivers inline.
 */
#ifndef FR_BODY_COMMON_H
#define FR_BODY_COMMON_H

#include "../../src/internal.h"

#define FR_NAME(op, dir) FR_KERNEL_NAME(op, dir, FR_ISA)

/* Four independent vectors per iteration keep the load and store ports busy. */
#define FR_UNROLL 4

/* The op's scalar parameters, broadcast once per call. */
typedef struct fr_params {
    fr_vec a, b;
} fr_params;

typedef fr_vec (*fr_op1)(fr_vec x, fr_params p);
typedef fr_vec (*fr_op2)(fr_vec u, fr_vec x, fr_params p);

/* y[i] = op(x[i]). y == x is allowed: each block is loaded before it is stored. */
FR_INLINE void fr_map1(const float *x, float *y, size_t n, fr_params p, fr_op1 op)
{
    size_t i = 0;
    for (; i + FR_UNROLL * FR_LANES <= n; i += FR_UNROLL * FR_LANES) {
        fr_vec v0 = fr_loadu(x + i);
        fr_vec v1 = fr_loadu(x + i + FR_LANES);
        fr_vec v2 = fr_loadu(x + i + 2 * FR_LANES);
        fr_vec v3 = fr_loadu(x + i + 3 * FR_LANES);
        fr_storeu(y + i, op(v0, p));
        fr_storeu(y + i + FR_LANES, op(v1, p));
        fr_storeu(y + i + 2 * FR_LANES, op(v2, p));
        fr_storeu(y + i + 3 * FR_LANES, op(v3, p));
    }
    for (; i + FR_LANES <= n; i += FR_LANES)
        fr_storeu(y + i, op(fr_loadu(x + i), p));
    if (i < n)
        fr_store_part(y + i, op(fr_load_part(x + i, n - i), p), n - i);
}

/* y[i] = op(u[i], x[i]). y may equal u or x. */
FR_INLINE void fr_map2(const float *u, const float *x, float *y, size_t n, fr_params p, fr_op2 op)
{
    size_t i = 0;
    for (; i + FR_UNROLL * FR_LANES <= n; i += FR_UNROLL * FR_LANES) {
        fr_vec r0 = op(fr_loadu(u + i), fr_loadu(x + i), p);
        fr_vec r1 = op(fr_loadu(u + i + FR_LANES), fr_loadu(x + i + FR_LANES), p);
        fr_vec r2 = op(fr_loadu(u + i + 2 * FR_LANES), fr_loadu(x + i + 2 * FR_LANES), p);
        fr_vec r3 = op(fr_loadu(u + i + 3 * FR_LANES), fr_loadu(x + i + 3 * FR_LANES), p);
        fr_storeu(y + i, r0);
        fr_storeu(y + i + FR_LANES, r1);
        fr_storeu(y + i + 2 * FR_LANES, r2);
        fr_storeu(y + i + 3 * FR_LANES, r3);
    }
    for (; i + FR_LANES <= n; i += FR_LANES)
        fr_storeu(y + i, op(fr_loadu(u + i), fr_loadu(x + i), p));
    if (i < n) {
        size_t r = n - i;
        fr_store_part(y + i, op(fr_load_part(u + i, r), fr_load_part(x + i, r), p), r);
    }
}

FR_INLINE fr_params fr_params1(float a) { return (fr_params){fr_set1(a), fr_set1(a)}; }
FR_INLINE fr_params fr_params2(float a, float b) { return (fr_params){fr_set1(a), fr_set1(b)}; }

#endif
