/*
 * PReLU: Leaky ReLU with alpha[c] for element (o, c, i) at (o * channels + c) * inner + i.
 * Needs leaky_relu.h. Two layouts: inner == 1 (NHWC) runs across channels with
 * a vector of alphas; inner > 1 (NCHW) runs along each (o, c) row with one alpha.
 */

FR_INLINE fr_vec fr_prelu_nhwc_v(fr_vec alpha, fr_vec x, fr_params p)
{
    (void)p;
    return fr_leaky_v(x, alpha);
}

/* Rows are often short, so PReLU keeps ordinary stores: its twin ignores stream. */
FR_INLINE void fr_prelu_fwd(FR_PARAMS_prelu_fwd, int stream)
{
    (void)stream;
    if (inner == 1) {
        for (size_t o = 0; o < outer; o++)
            fr_map2(alpha, x + o * channels, y + o * channels, channels, fr_params1(0.0f),
                    fr_prelu_nhwc_v, 0);
        return;
    }
    for (size_t o = 0; o < outer; o++)
        for (size_t c = 0; c < channels; c++) {
            size_t base = (o * channels + c) * inner;
            fr_map1(x + base, y + base, inner, fr_params1(alpha[c]), fr_leaky_relu_fwd_v, 0);
        }
}

/* m <= FR_LANES floats: write dx (unless NULL) and add (x > 0 ? 0 : x*dy) to acc in double. */
FR_INLINE fr_dacc fr_prelu_bwd_step(const float *dy, const float *x, fr_vec alpha, float *dx,
                                    size_t m, fr_dacc acc)
{
    int full = m == FR_LANES;
    fr_vec g = full ? fr_loadu(dy) : fr_load_part(dy, m);
    fr_vec v = full ? fr_loadu(x) : fr_load_part(x, m);
    if (dx) {
        fr_vec d = fr_leaky_grad_v(g, v, alpha);
        if (full)
            fr_storeu(dx, d);
        else
            fr_store_part(dx, d, m);
    }
    /* Lanes past m hold x = dy = 0, which add 0. */
    return fr_dacc_add(acc, fr_zero_if(fr_gt(v, fr_set1(0.0f)), fr_mul(v, g)));
}

/* 2^24 terms per channel would lose all accuracy in a float sum, so it is kept in double. */
static void fr_prelu_bwd_rows(const float *dy, const float *x, const float *alpha, float *dx,
                              float *dalpha, size_t outer, size_t channels, size_t inner)
{
    for (size_t c = 0; c < channels; c++) {
        fr_vec a = fr_set1(alpha[c]);
        fr_dacc acc = fr_dacc_zero();
        for (size_t o = 0; o < outer; o++) {
            size_t base = (o * channels + c) * inner;
            for (size_t i = 0; i < inner; i += FR_LANES) {
                size_t m = inner - i < FR_LANES ? inner - i : FR_LANES;
                acc = fr_prelu_bwd_step(dy + base + i, x + base + i, a,
                                        dx ? dx + base + i : NULL, m, acc);
            }
        }
        /* Pairwise across the lanes: a chain of FR_LANES dependent adds per channel was the
         * bottleneck of short rows. */
        if (dalpha)
            dalpha[c] = (float)fr_dacc_sum(acc);
    }
}

/* inner == 1: FR_LANES channels at a time, each lane summing its own channel down the rows. */
static void fr_prelu_bwd_nhwc(const float *dy, const float *x, const float *alpha, float *dx,
                              float *dalpha, size_t outer, size_t channels)
{
    double lanes[FR_LANES];
    for (size_t c = 0; c < channels; c += FR_LANES) {
        size_t m = channels - c < FR_LANES ? channels - c : FR_LANES;
        fr_vec a = m == FR_LANES ? fr_loadu(alpha + c) : fr_load_part(alpha + c, m);
        fr_dacc acc = fr_dacc_zero();
        for (size_t o = 0; o < outer; o++) {
            size_t base = o * channels + c;
            acc = fr_prelu_bwd_step(dy + base, x + base, a, dx ? dx + base : NULL, m, acc);
        }
        if (dalpha) {
            fr_dacc_store(lanes, acc);
            for (size_t j = 0; j < m; j++)
                dalpha[c + j] = (float)lanes[j];
        }
    }
}

FR_INLINE void fr_prelu_bwd(FR_PARAMS_prelu_bwd, int stream)
{
    (void)stream;
    if (inner == 1)
        fr_prelu_bwd_nhwc(dy, x, alpha, dx, dalpha, outer, channels);
    else
        fr_prelu_bwd_rows(dy, x, alpha, dx, dalpha, outer, channels, inner);
}
