/*
 * ELU: y = (x > 0) ? x : alpha * expm1(x);  dx = (x > 0) ? dy : dy * (alpha * exp(x)).
 *
 * Both directions reduce x = k*ln2/N + t with a "magic" add: fma(x, N/ln2,
 * 1.5*2^23) rounds x*N/ln2 to the nearest integer m and leaves m in the low
 * mantissa bits, so one FMA gives m, a subtraction gives it as a float, and
 * shifting the bits left puts the power of two into an exponent field
 * (fr_add_shl23/20 in the shims).
 *
 * Forward, N = 1: expm1(x) = 2^k expm1(t) + (2^k - 1) with |t| <= ln2/2 and a
 * degree-6 minimax polynomial. 2^k - 1 is exact for k = 0 and -1, where it
 * cancels against the first term, and alpha is folded in exactly as
 * alpha*2^k (an exponent add), so the only errors are the polynomial
 * (0.23 * 2^-24 relative), t's rounding, and the last FMA's rounding.
 * A table of 2^(j/8) would save two FMAs, but its entries' rounding errors
 * (up to 2^-25 relative) are amplified by the cancellation near x = 0 to
 * more than 2 ulp; with exact powers of two the forward stays within 1 ulp
 * for alpha = 1 on every float, within 2 for other alphas.
 *
 * Backward, N = 8 where the ISA has an 8-entry table lookup (fr_lut8):
 * alpha*exp(x) = (alpha*2^(j/8)) * 2^k * exp(t), |t| <= ln2/16, with
 * alpha*2^(j/8) tabled once per call and a degree-3 polynomial. exp has no
 * cancellation, so the table's rounding costs at most half an ulp. Without
 * fr_lut8 (SSE2) it uses N = 1 and the forward's polynomial.
 *
 * The fast paths cover the alphas and x of real use; the rest (tiny, zero or
 * negative alpha forward; tiny or huge alpha, x below -80 or NaN backward)
 * take slower paths with the same error bounds.
 */

#include <string.h>

#define FR_ELU_MAGIC 0x1.8p23f   /* 1.5 * 2^23: adding it rounds |v| < 2^22 to an integer */
#define FR_LOG2E 0x1.715476p+0f  /* 1/ln2 */
#define FR_LN2 0x1.62e430p-1f    /* ln2 to float: with FMA, t = x - k*ln2 is off by < 2e-9 * |k| */
#define FR_LN2_HI 0x1.62e400p-1f /* Cody-Waite: k*FR_LN2_HI is exact for |k| < 2^9 */
#define FR_LN2_LO 0x1.7f7d1cp-20f

/*
 * expm1(t) = t + t^2 * P(t) for |t| <= ln2/2 (fitted to 1.0005 * ln2/2, since
 * without FMA the rounding of x/ln2 can move t a little past it). P is the
 * degree-4 minimax polynomial for the relative error of expm1, coefficients
 * rounded to float one at a time with the rest refitted: 0.23 * 2^-24.
 * Estrin's scheme keeps the dependency chain short.
 */
FR_INLINE fr_vec fr_elu_expm1_p6(fr_vec t)
{
    fr_vec tt = fr_mul(t, t);
    fr_vec a = fr_fmadd(fr_set1(0x1.5554b4p-3f), t, fr_set1(0x1.fffffep-2f));
    fr_vec b = fr_fmadd(fr_set1(0x1.12254ap-7f), t, fr_set1(0x1.5556f2p-5f));
    fr_vec c = fr_fmadd(fr_set1(0x1.6b9c68p-10f), tt, b);
    return fr_fmadd(fr_fmadd(c, tt, a), tt, t);
}

/* x - k*ln2 for the integer-valued float k. */
FR_INLINE fr_vec fr_elu_reduce(fr_vec x, fr_vec k)
{
#if FR_HAVE_FMA
    /* The fused product is exact: the only error is ln2's rounding times k,
     * scaled by 2^k in the result, far below its ulp for the k used here. */
    return fr_fmadd(k, fr_set1(-FR_LN2), x);
#else
    return fr_fmadd(k, fr_set1(-FR_LN2_LO), fr_fmadd(k, fr_set1(-FR_LN2_HI), x));
#endif
}

/* ---- forward ------------------------------------------------------------ */

/*
 * x for x >= 0 (right for alpha > 0: alpha * ±0 = ±0); otherwise
 * a * expm1(x) = s*expm1(t) + (s - a) with s = a*2^k. a*2^k must stay normal
 * for k >= -27: a >= 2^-99. Below x = -18.5 (k = -27) the result is -a in
 * float, and the clamped value rounds to exactly -a. max_ab(c, x) keeps a NaN x.
 */
