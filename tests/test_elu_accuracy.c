/*
 * ELU's ulp bounds on every ISA the CPU runs, against alpha * expm1(x) and
 * dy * (alpha * exp(x)) evaluated here in double and rounded once (the rules
 * are fr_elu_fwd_ok and fr_elu_bwd_ok in util.h). x sweeps [-104, 0] twice:
 * by a stride through the bit patterns, which visits every binade down to the
 * subnormals (so also the region just below 0), and by an even step in value,
 * which is dense where exp changes fastest. Then the special values.
 *
 * The max ulp seen per ISA is printed; where the factor alpha*exp(x) is below
 * FLT_MIN the subnormal rule applies instead and is reported apart.
 * FASTRELU_TEST_QUICK=1 makes the strides 8 times coarser (for qemu).
 */
#include "util.h"

#include "dispatch.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FR_ELU_FWD_ULP 2
#define FR_ELU_BWD_ULP 3

static const float fr_alphas[] = {1.0f, 0.1f, 2.5f};
static const float fr_dys[] = {1.0f, -1.0f, 0.37f, -2.0e3f, 3.0e-30f};

/* ---- the double-precision reference ------------------------------------- */

static float fr_elu_exact(float x, float alpha)
{
    return x > 0.0f ? x : (float)((double)alpha * expm1((double)x));
}

static float fr_elu_grad_exact(float dy, float x, float alpha)
{
    return x > 0.0f ? dy : (float)((double)dy * ((double)alpha * exp((double)x)));
}

/* ---- inputs ------------------------------------------------------------- */

/* The floats of [-104, 0]: -0 is 0x80000000, -104 is 0xc2d00000. */
#define FR_NEG_ZERO_BITS 0x80000000u
#define FR_NEG_104_BITS 0xc2d00000u

static size_t fr_stride_mult(void) { return fr_test_quick() ? 8 : 1; }

/* Every stride-th bit pattern from -0 to -104; the stride is odd so the low bits vary. */
static size_t fr_bit_sweep(float *x, size_t cap)
{
    uint32_t stride = 1021u * (uint32_t)fr_stride_mult();
    size_t n = 0;
    for (uint32_t b = FR_NEG_ZERO_BITS; b <= FR_NEG_104_BITS && n < cap; b += stride)
        x[n++] = fr_from_bits(b);
    return n;
}

/* Even steps from -104 to 0. */
static size_t fr_value_sweep(float *x, size_t cap)
{
    size_t n = ((size_t)1 << 20) / fr_stride_mult();
    if (n > cap)
        n = cap;
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(-104.0 + 104.0 * (double)i / (double)(n - 1));
    return n;
}

#define FR_SWEEP_CAP ((size_t)1200000)

/* ---- bookkeeping -------------------------------------------------------- */

typedef struct fr_stats {
    uint64_t max_ulp; /* where the plain ulp rule applies */
    float max_ulp_x;  /* where it was reached */
    double max_sub;   /* subnormal-factor region: |got - ref| / (|dy| 2^-149 + ulp(ref)) */
    size_t checked, failed;
    float fail_x, fail_dy, fail_ref, fail_got;
} fr_stats;

static void fr_note(fr_stats *s, int ok, float x, float dy, float ref, float got)
{
    s->checked++;
    if (!ok && s->failed++ == 0) {
        s->fail_x = x;
        s->fail_dy = dy;
        s->fail_ref = ref;
        s->fail_got = got;
    }
}

static void fr_track_ulp(fr_stats *s, float x, float ref, float got)
{
    uint64_t u = fr_ulp_distance(ref, got);
    if (u > s->max_ulp && u != FR_ULP_NAN_MISMATCH) {
        s->max_ulp = u;
        s->max_ulp_x = x;
    }
}

static void fr_track_sub(fr_stats *s, float dy, float ref, float got)
{
    if (isnan(ref) || isnan(got) || isinf(ref) || isinf(got))
        return;
    double unit = fabs((double)dy) * 0x1p-149 + fr_ulp_of(ref);
    double e = fabs((double)got - (double)ref) / unit;
    if (e > s->max_sub)
        s->max_sub = e;
}

