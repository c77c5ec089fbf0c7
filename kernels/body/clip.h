/* Clipped ReLU: y = (x < lo) ? lo : (x > hi) ? hi : x;  dx = (x <= lo || x >= hi) ? +0 : dy. */

/* Since lo <= hi, max_ab(lo, min_ab(hi, x)) is the reference's expression, NaN and zeros included. */
FR_INLINE fr_vec fr_clip_fwd_v(fr_vec x, fr_params p)
{
    return fr_max_ab(p.a, fr_min_ab(p.b, x));
}

/* Zeroed twice rather than once by the OR of the two masks: with AVX-512 mask
 * registers that OR and its negation were two more ops per vector. */
FR_INLINE fr_vec fr_clip_bwd_v(fr_vec dy, fr_vec x, fr_params p)
{
    return fr_zero_if(fr_ge(x, p.b), fr_zero_if(fr_le(x, p.a), dy));
}

FR_INLINE void fr_clip_fwd(FR_PARAMS_unary_ab, int stream)
{
    fr_map1(x, y, n, fr_params2(lo, hi), fr_clip_fwd_v, stream);
}

FR_INLINE void fr_clip_bwd(FR_PARAMS_binary_ab, int stream)
{
    fr_map2(dy, x, dx, n, fr_params2(lo, hi), fr_clip_bwd_v, stream);
}
