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

static void FR_NAME(leaky_relu, fwd)(const float *x, float *y, size_t n, float alpha)
{
    fr_map1(x, y, n, fr_params1(alpha), fr_leaky_relu_fwd_v);
}

static void FR_NAME(leaky_relu, bwd)(const float *dy, const float *x, float *dx, size_t n,
                                     float alpha)
{
    fr_map2(dy, x, dx, n, fr_params1(alpha), fr_leaky_relu_bwd_v);
}
