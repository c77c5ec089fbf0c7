/* NEON (AArch64) shim: 4 float lanes; masks are all-ones/all-zeros lanes. */
#ifndef FR_SIMD_NEON_H
#define FR_SIMD_NEON_H

#include <arm_neon.h>
#include <stddef.h>

#define FR_LANES 4
#define FR_INLINE static inline __attribute__((always_inline))

typedef float32x4_t fr_vec;
typedef uint32x4_t fr_mask;
typedef struct { float64x2_t lo, hi; } fr_dacc;

FR_INLINE fr_vec fr_loadu(const float *p) { return vld1q_f32(p); }
FR_INLINE void fr_storeu(float *p, fr_vec v) { vst1q_f32(p, v); }
/* NEON has no non-temporal store intrinsic: the table has no streaming twin. */
#define FR_HAVE_STREAM 0
FR_INLINE void fr_stream(float *p, fr_vec v) { vst1q_f32(p, v); }
FR_INLINE void fr_stream_fence(void) {}
FR_INLINE fr_vec fr_set1(float a) { return vdupq_n_f32(a); }
/* Lane l = p[l % period] for a power-of-two period <= FR_LANES; reads p[0, period) only. */
FR_INLINE fr_vec fr_repeat(const float *p, size_t period)
{
    switch (period) {
    case 1: return vdupq_n_f32(*p);
    case 2: return vcombine_f32(vld1_f32(p), vld1_f32(p));
    default: return vld1q_f32(p);
    }
}
/* Lane l = a[l / inner] for a power-of-two 1 < inner < FR_LANES: each of the first
 * FR_LANES / inner lanes of a, repeated inner times. */
FR_INLINE fr_vec fr_expand(fr_vec a, size_t inner)
{
    (void)inner; /* 2, the only one */
    return vzip1q_f32(a, a);
}

#include "stack_tail.h"

FR_INLINE fr_vec fr_add(fr_vec a, fr_vec b) { return vaddq_f32(a, b); }
FR_INLINE fr_vec fr_sub(fr_vec a, fr_vec b) { return vsubq_f32(a, b); }
FR_INLINE fr_vec fr_mul(fr_vec a, fr_vec b) { return vmulq_f32(a, b); }
FR_INLINE fr_vec fr_fmadd(fr_vec a, fr_vec b, fr_vec c) { return vfmaq_f32(c, a, b); }

/* Ordered comparisons: false when either side is NaN. */
FR_INLINE fr_mask fr_gt(fr_vec a, fr_vec b) { return vcgtq_f32(a, b); }
FR_INLINE fr_mask fr_le(fr_vec a, fr_vec b) { return vcleq_f32(a, b); }
FR_INLINE fr_mask fr_ge(fr_vec a, fr_vec b) { return vcgeq_f32(a, b); }
FR_INLINE fr_mask fr_eq(fr_vec a, fr_vec b) { return vceqq_f32(a, b); }
/* Nonzero when every lane of m is set. */
FR_INLINE int fr_all(fr_mask m) { return vminvq_u32(m) != 0; }

/* m ? a : b */
FR_INLINE fr_vec fr_select(fr_mask m, fr_vec a, fr_vec b) { return vbslq_f32(m, a, b); }
/* m ? +0 : b */
FR_INLINE fr_vec fr_zero_if(fr_mask m, fr_vec b)
{
    return vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(b), m));
}
/* Not vmaxq/vminq: they propagate NaN and prefer +0, where the reference returns b. */
/* NEON's ops take no memory operands: nothing to keep apart (see avx2.h). */
FR_INLINE fr_vec fr_in_reg(fr_vec v) { return v; }
FR_INLINE fr_vec fr_max_ab(fr_vec a, fr_vec b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }
FR_INLINE fr_vec fr_min_ab(fr_vec a, fr_vec b) { return vbslq_f32(vcltq_f32(a, b), a, b); }

/* 2^k for integral k in [-126, 127]. */
FR_INLINE fr_vec fr_pow2i(fr_vec k)
{
    int32x4_t e = vaddq_s32(vcvtq_s32_f32(k), vdupq_n_s32(127));
    return vreinterpretq_f32_s32(vshlq_n_s32(e, 23));
}

