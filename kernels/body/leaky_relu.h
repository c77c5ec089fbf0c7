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

/*
 * With alpha < 0 or 0 < alpha <= 1, (x > 0) ? x : x*alpha is max_ab(x, x*alpha);
 * with alpha > 1 it is min_ab(x, x*alpha): the larger (smaller) of the two is
 * the reference's choice for every x, and for ±0 and NaN both return x*alpha,
 * as the reference does. Two ops instead of a compare, a product and a select.
 * alpha = ±0 keeps the select: there x = +inf gives x*alpha = NaN, not x.
 */
FR_INLINE fr_vec fr_leaky_max_v(fr_vec x, fr_params p) { return fr_max_ab(x, fr_mul(x, p.a)); }
FR_INLINE fr_vec fr_leaky_min_v(fr_vec x, fr_params p) { return fr_min_ab(x, fr_mul(x, p.a)); }

FR_INLINE void fr_leaky_relu_fwd(FR_PARAMS_unary_a, int stream)
{
    fr_params p = fr_params1(alpha);
    if (alpha > 1.0f)
        fr_map1(x, y, n, p, fr_leaky_min_v, stream);
    else if (alpha != 0.0f)
        fr_map1(x, y, n, p, fr_leaky_max_v, stream);
    else
        fr_map1(x, y, n, p, fr_leaky_relu_fwd_v, stream);
}

FR_INLINE void fr_leaky_relu_bwd(FR_PARAMS_binary_a, int stream)
{
    fr_map2(dy, x, dx, n, fr_params1(alpha), fr_leaky_relu_bwd_v, stream);
}
