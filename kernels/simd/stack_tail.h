/*
 * Tail load/store for ISAs without masked moves (SSE2, NEON): the n < FR_LANES
 * leftover floats are staged through a stack buffer, so no lane outside
 * [0, n) is ever read or written. Include after fr_loadu/fr_storeu exist.
 */
#ifndef FR_SIMD_STACK_TAIL_H
#define FR_SIMD_STACK_TAIL_H

#define FR_STACK_TAIL 1

/* Float by float, n < FR_LANES == 4: as loops, gcc made each a call to memcpy, which
 * took a fifth of SSE2's prelu forward on rows of 49 floats (perf). */
_Static_assert(FR_LANES == 4, "the tails below are written out for 4 lanes");

FR_INLINE fr_vec fr_load_part(const float *p, size_t n)
{
    float b[FR_LANES] = {0};
    switch (n) {
    case 3: b[2] = p[2]; /* fall through */
    case 2: b[1] = p[1]; /* fall through */
    case 1: b[0] = p[0]; /* fall through */
    default: break;
    }
    return fr_loadu(b);
}

FR_INLINE void fr_store_part(float *p, fr_vec v, size_t n)
{
    float b[FR_LANES];
    fr_storeu(b, v);
    switch (n) {
    case 3: p[2] = b[2]; /* fall through */
    case 2: p[1] = b[1]; /* fall through */
    case 1: p[0] = b[0]; /* fall through */
    default: break;
    }
}

#endif
