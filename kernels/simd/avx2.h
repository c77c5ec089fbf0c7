/* AVX2 + FMA shim: 8 float lanes; masks are all-ones/all-zeros lanes. */
#ifndef FR_SIMD_AVX2_H
#define FR_SIMD_AVX2_H

#include <immintrin.h>
#include <stddef.h>

#define FR_LANES 8
#define FR_INLINE static inline __attribute__((always_inline))

typedef __m256 fr_vec;
typedef __m256 fr_mask;
typedef struct { __m256d lo, hi; } fr_dacc;

FR_INLINE fr_vec fr_loadu(const float *p) { return _mm256_loadu_ps(p); }
FR_INLINE void fr_storeu(float *p, fr_vec v) { _mm256_storeu_ps(p, v); }
/* Non-temporal store of a whole vector to a vector-aligned p; fr_stream_fence orders them. */
#define FR_HAVE_STREAM 1
FR_INLINE void fr_stream(float *p, fr_vec v) { _mm256_stream_ps(p, v); }
FR_INLINE void fr_stream_fence(void) { _mm_sfence(); }
FR_INLINE fr_vec fr_set1(float a) { return _mm256_set1_ps(a); }
/* Lane l = p[l % period] for a power-of-two period <= FR_LANES; reads p[0, period) only. */
FR_INLINE fr_vec fr_repeat(const float *p, size_t period)
{
    switch (period) {
    case 1: return _mm256_set1_ps(*p);
    case 2:
        return _mm256_castsi256_ps(_mm256_broadcastq_epi64(_mm_loadl_epi64((const __m128i *)p)));
    case 4: return _mm256_broadcast_ps((const __m128 *)p);
    default: return _mm256_loadu_ps(p);
    }
}
/* Lane l = a[l / inner] for a power-of-two 1 < inner < FR_LANES: each of the first
 * FR_LANES / inner lanes of a, repeated inner times. */
FR_INLINE fr_vec fr_expand(fr_vec a, size_t inner)
{
    __m256i lane = _mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0);
    __m256i idx = _mm256_srl_epi32(lane, _mm_cvtsi32_si128(__builtin_ctzll(inner)));
    return _mm256_permutevar8x32_ps(a, idx);
}

/* Lane l of table[f[l]] for f in [0, FR_LANES), truncated to an index. PReLU takes NCHW
 * rows shorter than FR_PICK_ROWS floats FR_LANES at once with it (prelu.h). */
#define FR_PICK_ROWS (2 * FR_LANES)
FR_INLINE fr_vec fr_pick(fr_vec table, fr_vec f)
{
    return _mm256_permutevar8x32_ps(table, _mm256_cvttps_epi32(f));
}

