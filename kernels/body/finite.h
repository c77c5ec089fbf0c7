/*
 * Whether p[0, n) are all finite, for the table's all_finite: x - x is 0 for
 * every finite x and NaN for an infinity or a NaN, and a NaN stays in a sum.
 */
FR_INLINE fr_vec fr_add_nan(fr_vec s, fr_vec v) { return fr_add(s, fr_sub(v, v)); }

static int FR_ALL_FINITE_NAME(FR_ISA)(const float *p, size_t n)
{
    fr_vec s0 = fr_set1(0.0f), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 4 * FR_LANES <= n; i += 4 * FR_LANES) {
        s0 = fr_add_nan(s0, fr_loadu(p + i));
        s1 = fr_add_nan(s1, fr_loadu(p + i + FR_LANES));
        s2 = fr_add_nan(s2, fr_loadu(p + i + 2 * FR_LANES));
        s3 = fr_add_nan(s3, fr_loadu(p + i + 3 * FR_LANES));
    }
    for (; i + FR_LANES <= n; i += FR_LANES)
        s0 = fr_add_nan(s0, fr_loadu(p + i));
    if (i < n)
        s1 = fr_add_nan(s1, fr_load_part(p + i, n - i));
    fr_vec s = fr_add(fr_add(s0, s1), fr_add(s2, s3));
    return fr_all(fr_eq(s, fr_set1(0.0f)));
}
