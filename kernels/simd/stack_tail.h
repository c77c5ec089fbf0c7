/*
 * Tail load/store for ISAs without masked moves (SSE2, NEON): the n < FR_LANES
 * leftover floats are staged through a stack buffer, so no lane outside
 * [0, n) is ever read or written. Include after fr_loadu/fr_storeu exist.
 */
#ifndef FR_SIMD_STACK_TAIL_H
#define FR_SIMD_STACK_TAIL_H

#define FR_STACK_TAIL 1

FR_INLINE fr_vec fr_load_part(const float *p, size_t n)
{
    float b[FR_LANES] = {0};
    for (size_t i = 0; i < n; i++)
        b[i] = p[i];
    return fr_loadu(b);
}

FR_INLINE void fr_store_part(float *p, fr_vec v, size_t n)
{
    float b[FR_LANES];
    fr_storeu(b, v);
    for (size_t i = 0; i < n; i++)
        p[i] = b[i];
}

#endif
