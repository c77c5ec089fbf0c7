/* AVX-512 (F, BW, DQ, VL) shim: 16 float lanes; masks are k-registers. */
#ifndef FR_SIMD_AVX512_H
#define FR_SIMD_AVX512_H

#include <immintrin.h>
#include <stddef.h>

#define FR_LANES 16
#define FR_INLINE static inline __attribute__((always_inline))

typedef __m512 fr_vec;
typedef __mmask16 fr_mask;
typedef struct { __m512d lo, hi; } fr_dacc;

FR_INLINE fr_vec fr_loadu(const float *p) { return _mm512_loadu_ps(p); }
FR_INLINE void fr_storeu(float *p, fr_vec v) { _mm512_storeu_ps(p, v); }
/* Non-temporal store of a whole vector to a vector-aligned p; fr_stream_fence orders them. */
#define FR_HAVE_STREAM 1
FR_INLINE void fr_stream(float *p, fr_vec v) { _mm512_stream_ps(p, v); }
FR_INLINE void fr_stream_fence(void) { _mm_sfence(); }
FR_INLINE fr_vec fr_set1(float a) { return _mm512_set1_ps(a); }
/* Lane l = p[l % period] for a power-of-two period <= FR_LANES; reads p[0, period) only. */
FR_INLINE fr_vec fr_repeat(const float *p, size_t period)
{
    switch (period) {
    case 1: return _mm512_set1_ps(*p);
    case 2:
        return _mm512_castsi512_ps(_mm512_broadcastq_epi64(_mm_loadl_epi64((const __m128i *)p)));
    case 4: return _mm512_broadcast_f32x4(_mm_loadu_ps(p));
    case 8: return _mm512_broadcast_f32x8(_mm256_loadu_ps(p));
    default: return _mm512_loadu_ps(p);
    }
}
/* Lane l = a[l / inner] for a power-of-two 1 < inner < FR_LANES: each of the first
 * FR_LANES / inner lanes of a, repeated inner times. */
FR_INLINE fr_vec fr_expand(fr_vec a, size_t inner)
{
    __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    __m512i idx = _mm512_srl_epi32(lane, _mm_cvtsi32_si128(__builtin_ctzll(inner)));
    return _mm512_permutexvar_ps(idx, a);
}

/* Lane l of table[f[l]] for f in [0, FR_LANES), truncated to an index. PReLU takes NCHW
 * rows shorter than FR_PICK_ROWS floats (all its short rows) FR_LANES at once with it
 * (prelu.h). */
#define FR_PICK_ROWS 128
FR_INLINE fr_vec fr_pick(fr_vec table, fr_vec f)
{
    return _mm512_permutexvar_ps(_mm512_cvttps_epi32(f), table);
}

/* Lanes [0, n), n <= FR_LANES. */
FR_INLINE fr_mask fr_lanes_below(size_t n) { return (fr_mask)((1u << n) - 1u); }

/* Masked-off lanes of a masked move never fault, so tails stay inside [0, n). */
FR_INLINE fr_vec fr_load_part(const float *p, size_t n)
{
    return _mm512_maskz_loadu_ps(fr_lanes_below(n), p);
}
FR_INLINE void fr_store_part(float *p, fr_vec v, size_t n)
{
    _mm512_mask_storeu_ps(p, fr_lanes_below(n), v);
}

FR_INLINE fr_vec fr_add(fr_vec a, fr_vec b) { return _mm512_add_ps(a, b); }
FR_INLINE fr_vec fr_sub(fr_vec a, fr_vec b) { return _mm512_sub_ps(a, b); }
FR_INLINE fr_vec fr_mul(fr_vec a, fr_vec b) { return _mm512_mul_ps(a, b); }
FR_INLINE fr_vec fr_fmadd(fr_vec a, fr_vec b, fr_vec c) { return _mm512_fmadd_ps(a, b, c); }