/* VMASKMOVPS does not fault on masked-off lanes, so tails never read memory past n. */
FR_INLINE __m256i fr_tail_mask(size_t n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
/* Lanes [0, n), n <= FR_LANES. */
FR_INLINE fr_mask fr_lanes_below(size_t n) { return _mm256_castsi256_ps(fr_tail_mask(n)); }
FR_INLINE fr_vec fr_load_part(const float *p, size_t n)
{
    return _mm256_maskload_ps(p, fr_tail_mask(n));
}
/* Stored in pieces of 4, 2 and 1 floats, not by VMASKMOVPS: on Zen 3 a VMASKMOVPS store
 * takes 12 cycles a store (a loop of them, 3.1 GHz), where its masked load takes 0.8. */
FR_INLINE void fr_store_part(float *p, fr_vec v, size_t n)
{
    __m128 q = _mm256_castps256_ps128(v);
    if (n & 4) {
        _mm_storeu_ps(p, q);
        q = _mm256_extractf128_ps(v, 1);
        p += 4;
    }
    if (n & 2) {
        _mm_storel_pi((__m64 *)p, q);
        q = _mm_movehl_ps(q, q);
        p += 2;
    }
    if (n & 1)
        _mm_store_ss(p, q);
}

FR_INLINE fr_vec fr_add(fr_vec a, fr_vec b) { return _mm256_add_ps(a, b); }
FR_INLINE fr_vec fr_sub(fr_vec a, fr_vec b) { return _mm256_sub_ps(a, b); }
FR_INLINE fr_vec fr_mul(fr_vec a, fr_vec b) { return _mm256_mul_ps(a, b); }
FR_INLINE fr_vec fr_fmadd(fr_vec a, fr_vec b, fr_vec c) { return _mm256_fmadd_ps(a, b, c); }

/* Ordered comparisons: false when either side is NaN. */
FR_INLINE fr_mask fr_gt(fr_vec a, fr_vec b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
FR_INLINE fr_mask fr_le(fr_vec a, fr_vec b) { return _mm256_cmp_ps(a, b, _CMP_LE_OQ); }
FR_INLINE fr_mask fr_ge(fr_vec a, fr_vec b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
FR_INLINE fr_mask fr_eq(fr_vec a, fr_vec b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
/* Nonzero when every lane of m is set. */
FR_INLINE int fr_all(fr_mask m) { return _mm256_movemask_ps(m) == 0xFF; }

/* m ? a : b */
FR_INLINE fr_vec fr_select(fr_mask m, fr_vec a, fr_vec b) { return _mm256_blendv_ps(b, a, m); }
/* m ? +0 : b */
FR_INLINE fr_vec fr_zero_if(fr_mask m, fr_vec b) { return _mm256_andnot_ps(m, b); }
/* VMAXPS/VMINPS are exactly a > b ? a : b and a < b ? a : b, NaN and zeros included. */
/* v as a register value: GCC otherwise may load a vector used twice twice, once into an
 * op's memory operand (PReLU's max form on AVX2: 3 loads a vector where 2 do). */
FR_INLINE fr_vec fr_in_reg(fr_vec v)
{
    __asm__("" : "+x"(v));
    return v;
}
FR_INLINE fr_vec fr_max_ab(fr_vec a, fr_vec b) { return _mm256_max_ps(a, b); }
FR_INLINE fr_vec fr_min_ab(fr_vec a, fr_vec b) { return _mm256_min_ps(a, b); }

/* 2^k for integral k in [-126, 127]. */
FR_INLINE fr_vec fr_pow2i(fr_vec k)
{
    __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
}

FR_INLINE fr_dacc fr_dacc_zero(void) { return (fr_dacc){_mm256_setzero_pd(), _mm256_setzero_pd()}; }
FR_INLINE fr_dacc fr_dacc_add(fr_dacc acc, fr_vec v)
{
    acc.lo = _mm256_add_pd(acc.lo, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    acc.hi = _mm256_add_pd(acc.hi, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
    return acc;
}
FR_INLINE void fr_dacc_store(double *out, fr_dacc acc)
{
    _mm256_storeu_pd(out, acc.lo);
    _mm256_storeu_pd(out + 4, acc.hi);
}
FR_INLINE fr_dacc fr_dacc_load(const double *in)
{
    return (fr_dacc){_mm256_loadu_pd(in), _mm256_loadu_pd(in + 4)};
}
FR_INLINE fr_dacc fr_dacc_merge(fr_dacc a, fr_dacc b)
{
    return (fr_dacc){_mm256_add_pd(a.lo, b.lo), _mm256_add_pd(a.hi, b.hi)};
}
/* The sum of every lane, added pairwise (a fixed order, so the same on every call). */
FR_INLINE double fr_dacc_sum(fr_dacc acc)
{
    __m256d v = _mm256_add_pd(acc.lo, acc.hi);
    __m128d h = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
}
/* The sums of four accumulators' lanes, pairwise, each rounded once into out[0..3]. */
FR_INLINE void fr_dacc_sum4(fr_dacc a, fr_dacc b, fr_dacc c, fr_dacc d, float *out)
{
    __m256d ab = _mm256_hadd_pd(_mm256_add_pd(a.lo, a.hi), _mm256_add_pd(b.lo, b.hi));
    __m256d cd = _mm256_hadd_pd(_mm256_add_pd(c.lo, c.hi), _mm256_add_pd(d.lo, d.hi));
    /* ab = a01 b01 a23 b23, cd likewise: add the halves crosswise. */
    __m256d s = _mm256_add_pd(_mm256_permute2f128_pd(ab, cd, 0x21), _mm256_blend_pd(ab, cd, 0xC));
    _mm_storeu_ps(out, _mm256_cvtpd_ps(s));
}
/*
 * Lane j = the sum of r[j]'s 8 lanes, pairwise: lane l + lane l+4, then
 * 0+2 and 1+3, then the two. u[k] holds rows k and 4+k as four floats each.
 */
FR_INLINE fr_vec fr_row_sums(const fr_vec *r)
{
    __m256 u[4];
    for (int k = 0; k < 4; k++)
        u[k] = _mm256_add_ps(_mm256_permute2f128_ps(r[k], r[4 + k], 0x20),
                             _mm256_permute2f128_ps(r[k], r[4 + k], 0x31));
    __m256 x01 = _mm256_add_ps(_mm256_unpacklo_ps(u[0], u[1]), _mm256_unpackhi_ps(u[0], u[1]));
    __m256 x23 = _mm256_add_ps(_mm256_unpacklo_ps(u[2], u[3]), _mm256_unpackhi_ps(u[2], u[3]));
    __m256d a = _mm256_castps_pd(x01), b = _mm256_castps_pd(x23);
    return _mm256_add_ps(_mm256_castpd_ps(_mm256_unpacklo_pd(a, b)),
                         _mm256_castpd_ps(_mm256_unpackhi_pd(a, b)));
}

/*
 * For exp-style kernels: n = magic + k holds the integer k in its low mantissa
 * bits, so adding bits(n) << 23 (or << 20 for k/8 steps with a 3-bit index
 * below) to a float's bits multiplies it by 2^k, exactly while it stays normal.
 */
#define FR_HAVE_FMA 1
FR_INLINE fr_vec fr_add_shl23(fr_vec a, fr_vec n)
{
    __m256i s = _mm256_slli_epi32(_mm256_castps_si256(n), 23);
    return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(a), s));
}
FR_INLINE fr_vec fr_add_shl20(fr_vec a, fr_vec n)
{
    __m256i s = _mm256_slli_epi32(_mm256_castps_si256(n), 20);
    return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(a), s));
}

/* An 8-entry table t[bits(n) & 7], held as (lo, hi); one VPERMPS of lo. */
#define FR_HAVE_LUT8 1
FR_INLINE fr_vec fr_lut8_lo(const float *t) { return _mm256_loadu_ps(t); }
FR_INLINE fr_vec fr_lut8_hi(const float *t)
{
    (void)t;
    return _mm256_setzero_ps();
}
FR_INLINE fr_vec fr_lut8(fr_vec lo, fr_vec hi, fr_vec n)
{
    (void)hi;
    return _mm256_permutevar8x32_ps(lo, _mm256_castps_si256(n));
}

#endif