FR_INLINE fr_vec fr_elu_fwd_core(fr_vec x, fr_vec a)
{
    fr_vec magic = fr_set1(FR_ELU_MAGIC);
    fr_vec z = fr_max_ab(fr_set1(-18.5f), x);
    fr_vec n = fr_fmadd(z, fr_set1(FR_LOG2E), magic);
    fr_vec s = fr_add_shl23(a, n);
    fr_vec q = fr_elu_expm1_p6(fr_elu_reduce(z, fr_sub(n, magic)));
    fr_vec e = fr_fmadd(s, q, fr_sub(s, a));
    return fr_select(fr_ge(x, fr_set1(0.0f)), x, e);
}

FR_INLINE fr_vec fr_elu_fwd_v(fr_vec x, fr_params p) { return fr_elu_fwd_core(x, p.a); }

/* Any other alpha: expm1(x) first (x itself for x >= 0), then times alpha. */
FR_INLINE fr_vec fr_elu_fwd_any_alpha_v(fr_vec x, fr_params p)
{
    fr_vec e = fr_elu_fwd_core(x, fr_set1(1.0f));
    return fr_select(fr_gt(x, fr_set1(0.0f)), x, fr_mul(p.a, e));
}

/*
 * Ordinary stores at every size, and no software prefetch: beyond the caches
 * this op's arithmetic spaces its stores out, and streaming them was slower.
 * Zen 5, fastrelu-bench at 64Mi, min of 3-4 in alternation, streaming with
 * prefetch (as ELU backward) against ordinary stores without: elu_f32/avx512
 * 16.8-17.3 -> 14.8-15.1 ms, /avx2 22.2-23.3 -> 16.5-17.0, /sse2 64.3 ->
 * 57.3; streaming without prefetch 17.1 ms and ordinary stores with it 18.2
 * (avx512). XNNPACK's ELU, which stores the same way, took 15.1-15.4 ms.
 */
FR_INLINE void fr_elu_fwd(FR_PARAMS_unary_a, int stream)
{
    (void)stream;
    if (alpha >= 0x1p-99f)
        fr_map1(x, y, n, fr_params1(alpha), fr_elu_fwd_v, 0);
    else
        fr_map1(x, y, n, fr_params1(alpha), fr_elu_fwd_any_alpha_v, 0);
}

/* ---- backward: every x and alpha ---------------------------------------- */

/*
 * alpha * exp(x) = ((alpha * (exp(t) * 2^k1)) * 2^k2) * 2^k3 with
 * k1 = max(k, -125), so exp(t) * 2^k1 is an exact normal float at most 1 and
 * the product with alpha cannot overflow; the rest of k, down to -153, is
 * applied in two steps that each fit a normal power of two. x is clamped at
 * -193 (k >= -278): below it |alpha| * exp(x) < 2^-150 for every finite float
 * alpha, which rounds to 0 as the clamped value does.
 */
FR_INLINE fr_vec fr_elu_bwd_wide_v(fr_vec dy, fr_vec x, fr_params p)
{
    fr_vec magic = fr_set1(FR_ELU_MAGIC);
    fr_vec xc = fr_max_ab(fr_set1(-193.0f), x);
    fr_vec k = fr_sub(fr_fmadd(xc, fr_set1(FR_LOG2E), magic), magic);
    fr_vec k1 = fr_max_ab(fr_set1(-125.0f), k);
    fr_vec t = fr_fmadd(k, fr_set1(-FR_LN2_LO), fr_fmadd(k, fr_set1(-FR_LN2_HI), xc));
    fr_vec er = fr_add(fr_elu_expm1_p6(t), fr_set1(1.0f));
    fr_vec f = fr_mul(p.a, fr_mul(er, fr_pow2i(k1)));
    /* Only x below about -86.6 leaves a rest of k; skip its two steps when no lane does. */
    if (!fr_all(fr_ge(k, fr_set1(-125.0f)))) {
        fr_vec rest = fr_sub(k, k1);
        fr_vec k2 = fr_max_ab(fr_set1(-126.0f), rest);
        f = fr_mul(fr_mul(f, fr_pow2i(k2)), fr_pow2i(fr_sub(rest, k2)));
    }
    return fr_select(fr_gt(x, fr_set1(0.0f)), dy, fr_mul(dy, f));
}

/* ---- backward: the fast path -------------------------------------------- */

/*
 * For x >= -80 (k >= -116) and 2^-10 <= |alpha| < 2^127 the scaled factor
 * below stays a normal float, so the exponent add is exact; other lanes'
 * garbage is discarded by the final select. Vectors with an x below -80 (or a
 * NaN) take fr_elu_bwd_wide_v.
 */
#define FR_ELU_BWD_FAST_X (-80.0f)

FR_INLINE int fr_elu_bwd_fast_alpha(float alpha)
{
    float m = alpha < 0.0f ? -alpha : alpha;
    return m >= 0x1p-10f && m < 0x1p127f;
}