static void fr_finish(const char *what, int isa, const fr_stats *s)
{
    print_message("%s %s: %zu values, max %llu ulp (at x=%a)", what, fr_test_isa_name(isa),
                  s->checked, (unsigned long long)s->max_ulp, (double)s->max_ulp_x);
    if (s->max_sub > 0)
        print_message(", subnormal-factor region max %.3g x (|dy| 2^-149 + 1 ulp)", s->max_sub);
    print_message("\n");
    if (s->failed)
        fail_msg("%s %s: %zu of %zu out of bounds; first x=%a (0x%08x) dy=%a ref=%a got=%a", what,
                 fr_test_isa_name(isa), s->failed, s->checked, (double)s->fail_x,
                 fr_to_bits(s->fail_x), (double)s->fail_dy, (double)s->fail_ref,
                 (double)s->fail_got);
}

/* ---- forward ------------------------------------------------------------ */

static void fr_check_fwd(const fr_kernels *t, const float *x, float *y, size_t n, float alpha,
                         fr_stats *s)
{
    t->elu_fwd(x, y, n, alpha);
    for (size_t i = 0; i < n; i++) {
        float ref = fr_elu_exact(x[i], alpha);
        fr_note(s, fr_elu_fwd_ok(ref, y[i], x[i], FR_ELU_FWD_ULP), x[i], 0.0f, ref, y[i]);
        fr_track_ulp(s, x[i], ref, y[i]);
    }
}

typedef size_t (*fr_sweep_fn)(float *x, size_t cap);

static void fr_run_fwd(int isa, fr_sweep_fn sweep, const char *what)
{
    const fr_kernels *t = fr_table_or_skip(isa);
    float *x = malloc(FR_SWEEP_CAP * sizeof(float));
    float *y = malloc(FR_SWEEP_CAP * sizeof(float));
    assert_true(x && y);
    size_t n = sweep(x, FR_SWEEP_CAP);
    fr_stats s = {0};
    for (size_t a = 0; a < sizeof fr_alphas / sizeof fr_alphas[0]; a++)
        fr_check_fwd(t, x, y, n, fr_alphas[a], &s);
    free(x);
    free(y);
    fr_finish(what, isa, &s);
}

/* ---- backward ----------------------------------------------------------- */

static void fr_check_bwd(const fr_kernels *t, const float *x, float *dy, float *dx, size_t n,
                         float alpha, float g, fr_stats *s)
{
    for (size_t i = 0; i < n; i++)
        dy[i] = g;
    t->elu_bwd(dy, x, dx, n, alpha);
    for (size_t i = 0; i < n; i++) {
        float ref = fr_elu_grad_exact(g, x[i], alpha);
        fr_note(s, fr_elu_bwd_ok(ref, dx[i], g, x[i], alpha, FR_ELU_BWD_ULP), x[i], g, ref, dx[i]);
        if (fabs((double)alpha * exp((double)x[i])) >= FLT_MIN)
            fr_track_ulp(s, x[i], ref, dx[i]);
        else
            fr_track_sub(s, g, ref, dx[i]);
    }
}

/* dy = 1 on the whole sweep; the other dy on every 4th point. */
static void fr_run_bwd(int isa, fr_sweep_fn sweep, const char *what)
{
    const fr_kernels *t = fr_table_or_skip(isa);
    float *x = malloc(FR_SWEEP_CAP * sizeof(float));
    float *xs = malloc(FR_SWEEP_CAP / 4 * sizeof(float));
    float *dy = malloc(FR_SWEEP_CAP * sizeof(float));
    float *dx = malloc(FR_SWEEP_CAP * sizeof(float));
    assert_true(x && xs && dy && dx);
    size_t n = sweep(x, FR_SWEEP_CAP), m = 0;
    for (size_t i = 0; i < n; i += 4)
        xs[m++] = x[i];
    fr_stats s = {0};
    for (size_t a = 0; a < sizeof fr_alphas / sizeof fr_alphas[0]; a++) {
        fr_check_bwd(t, x, dy, dx, n, fr_alphas[a], fr_dys[0], &s);
        for (size_t d = 1; d < sizeof fr_dys / sizeof fr_dys[0]; d++)
            fr_check_bwd(t, xs, dy, dx, m, fr_alphas[a], fr_dys[d], &s);
    }
    free(x);
    free(xs);
    free(dy);
    free(dx);
    fr_finish(what, isa, &s);
}

/* ---- special values ----------------------------------------------------- */

/* ±0, ±inf, NaNs, and tiny negative x where alpha * x is not 0. */
static const uint32_t fr_special_x[] = {
    0x00000000u, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00000u, 0xffc00000u,
    0x7f800001u, 0xffc12345u, 0x80000001u, 0x80000002u, 0x807fffffu, 0x80800000u,
    0x8c000000u, 0xb3800000u, 0xb3000000u, 0xba83126fu, 0xc1900000u, 0xc2aeac50u,
    0xc2b17218u, 0xc2cff1b5u, 0xc2d00000u, 0xc3160000u, 0xc3480000u, 0xff7fffffu,
};

