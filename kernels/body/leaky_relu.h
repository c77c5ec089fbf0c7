/* Leaky ReLU: y = (x > 0) ? x : x * alpha;  dx = (x > 0) ? dy : dy * alpha. */

FR_INLINE fr_vec fr_leaky_v(fr_vec x, fr_vec alpha)
{
    return fr_select(fr_gt(x, fr_set1(0.0f)), x, fr_mul(x, alpha));
}

FR_INLINE fr_vec fr_leaky_grad_v(fr_vec dy, fr_vec x, fr_vec alpha)
{
    return fr_select(fr_gt(x, fr_set1(0.0f)), dy, fr_mul(dy, alpha));
}

FR_INLINE fr_vec fr_leaky_relu_fwd_v(fr_vec x, fr_params p) { return fr_leaky_v(x, p.a); }

FR_INLINE fr_vec fr_leaky_relu_bwd_v(fr_vec dy, fr_vec x, fr_params p)
{
    return fr_leaky_grad_v(dy, x, p.a);
}

FR_INLINE void fr_leaky_relu_fwd(FR_PARAMS_unary_a, int stream)
{
    fr_map1(x, y, n, fr_params1(alpha), fr_leaky_relu_fwd_v, stream);
}

FR_INLINE void fr_leaky_relu_bwd(FR_PARAMS_binary_a, int stream)
{
    fr_map2(dy, x, dx, n, fr_params1(alpha), fr_leaky_relu_bwd_v, stream);
}
