/* ReLU: y = (x < 0) ? +0 : x;  dx = (x <= 0) ? +0 : dy. */

/* max(0, x) in the a > b ? a : b sense keeps -0 and NaN, as the reference does. */
FR_INLINE fr_vec fr_relu_fwd_v(fr_vec x, fr_params p)
{
    (void)p;
    return fr_max_ab(fr_set1(0.0f), x);
}

FR_INLINE fr_vec fr_relu_bwd_v(fr_vec dy, fr_vec x, fr_params p)
{
    (void)p;
    return fr_zero_if(fr_le(x, fr_set1(0.0f)), dy);
}

FR_INLINE void fr_relu_fwd(FR_PARAMS_unary, int stream)
{
    fr_map1(x, y, n, fr_params1(0.0f), fr_relu_fwd_v, stream);
}

FR_INLINE void fr_relu_bwd(FR_PARAMS_binary, int stream)
{
    fr_map2(dy, x, dx, n, fr_params1(0.0f), fr_relu_bwd_v, stream);
}