#define FR_NUM_SPECIAL_X (sizeof fr_special_x / sizeof fr_special_x[0])

/* Each special x at every position of a 2-vector block, so tails see them too. */
static void fr_check_specials_fwd(const fr_kernels *t, float alpha, fr_stats *s)
{
    float x[FR_NUM_SPECIAL_X], y[FR_NUM_SPECIAL_X];
    for (size_t i = 0; i < FR_NUM_SPECIAL_X; i++)
        x[i] = fr_from_bits(fr_special_x[i]);
    for (size_t off = 0; off < FR_NUM_SPECIAL_X; off++) {
        size_t n = FR_NUM_SPECIAL_X - off;
        fr_check_fwd(t, x + off, y, n, alpha, s);
        for (size_t i = 0; i < n; i++) {
            float xi = x[off + i];
            /* tiny negative x: alpha * x, never 0 when that product is not 0 */
            if (xi < 0.0f && (float)((double)alpha * xi) != 0.0f && y[i] == 0.0f)
                fr_note(s, 0, xi, 0.0f, fr_elu_exact(xi, alpha), y[i]);
        }
    }
}

static void fr_check_specials_bwd(const fr_kernels *t, float alpha, fr_stats *s)
{
    float x[FR_NUM_SPECIAL_X], dy[FR_NUM_SPECIAL_X], dx[FR_NUM_SPECIAL_X];
    for (size_t i = 0; i < FR_NUM_SPECIAL_X; i++)
        x[i] = fr_from_bits(fr_special_x[i]);
    for (size_t d = 0; d < sizeof fr_dys / sizeof fr_dys[0]; d++)
        for (size_t off = 0; off < FR_NUM_SPECIAL_X; off++)
            fr_check_bwd(t, x + off, dy, dx, FR_NUM_SPECIAL_X - off, alpha, fr_dys[d], s);
}

static void fr_run_specials(int isa)
{
    const fr_kernels *t = fr_table_or_skip(isa);
    fr_stats f = {0}, b = {0};
    for (size_t a = 0; a < sizeof fr_alphas / sizeof fr_alphas[0]; a++) {
        fr_check_specials_fwd(t, fr_alphas[a], &f);
        fr_check_specials_bwd(t, fr_alphas[a], &b);
    }
    fr_finish("elu fwd specials", isa, &f);
    fr_finish("elu bwd specials", isa, &b);
}

/* ---- kernels/reference.c against this file's reference ------------------ */

/* The scalar reference must be within 1 ulp of the double-precision values here. */
static void fr_test_reference(void **state)
{
    (void)state;
    float *x = malloc(FR_SWEEP_CAP * sizeof(float));
    float *y = malloc(FR_SWEEP_CAP * sizeof(float));
    assert_true(x && y);
    size_t n = fr_bit_sweep(x, FR_SWEEP_CAP);
    uint64_t worst = 0;
    for (size_t a = 0; a < sizeof fr_alphas / sizeof fr_alphas[0]; a++) {
        fr_kernels_scalar.elu_fwd(x, y, n, fr_alphas[a]);
        for (size_t i = 0; i < n; i++) {
            uint64_t u = fr_ulp_distance(fr_elu_exact(x[i], fr_alphas[a]), y[i]);
            worst = u > worst ? u : worst;
        }
        for (size_t i = 0; i < n; i++)
            y[i] = 1.0f;
        fr_kernels_scalar.elu_bwd(y, x, y, n, fr_alphas[a]);
        for (size_t i = 0; i < n; i++) {
            uint64_t u = fr_ulp_distance(fr_elu_grad_exact(1.0f, x[i], fr_alphas[a]), y[i]);
            worst = u > worst ? u : worst;
        }
    }
    free(x);
    free(y);
    print_message("reference.c vs double: max %llu ulp\n", (unsigned long long)worst);
    assert_true(worst <= 1);
}

/* ---- the cmocka tests --------------------------------------------------- */

static void fr_test_fwd_bits(void **state)
{
    fr_run_fwd((int)(intptr_t)*state, fr_bit_sweep, "elu fwd bit sweep");
}

static void fr_test_fwd_values(void **state)
{
    fr_run_fwd((int)(intptr_t)*state, fr_value_sweep, "elu fwd value sweep");
}

static void fr_test_bwd_bits(void **state)
{
    fr_run_bwd((int)(intptr_t)*state, fr_bit_sweep, "elu bwd bit sweep");
}

