/* SSE2 shim: 4 float lanes; masks are all-ones/all-zeros lanes. */
#ifndef FR_SIMD_SSE2_H
#define FR_SIMD_SSE2_H

#include <emmintrin.h>
#include <stddef.h>

#define FR_LANES 4
#define FR_INLINE static inline __attribute__((always_inline))

typedef __m128 fr_vec;
typedef __m128 fr_mask;
typedef struct { __m128d lo, hi; } fr_dacc;

FR_INLINE fr_vec fr_loadu(const float *p) { return _mm_loadu_ps(p); }
FR_INLINE void fr_storeu(float *p, fr_vec v) { _mm_storeu_ps(p, v); }
/* Non-temporal store of a whole vector to a vector-aligned p; fr_stream_fence orders them. */
#define FR_HAVE_STREAM 1
FR_INLINE void fr_stream(float *p, fr_vec v) { _mm_stream_ps(p, v); }
FR_INLINE void fr_stream_fence(void) { _mm_sfence(); }
FR_INLINE fr_vec fr_set1(float a) { return _mm_set1_ps(a); }
/* Lane l = p[l % period] for a power-of-two period <= FR_LANES; reads p[0, period) only. */
FR_INLINE fr_vec fr_repeat(const float *p, size_t period)
{
    switch (period) {
    case 1: return _mm_set1_ps(*p);
    case 2:
        return _mm_castsi128_ps(_mm_shuffle_epi32(_mm_loadl_epi64((const __m128i *)p), 0x44));
    default: return _mm_loadu_ps(p);
    }
}
/* Lane l = a[l / inner] for a power-of-two 1 < inner < FR_LANES: each of the first
 * FR_LANES / inner lanes of a, repeated inner times. */
FR_INLINE fr_vec fr_expand(fr_vec a, size_t inner)
{
    (void)inner; /* 2, the only one */
    return _mm_unpacklo_ps(a, a);
}

/*
 * No masked moves: the n < FR_LANES floats of a tail go in and out in pieces
 * of one and two (MOVSS, MOVLPS), so no lane outside [0, n) is ever read or
 * written. Through a stack buffer (stack_tail.h, as NEON), fastrelu-bench's
 * prelu_7x7_backward_f32 (rows of 49 floats) took 9182 ns at 16Ki, and
 * 4336 so.
 */
FR_INLINE fr_vec fr_load_part(const float *p, size_t n)
{
    __m128 z = _mm_setzero_ps();
    switch (n) {
    case 1: return _mm_load_ss(p);
    case 2: return _mm_loadl_pi(z, (const __m64 *)p);
    case 3: return _mm_movelh_ps(_mm_loadl_pi(z, (const __m64 *)p), _mm_load_ss(p + 2));
    default: return z;
    }
}
FR_INLINE void fr_store_part(float *p, fr_vec v, size_t n)
{
    if (n & 2)
        _mm_storel_pi((__m64 *)p, v);
    if (n == 1)
        _mm_store_ss(p, v);
    else if (n == 3)
        _mm_store_ss(p + 2, _mm_movehl_ps(v, v));
}

FR_INLINE fr_vec fr_add(fr_vec a, fr_vec b) { return _mm_add_ps(a, b); }
FR_INLINE fr_vec fr_sub(fr_vec a, fr_vec b) { return _mm_sub_ps(a, b); }
FR_INLINE fr_vec fr_mul(fr_vec a, fr_vec b) { return _mm_mul_ps(a, b); }
/* No FMA here: a*b+c rounds twice (ELU's ulp bound allows for it). */
FR_INLINE fr_vec fr_fmadd(fr_vec a, fr_vec b, fr_vec c) { return _mm_add_ps(_mm_mul_ps(a, b), c); }

/* Ordered comparisons: false when either side is NaN. */
FR_INLINE fr_mask fr_gt(fr_vec a, fr_vec b) { return _mm_cmpgt_ps(a, b); }
FR_INLINE fr_mask fr_le(fr_vec a, fr_vec b) { return _mm_cmple_ps(a, b); }
FR_INLINE fr_mask fr_ge(fr_vec a, fr_vec b) { return _mm_cmpge_ps(a, b); }
FR_INLINE fr_mask fr_eq(fr_vec a, fr_vec b) { return _mm_cmpeq_ps(a, b); }
/* Nonzero when every lane of m is set. */
FR_INLINE int fr_all(fr_mask m) { return _mm_movemask_ps(m) == 0xF; }

/* m ? a : b */
FR_INLINE fr_vec fr_select(fr_mask m, fr_vec a, fr_vec b)
{
    return _mm_or_ps(_mm_and_ps(m, a), _mm_andnot_ps(m, b));
}
/* m ? +0 : b */
FR_INLINE fr_vec fr_zero_if(fr_mask m, fr_vec b) { return _mm_andnot_ps(m, b); }
/* MAXPS/MINPS are exactly a > b ? a : b and a < b ? a : b, NaN and zeros included. */
/* v as a register value: GCC otherwise may load a vector used twice twice, once into an
 * op's memory operand (PReLU's max form on AVX2: 3 loads a vector where 2 do). */