FR_INLINE fr_dacc fr_dacc_zero(void) { return (fr_dacc){vdupq_n_f64(0.0), vdupq_n_f64(0.0)}; }
FR_INLINE fr_dacc fr_dacc_add(fr_dacc acc, fr_vec v)
{
    acc.lo = vaddq_f64(acc.lo, vcvt_f64_f32(vget_low_f32(v)));
    acc.hi = vaddq_f64(acc.hi, vcvt_high_f64_f32(v));
    return acc;
}
FR_INLINE void fr_dacc_store(double *out, fr_dacc acc)
{
    vst1q_f64(out, acc.lo);
    vst1q_f64(out + 2, acc.hi);
}
FR_INLINE fr_dacc fr_dacc_load(const double *in)
{
    return (fr_dacc){vld1q_f64(in), vld1q_f64(in + 2)};
}
FR_INLINE fr_dacc fr_dacc_merge(fr_dacc a, fr_dacc b)
{
    return (fr_dacc){vaddq_f64(a.lo, b.lo), vaddq_f64(a.hi, b.hi)};
}
/* The sum of every lane, added pairwise (a fixed order, so the same on every call). */
FR_INLINE double fr_dacc_sum(fr_dacc acc) { return vaddvq_f64(vaddq_f64(acc.lo, acc.hi)); }
/* The sums of four accumulators' lanes, pairwise, each rounded once into out[0..3]. */
FR_INLINE void fr_dacc_sum4(fr_dacc a, fr_dacc b, fr_dacc c, fr_dacc d, float *out)
{
    float64x2_t ab = vpaddq_f64(vaddq_f64(a.lo, a.hi), vaddq_f64(b.lo, b.hi));
    float64x2_t cd = vpaddq_f64(vaddq_f64(c.lo, c.hi), vaddq_f64(d.lo, d.hi));
    vst1q_f32(out, vcombine_f32(vcvt_f32_f64(ab), vcvt_f32_f64(cd)));
}
/* Lane j = the sum of r[j]'s 4 lanes: 0+1 and 2+3, then the two. */
FR_INLINE fr_vec fr_row_sums(const fr_vec *r)
{
    return vpaddq_f32(vpaddq_f32(r[0], r[1]), vpaddq_f32(r[2], r[3]));
}

/*
 * For exp-style kernels: n = magic + k holds the integer k in its low mantissa
 * bits, so adding bits(n) << 23 (or << 20 for k/8 steps with a 3-bit index
 * below) to a float's bits multiplies it by 2^k, exactly while it stays normal.
 */
#define FR_HAVE_FMA 1
FR_INLINE fr_vec fr_add_shl23(fr_vec a, fr_vec n)
{
    uint32x4_t s = vshlq_n_u32(vreinterpretq_u32_f32(n), 23);
    return vreinterpretq_f32_u32(vaddq_u32(vreinterpretq_u32_f32(a), s));
}
FR_INLINE fr_vec fr_add_shl20(fr_vec a, fr_vec n)
{
    uint32x4_t s = vshlq_n_u32(vreinterpretq_u32_f32(n), 20);
    return vreinterpretq_f32_u32(vaddq_u32(vreinterpretq_u32_f32(a), s));
}

/*
 * An 8-entry table t[bits(n) & 7], held as (lo, hi) = t[0..3], t[4..7]: TBL
 * over the 32 bytes, with byte indices 4j, 4j+1, 4j+2, 4j+3 built from j.
 */
#define FR_HAVE_LUT8 1
FR_INLINE fr_vec fr_lut8_lo(const float *t) { return vld1q_f32(t); }
FR_INLINE fr_vec fr_lut8_hi(const float *t) { return vld1q_f32(t + 4); }
FR_INLINE fr_vec fr_lut8(fr_vec lo, fr_vec hi, fr_vec n)
{
    uint8x16x2_t tab = {{vreinterpretq_u8_f32(lo), vreinterpretq_u8_f32(hi)}};
    uint32x4_t j = vandq_u32(vreinterpretq_u32_f32(n), vdupq_n_u32(7));
    uint32x4_t idx = vmlaq_u32(vdupq_n_u32(0x03020100u), j, vdupq_n_u32(0x04040404u));
    return vreinterpretq_f32_u8(vqtbl2q_u8(tab, vreinterpretq_u8_u32(idx)));
}

#endif
