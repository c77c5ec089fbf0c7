/*
 * ELU: y = (x > 0) ? x : alpha * expm1(x);  dx = (x > 0) ? dy : dy * (alpha * exp(x)).
 *
 * x = k*ln2 + r with k integral and |r| <= ln2/2 (Cody-Waite: ln2 split in a
 * part with trailing zero bits, so k*ln2_hi is exact, and the rest), then
 * expm1(r) from its degree-8 Taylor polynomial, whose truncation error on
 * that interval is below 1e-9 relative.
 */

#define FR_LOG2E 1.44269504088896341f
#define FR_LN2_HI 0.693145751953125f        /* 0x3f317200 */
#define FR_LN2_LO 1.42860682030941723212e-6f
/* Adding and subtracting 1.5 * 2^23 rounds |v| < 2^22 to the nearest integer. */
#define FR_ROUND_MAGIC 12582912.0f

/* round(x / ln2) */
FR_INLINE fr_vec fr_exp_k(fr_vec x)
{
    fr_vec magic = fr_set1(FR_ROUND_MAGIC);
    return fr_sub(fr_fmadd(x, fr_set1(FR_LOG2E), magic), magic);
}

/* x - k * ln2 */
FR_INLINE fr_vec fr_exp_r(fr_vec x, fr_vec k)
{
    return fr_fmadd(k, fr_set1(-FR_LN2_LO), fr_fmadd(k, fr_set1(-FR_LN2_HI), x));
}

/* expm1(r) for |r| <= ln2/2 (and accurate enough a little beyond) */
FR_INLINE fr_vec fr_expm1_poly(fr_vec r)
{
    fr_vec q = fr_set1(1.0f / 40320.0f);
    q = fr_fmadd(q, r, fr_set1(1.0f / 5040.0f));
    q = fr_fmadd(q, r, fr_set1(1.0f / 720.0f));
    q = fr_fmadd(q, r, fr_set1(1.0f / 120.0f));
    q = fr_fmadd(q, r, fr_set1(1.0f / 24.0f));
    q = fr_fmadd(q, r, fr_set1(1.0f / 6.0f));
    q = fr_fmadd(q, r, fr_set1(0.5f));
    return fr_fmadd(fr_mul(r, r), q, r);
}

/*
 * expm1(x) = 2^k * expm1(r) + (2^k - 1). Below x = -18 expm1 is -1 in float;
 * k is kept >= -24 so that 2^k - 1 stays exact, r then grows past ln2/2 but
 * its error is scaled by 2^-24. max_ab(c, x) returns x when x is NaN.
 */
FR_INLINE fr_vec fr_elu_fwd_v(fr_vec x, fr_params p)
{
    fr_vec xc = fr_max_ab(fr_set1(-18.0f), x);
    fr_vec k = fr_max_ab(fr_set1(-24.0f), fr_exp_k(xc));
    fr_vec s = fr_pow2i(k);
    fr_vec em1 = fr_fmadd(s, fr_expm1_poly(fr_exp_r(xc, k)), fr_sub(s, fr_set1(1.0f)));
    em1 = fr_select(fr_eq(x, fr_set1(0.0f)), x, em1); /* expm1(-0) = -0 */
    return fr_select(fr_gt(x, fr_set1(0.0f)), x, fr_mul(p.a, em1));
}

/*
 * alpha * exp(x) = ((alpha * (exp(r) * 2^k1)) * 2^k2) * 2^k3 with
 * k1 = max(k, -125), so exp(r) * 2^k1 is an exact normal float at most 1 and
 * the product with alpha cannot overflow; the rest of k, down to -153, is
 * applied in two steps that each fit a normal power of two. x is clamped at
 * -193 (k >= -278): below it |alpha| * exp(x) < 2^-150 for every finite float
 * alpha, which rounds to 0 as the clamped value does.
 */
FR_INLINE fr_vec fr_elu_bwd_v(fr_vec dy, fr_vec x, fr_params p)
{
    fr_vec xc = fr_max_ab(fr_set1(-193.0f), x);
    fr_vec k = fr_exp_k(xc);
    fr_vec k1 = fr_max_ab(fr_set1(-125.0f), k);
    fr_vec er = fr_add(fr_expm1_poly(fr_exp_r(xc, k)), fr_set1(1.0f));
    fr_vec t = fr_mul(p.a, fr_mul(er, fr_pow2i(k1)));
    /* Only x below about -86.6 leaves a rest of k; skip its two steps when no lane does. */
    if (!fr_all(fr_ge(k, fr_set1(-125.0f)))) {
        fr_vec rest = fr_sub(k, k1);
        fr_vec k2 = fr_max_ab(fr_set1(-126.0f), rest);
        t = fr_mul(fr_mul(t, fr_pow2i(k2)), fr_pow2i(fr_sub(rest, k2)));
    }
    return fr_select(fr_gt(x, fr_set1(0.0f)), dy, fr_mul(dy, t));
}

FR_INLINE void fr_elu_fwd(FR_PARAMS_unary_a, int stream)
{
    fr_map1(x, y, n, fr_params1(alpha), fr_elu_fwd_v, stream);
}

FR_INLINE void fr_elu_bwd(FR_PARAMS_binary_a, int stream)
{
    fr_map2(dy, x, dx, n, fr_params1(alpha), fr_elu_bwd_v, stream);
}