FR_INLINE fr_vec fr_in_reg(fr_vec v)
{
    __asm__("" : "+x"(v));
    return v;
}
FR_INLINE fr_vec fr_max_ab(fr_vec a, fr_vec b) { return _mm_max_ps(a, b); }
FR_INLINE fr_vec fr_min_ab(fr_vec a, fr_vec b) { return _mm_min_ps(a, b); }

/* 2^k for integral k in [-126, 127]. */
FR_INLINE fr_vec fr_pow2i(fr_vec k)
{
    __m128i e = _mm_add_epi32(_mm_cvtps_epi32(k), _mm_set1_epi32(127));
    return _mm_castsi128_ps(_mm_slli_epi32(e, 23));
}

FR_INLINE fr_dacc fr_dacc_zero(void) { return (fr_dacc){_mm_setzero_pd(), _mm_setzero_pd()}; }
FR_INLINE fr_dacc fr_dacc_add(fr_dacc acc, fr_vec v)
{
    acc.lo = _mm_add_pd(acc.lo, _mm_cvtps_pd(v));
    acc.hi = _mm_add_pd(acc.hi, _mm_cvtps_pd(_mm_movehl_ps(v, v)));
    return acc;
}
FR_INLINE void fr_dacc_store(double *out, fr_dacc acc)
{
    _mm_storeu_pd(out, acc.lo);
    _mm_storeu_pd(out + 2, acc.hi);
}
FR_INLINE fr_dacc fr_dacc_load(const double *in)
{
    return (fr_dacc){_mm_loadu_pd(in), _mm_loadu_pd(in + 2)};
}
FR_INLINE fr_dacc fr_dacc_merge(fr_dacc a, fr_dacc b)
{
    return (fr_dacc){_mm_add_pd(a.lo, b.lo), _mm_add_pd(a.hi, b.hi)};
}
/* The sum of every lane, added pairwise (a fixed order, so the same on every call). */
FR_INLINE double fr_dacc_sum(fr_dacc acc)
{
    __m128d h = _mm_add_pd(acc.lo, acc.hi);
    return _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
}
/* The sums of four accumulators' lanes, pairwise, each rounded once into out[0..3]. */
FR_INLINE void fr_dacc_sum4(fr_dacc a, fr_dacc b, fr_dacc c, fr_dacc d, float *out)
{
    __m128d a2 = _mm_add_pd(a.lo, a.hi), b2 = _mm_add_pd(b.lo, b.hi);
    __m128d c2 = _mm_add_pd(c.lo, c.hi), d2 = _mm_add_pd(d.lo, d.hi);
    __m128d ab = _mm_add_pd(_mm_unpacklo_pd(a2, b2), _mm_unpackhi_pd(a2, b2));
    __m128d cd = _mm_add_pd(_mm_unpacklo_pd(c2, d2), _mm_unpackhi_pd(c2, d2));
    _mm_storeu_ps(out, _mm_movelh_ps(_mm_cvtpd_ps(ab), _mm_cvtpd_ps(cd)));
}
/* Lane j = the sum of r[j]'s 4 lanes: 0+2 and 1+3, then the two. */
FR_INLINE fr_vec fr_row_sums(const fr_vec *r)
{
    __m128 t0 = _mm_add_ps(_mm_unpacklo_ps(r[0], r[1]), _mm_unpackhi_ps(r[0], r[1]));
    __m128 t1 = _mm_add_ps(_mm_unpacklo_ps(r[2], r[3]), _mm_unpackhi_ps(r[2], r[3]));
    return _mm_add_ps(_mm_movelh_ps(t0, t1), _mm_movehl_ps(t1, t0));
}

/*
 * For exp-style kernels: n = magic + k holds the integer k in its low mantissa
 * bits, so adding bits(n) << 23 (or << 20 for k/8 steps) to a float's bits
 * multiplies it by 2^k, exactly while it stays normal. SSE2 has neither FMA
 * nor a variable permute: no FR_HAVE_LUT8, and FR_HAVE_FMA is 0.
 */
#define FR_HAVE_FMA 0
#define FR_HAVE_LUT8 0
FR_INLINE fr_vec fr_add_shl23(fr_vec a, fr_vec n)
{
    __m128i s = _mm_slli_epi32(_mm_castps_si128(n), 23);
    return _mm_castsi128_ps(_mm_add_epi32(_mm_castps_si128(a), s));
}
FR_INLINE fr_vec fr_add_shl20(fr_vec a, fr_vec n)
{
    __m128i s = _mm_slli_epi32(_mm_castps_si128(n), 20);
    return _mm_castsi128_ps(_mm_add_epi32(_mm_castps_si128(a), s));
}

#endif