/* Ordered comparisons: false when either side is NaN. */
FR_INLINE fr_mask fr_gt(fr_vec a, fr_vec b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
FR_INLINE fr_mask fr_le(fr_vec a, fr_vec b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
FR_INLINE fr_mask fr_ge(fr_vec a, fr_vec b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
FR_INLINE fr_mask fr_eq(fr_vec a, fr_vec b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
/* Nonzero when every lane of m is set. */
FR_INLINE int fr_all(fr_mask m) { return m == 0xFFFF; }

/* m ? a : b */
FR_INLINE fr_vec fr_select(fr_mask m, fr_vec a, fr_vec b) { return _mm512_mask_blend_ps(m, b, a); }
/*
 * m ? +0 : b. The empty asm keeps b opaque: otherwise the compiler folds the
 * move into a zero-masking load of b, and that load then waits for m's
 * compare; with the two input streams serialised so, relu and clip backward
 * ran at half speed from DRAM.
 */
FR_INLINE fr_vec fr_zero_if(fr_mask m, fr_vec b)
{
    __asm__("" : "+v"(b));
    return _mm512_maskz_mov_ps((fr_mask)~m, b);
}
/* VMAXPS/VMINPS are exactly a > b ? a : b and a < b ? a : b, NaN and zeros included. */
/* v as a register value: GCC otherwise may load a vector used twice twice, once into an
 * op's memory operand (PReLU's max form on AVX2: 3 loads a vector where 2 do). */
FR_INLINE fr_vec fr_in_reg(fr_vec v)
{
    __asm__("" : "+v"(v));
    return v;
}
FR_INLINE fr_vec fr_max_ab(fr_vec a, fr_vec b) { return _mm512_max_ps(a, b); }
FR_INLINE fr_vec fr_min_ab(fr_vec a, fr_vec b) { return _mm512_min_ps(a, b); }

/* 2^k for integral k in [-126, 127]. */
FR_INLINE fr_vec fr_pow2i(fr_vec k)
{
    __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(k), _mm512_set1_epi32(127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
}

FR_INLINE fr_dacc fr_dacc_zero(void) { return (fr_dacc){_mm512_setzero_pd(), _mm512_setzero_pd()}; }
FR_INLINE fr_dacc fr_dacc_add(fr_dacc acc, fr_vec v)
{
    acc.lo = _mm512_add_pd(acc.lo, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
    acc.hi = _mm512_add_pd(acc.hi, _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1)));
    return acc;
}
FR_INLINE void fr_dacc_store(double *out, fr_dacc acc)
{
    _mm512_storeu_pd(out, acc.lo);
    _mm512_storeu_pd(out + 8, acc.hi);
}
FR_INLINE fr_dacc fr_dacc_load(const double *in)
{
    return (fr_dacc){_mm512_loadu_pd(in), _mm512_loadu_pd(in + 8)};
}
FR_INLINE fr_dacc fr_dacc_merge(fr_dacc a, fr_dacc b)
{
    return (fr_dacc){_mm512_add_pd(a.lo, b.lo), _mm512_add_pd(a.hi, b.hi)};
}
/* The sum of every lane, added pairwise (a fixed order, so the same on every call). */
FR_INLINE double fr_dacc_sum(fr_dacc acc) { return _mm512_reduce_add_pd(_mm512_add_pd(acc.lo, acc.hi)); }
/*
 * The sums of four accumulators' lanes, pairwise, each rounded once into
 * out[0..3]: quarters of a and b (and of c and d) share one add, then
 * quarters of all four, then the two lanes left in each quarter.
 */
FR_INLINE void fr_dacc_sum4(fr_dacc a, fr_dacc b, fr_dacc c, fr_dacc d, float *out)
{
    __m512d a8 = _mm512_add_pd(a.lo, a.hi), b8 = _mm512_add_pd(b.lo, b.hi);
    __m512d c8 = _mm512_add_pd(c.lo, c.hi), d8 = _mm512_add_pd(d.lo, d.hi);
    __m512d ab = _mm512_add_pd(_mm512_shuffle_f64x2(a8, b8, 0x44), _mm512_shuffle_f64x2(a8, b8, 0xEE));
    __m512d cd = _mm512_add_pd(_mm512_shuffle_f64x2(c8, d8, 0x44), _mm512_shuffle_f64x2(c8, d8, 0xEE));
    __m512d q = _mm512_add_pd(_mm512_shuffle_f64x2(ab, cd, 0x88), _mm512_shuffle_f64x2(ab, cd, 0xDD));
    __m512d s = _mm512_add_pd(q, _mm512_permute_pd(q, 0x55)); /* each lane: its pair's sum */
    __m256i even = _mm256_setr_epi32(0, 2, 4, 6, 0, 0, 0, 0);
    __m256 f = _mm256_permutevar8x32_ps(_mm512_cvtpd_ps(s), even);
    _mm_storeu_ps(out, _mm256_castps256_ps128(f));
}
/*
 * Lane j = the sum of r[j]'s 16 lanes, pairwise: lane l + lane l+8, then
 * those + the ones 4 lanes on, then the four left in pairs (0+2, 1+3, and the
 * two). Sixteen rows in 15 adds: w[k] holds rows k, 4+k, 8+k and 12+k as
 * four floats each, and the last two steps put row 4b + k in lane 4b + k.
 */
FR_INLINE fr_vec fr_row_sums(const fr_vec *r)
{
    __m512 w[4];
    for (int k = 0; k < 4; k++) {
        __m512 u[2];
        for (int h = 0; h < 2; h++) {
            __m512 p = r[8 * h + k], q = r[8 * h + 4 + k];
            u[h] = _mm512_add_ps(_mm512_shuffle_f32x4(p, q, 0x44), _mm512_shuffle_f32x4(p, q, 0xEE));
        }
        w[k] = _mm512_add_ps(_mm512_shuffle_f32x4(u[0], u[1], 0x88),
                             _mm512_shuffle_f32x4(u[0], u[1], 0xDD));
    }
    __m512 x01 = _mm512_add_ps(_mm512_unpacklo_ps(w[0], w[1]), _mm512_unpackhi_ps(w[0], w[1]));
    __m512 x23 = _mm512_add_ps(_mm512_unpacklo_ps(w[2], w[3]), _mm512_unpackhi_ps(w[2], w[3]));
    __m512d a = _mm512_castps_pd(x01), b = _mm512_castps_pd(x23);
    return _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(a, b)),
                         _mm512_castpd_ps(_mm512_unpackhi_pd(a, b)));
}

/*
 * For exp-style kernels: n = magic + k holds the integer k in its low mantissa
 * bits, so adding bits(n) << 23 (or << 20 for k/8 steps with a 3-bit index
 * below) to a float's bits multiplies it by 2^k, exactly while it stays normal.
 */
#define FR_HAVE_FMA 1
FR_INLINE fr_vec fr_add_shl23(fr_vec a, fr_vec n)
{
    __m512i s = _mm512_slli_epi32(_mm512_castps_si512(n), 23);
    return _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(a), s));
}
FR_INLINE fr_vec fr_add_shl20(fr_vec a, fr_vec n)
{
    __m512i s = _mm512_slli_epi32(_mm512_castps_si512(n), 20);
    return _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(a), s));
}

/*
 * An 8-entry table t[bits(n) & 7]. The table is held as (lo, hi) from
 * fr_lut8_lo/fr_lut8_hi; here lo alone, repeated so that VPERMPS's 4-bit index
 * can ignore bit 3.
 */
#define FR_HAVE_LUT8 1
FR_INLINE fr_vec fr_lut8_lo(const float *t) { return _mm512_broadcast_f32x8(_mm256_loadu_ps(t)); }
FR_INLINE fr_vec fr_lut8_hi(const float *t)
{
    (void)t;
    return _mm512_setzero_ps();
}
FR_INLINE fr_vec fr_lut8(fr_vec lo, fr_vec hi, fr_vec n)
{
    (void)hi;
    return _mm512_permutexvar_ps(_mm512_castps_si512(n), lo);
}

#endif