static void fr_test_bwd_values(void **state)
{
    fr_run_bwd((int)(intptr_t)*state, fr_value_sweep, "elu bwd value sweep");
}

static void fr_test_specials(void **state) { fr_run_specials((int)(intptr_t)*state); }

/*
 * docs/semantics.md: ELU on AVX2 and AVX-512 (and NEON, one formula with FMA)
 * is bit-identical, NaN payloads aside. x86 can compare the first two here;
 * every sweep point, the specials, alphas from the fast and the slow paths.
 */
static void fr_test_fma_isas_agree(void **state)
{
    (void)state;
    if (!fastrelu_isa_supported(FASTRELU_ISA_AVX2) || !fastrelu_isa_supported(FASTRELU_ISA_AVX512))
        skip();
    const fr_kernels *a = fr_table_for(fr_cpu_get(), FASTRELU_ISA_AVX2);
    const fr_kernels *b = fr_table_for(fr_cpu_get(), FASTRELU_ISA_AVX512);
    static const float alphas[] = {1.0f, 0.1f, 2.5f, 0x1p-100f, -3.0f, 0.0f, 0x1p126f};
    float *x = malloc(FR_SWEEP_CAP * sizeof(float)), *dy = malloc(FR_SWEEP_CAP * sizeof(float));
    float *ya = malloc(FR_SWEEP_CAP * sizeof(float)), *yb = malloc(FR_SWEEP_CAP * sizeof(float));
    assert_true(x && dy && ya && yb);
    size_t n = fr_bit_sweep(x, FR_SWEEP_CAP);
    for (size_t i = 0; i < fr_num_special_values && n < FR_SWEEP_CAP; i++)
        x[n++] = fr_special_value(i);
    fr_rng r = fr_rng_seeded(0xe1e1u);
    for (size_t i = 0; i < n; i++)
        dy[i] = fr_rng_uniform(&r, -4.0f, 4.0f);
    for (size_t k = 0; k < sizeof alphas / sizeof alphas[0]; k++) {
        a->elu_fwd(x, ya, n, alphas[k]);
        b->elu_fwd(x, yb, n, alphas[k]);
        for (size_t i = 0; i < n; i++)
            if (!fr_same_bits(ya[i], yb[i]) && !(isnan(ya[i]) && isnan(yb[i])))
                fail_msg("elu_fwd(%a, alpha %a): avx2 %a, avx512 %a", (double)x[i],
                         (double)alphas[k], (double)ya[i], (double)yb[i]);
        a->elu_bwd(dy, x, ya, n, alphas[k]);
        b->elu_bwd(dy, x, yb, n, alphas[k]);
        for (size_t i = 0; i < n; i++)
            if (!fr_same_bits(ya[i], yb[i]) && !(isnan(ya[i]) && isnan(yb[i])))
                fail_msg("elu_bwd(dy %a, x %a, alpha %a): avx2 %a, avx512 %a", (double)dy[i],
                         (double)x[i], (double)alphas[k], (double)ya[i], (double)yb[i]);
    }
    free(x);
    free(dy);
    free(ya);
    free(yb);
}

// clang-format off
#define FR_ISA_TEST(fn, label, isa, name) \
    {label "/" name, fn, NULL, NULL, (void *)(intptr_t)(isa)}
#define FR_ALL_ISAS(fn, label)                             \
    FR_ISA_TEST(fn, label, FASTRELU_ISA_SCALAR, "scalar"), \
    FR_ISA_TEST(fn, label, FASTRELU_ISA_SSE2, "sse2"),     \
    FR_ISA_TEST(fn, label, FASTRELU_ISA_AVX2, "avx2"),     \
    FR_ISA_TEST(fn, label, FASTRELU_ISA_AVX512, "avx512"), \
    FR_ISA_TEST(fn, label, FASTRELU_ISA_NEON, "neon")
// clang-format on

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fr_test_reference),
        FR_ALL_ISAS(fr_test_fwd_bits, "elu_fwd_bit_sweep"),
        FR_ALL_ISAS(fr_test_fwd_values, "elu_fwd_value_sweep"),
        FR_ALL_ISAS(fr_test_bwd_bits, "elu_bwd_bit_sweep"),
        FR_ALL_ISAS(fr_test_bwd_values, "elu_bwd_value_sweep"),
        FR_ALL_ISAS(fr_test_specials, "elu_specials"),
        cmocka_unit_test(fr_test_fma_isas_agree),
    };
    return cmocka_run_group_tests_name("elu accuracy", tests, NULL, NULL);
}
