/*
 * Whether p[0, n) are all finite, for the table's all_finite: x - x is 0 for
 * every finite x and NaN for an infinity or a NaN, and a NaN stays in a sum.
 */
static int FR_ALL_FINITE_NAME(FR_ISA)(const float *p, size_t n)
{
    fr_vec s0 = fr_set1(0.0f), s1 = s0, s2 = s0, s3 = s0, v;
    size_t i = 0;
#define FR_ADD_NAN(s, k) (v = fr_loadu(p + i + (k) * FR_LANES), s = fr_add(s, fr_sub(v, v)))
    for (; i + 4 * FR_LANES <= n; i += 4 * FR_LANES) {
        FR_ADD_NAN(s0, 0);
        FR_ADD_NAN(s1, 1);
        FR_ADD_NAN(s2, 2);
        FR_ADD_NAN(s3, 3);
    }
    for (; i + FR_LANES <= n; i += FR_LANES)
        FR_ADD_NAN(s0, 0);
#undef FR_ADD_NAN
    if (i < n) {
        v = fr_load_part(p + i, n - i);
        s1 = fr_add(s1, fr_sub(v, v));
    }
    fr_vec s = fr_add(fr_add(s0, s1), fr_add(s2, s3));
    return fr_all(fr_eq(s, fr_set1(0.0f)));
}