#if FR_HAVE_LUT8
/* 2^(j/8) rounded to float. */
static const float fr_elu_exp2_eighths[8] = {
    0x1.000000p+0f, 0x1.172b84p+0f, 0x1.306fe0p+0f, 0x1.4bfdaep+0f,
    0x1.6a09e6p+0f, 0x1.8ace54p+0f, 0x1.ae89fap+0f, 0x1.d5818ep+0f,
};

/*
 * The table alpha*2^(j/8), minus j << 20 in its bits so that adding
 * bits(n) << 20 = (k << 23) + (j << 20) leaves alpha*2^(j/8)*2^k.
 */
FR_INLINE fr_params fr_elu_bwd_params(float alpha)
{
    float tab[8];
    for (uint32_t j = 0; j < 8; j++) {
        float v = alpha * fr_elu_exp2_eighths[j];
        uint32_t b;
        memcpy(&b, &v, sizeof b);
        b -= j << 20;
        memcpy(&tab[j], &b, sizeof b);
    }
    return (fr_params){fr_lut8_lo(tab), fr_lut8_hi(tab)};
}

/* Entry 0 is alpha * 1. */
FR_INLINE fr_vec fr_elu_bwd_alpha(fr_params p) { return fr_lut8(p.a, p.b, fr_set1(0.0f)); }

/*
 * exp(t) - 1 for |t| <= ln2/16: t + t^2 * (c2 + c3 t), minimax for the
 * relative error of exp(t) with c2 rounded to float and c3 refitted:
 * 0.43 * 2^-24. The backward still measures at most 1 ulp over every float x
 * (alpha 1, dy 1), and it saves degree 4's extra FMA per vector.
 */
FR_INLINE fr_vec fr_elu_expm1_p3(fr_vec t)
{
    fr_vec p = fr_fmadd(fr_set1(0x1.5556b8p-3f), t, fr_set1(0x1.000878p-1f));
    return fr_fmadd(p, fr_mul(t, t), t);
}

/* alpha * exp(x): m = round(8x/ln2) = 8k + j; ln2/8 in two parts, as k*ln2/8 reaches 80. */
FR_INLINE fr_vec fr_elu_bwd_factor(fr_vec x, fr_params p)
{
    fr_vec magic = fr_set1(FR_ELU_MAGIC);
    fr_vec n = fr_fmadd(x, fr_set1(0x1.715476p+3f), magic);
    fr_vec s = fr_add_shl20(fr_lut8(p.a, p.b, n), n);
    fr_vec m = fr_sub(n, magic);
    fr_vec t = fr_fmadd(m, fr_set1(0x1.05c610p-32f), fr_fmadd(m, fr_set1(-0x1.62e430p-4f), x));
    return fr_fmadd(s, fr_elu_expm1_p3(t), s);
}
#else
FR_INLINE fr_params fr_elu_bwd_params(float alpha) { return fr_params1(alpha); }
FR_INLINE fr_vec fr_elu_bwd_alpha(fr_params p) { return p.a; }

/* alpha * exp(x) = s + s*expm1(t) with s = alpha*2^k exact. */
FR_INLINE fr_vec fr_elu_bwd_factor(fr_vec x, fr_params p)
{
    fr_vec magic = fr_set1(FR_ELU_MAGIC);
    fr_vec n = fr_fmadd(x, fr_set1(FR_LOG2E), magic);
    fr_vec s = fr_add_shl23(p.a, n);
    fr_vec k = fr_sub(n, magic);
    fr_vec t = fr_fmadd(k, fr_set1(-FR_LN2_LO), fr_fmadd(k, fr_set1(-FR_LN2_HI), x));
    return fr_fmadd(s, fr_elu_expm1_p6(t), s);
}
#endif

/*
 * A vector with a lane below -80 (or a NaN) runs both paths and keeps the
 * fast one's result in the lanes it covers: each lane's result then depends
 * on that lane alone, so ISAs of different widths agree bit for bit.
 */
FR_INLINE fr_vec fr_elu_bwd_v(fr_vec dy, fr_vec x, fr_params p)
{
    fr_mask fast = fr_ge(x, fr_set1(FR_ELU_BWD_FAST_X));
    fr_vec r = fr_select(fr_gt(x, fr_set1(0.0f)), dy, fr_mul(dy, fr_elu_bwd_factor(x, p)));
    if (__builtin_expect(!fr_all(fast), 0)) {
        fr_vec a = fr_elu_bwd_alpha(p);
        r = fr_select(fast, r, fr_elu_bwd_wide_v(dy, x, (fr_params){a, a}));
    }
    return r;
}

FR_INLINE void fr_elu_bwd(FR_PARAMS_binary_a, int stream)
{
    if (fr_elu_bwd_fast_alpha(alpha))
        fr_map2_as(dy, x, dx, n, fr_elu_bwd_params(alpha), fr_elu_bwd_v, stream, 1);
    else
        fr_map2_as(dy, x, dx, n, fr_params1(alpha), fr_elu_bwd_wide_v, stream, 1);
}
