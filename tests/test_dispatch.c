/*
 * Dispatch: every ISA this CPU supports can be selected and then really runs,
 * unsupported ones are refused, and the pure selection function fr_select
 * walks the ladder correctly for invented CPUs and FASTRELU_ISA caps.
 *
 * What the CPU supports is worked out here independently of cpu_features
 * (the compiler's CPU builtins on x86-64, the auxiliary vector on AArch64).
 */
#define _DEFAULT_SOURCE /* getauxval */

#include <string.h>

#include "dispatch.h"
#include "util.h"

#if defined(__aarch64__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

/* ---- what this build and CPU should support, found independently ---------- */

/* The builtins check the OS's XCR0 for the YMM/ZMM state, as the library must. */
static int cpu_runs(fastrelu_isa isa)
{
    switch (isa) {
    case FASTRELU_ISA_SCALAR:
        return 1;
#if defined(__x86_64__)
    case FASTRELU_ISA_SSE2:
        return __builtin_cpu_supports("sse2");
    case FASTRELU_ISA_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case FASTRELU_ISA_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#elif defined(__aarch64__)
    case FASTRELU_ISA_NEON:
        return (getauxval(AT_HWCAP) & HWCAP_ASIMD) != 0;
#endif
    default:
        return 0;
    }
}

static int expect_supported(fastrelu_isa isa) { return fr_test_isa_built(isa) && cpu_runs(isa); }


static fastrelu_isa expect_best(void)
{
    for (size_t i = 0; i < fr_test_ladder_len; i++)
        if (expect_supported(fr_test_ladder[i]))
            return fr_test_ladder[i];
    return FASTRELU_ISA_SCALAR;
}

/* Every test leaves the process on the ISA it found. */
static int save_isa(void **state)
{
    static fastrelu_isa saved;
    saved = fastrelu_get_isa();
    *state = &saved;
    return 0;
}

static int restore_isa(void **state)
{
    return fastrelu_set_isa(*(fastrelu_isa *)*state) == FASTRELU_OK ? 0 : -1;
}

/* ---- the public switch ------------------------------------------------------- */

static void test_supported_matches_cpu(void **state)
{
    (void)state;
    for (int isa = 0; isa < FR_TEST_NUM_ISAS; isa++) {
        int want = expect_supported((fastrelu_isa)isa);
        if (!!fastrelu_isa_supported((fastrelu_isa)isa) != want)
            fail_msg("%s: fastrelu_isa_supported says %d, this CPU and build say %d",
                     fastrelu_isa_name((fastrelu_isa)isa), !want, want);
    }
    assert_true(fastrelu_isa_supported(FASTRELU_ISA_SCALAR));
#if defined(__x86_64__)
    assert_false(fastrelu_isa_supported(FASTRELU_ISA_NEON));
    assert_true(fastrelu_isa_supported(FASTRELU_ISA_SSE2)); /* part of x86-64 itself */
#elif defined(__aarch64__)
    assert_false(fastrelu_isa_supported(FASTRELU_ISA_SSE2));
    assert_false(fastrelu_isa_supported(FASTRELU_ISA_AVX2));
    assert_false(fastrelu_isa_supported(FASTRELU_ISA_AVX512));
    assert_true(fastrelu_isa_supported(FASTRELU_ISA_NEON)); /* part of ARMv8-A itself */
#endif
    assert_false(fastrelu_isa_supported((fastrelu_isa)5));
    assert_false(fastrelu_isa_supported((fastrelu_isa)-1));
    assert_int_equal(fastrelu_best_isa(), expect_best());
}

/* The ops that every ISA must compute bit for bit like the scalar reference. */
enum { CN = 515, CH = 5, CINNER = CN / CH };

static void expect_same(const float *got, const float *want, size_t n, const char *what)
{
    size_t bad = fr_first_mismatch(got, want, n);
    if (bad != n)
        fail_msg("%s on %s: [%zu] = %a, scalar reference %a", what,
                 fastrelu_isa_name(fastrelu_get_isa()), bad, (double)got[bad], (double)want[bad]);
}

static void check_public_calls_match_scalar(void)
{
    static float x[CN], dy[CN], alpha[CH], got[CN], want[CN];
    const fr_kernels *ref = &fr_kernels_scalar;
    fr_rng r = fr_rng_seeded(7);
    fr_fill_special(&r, x, CN);
    fr_fill_special(&r, dy, CN);
    for (size_t c = 0; c < CH; c++)
        alpha[c] = fr_rng_uniform(&r, -2.0f, 2.0f);

    assert_int_equal(fastrelu_relu_f32(x, got, CN), FASTRELU_OK);
    ref->relu_fwd(x, want, CN);
    expect_same(got, want, CN, "relu");
    assert_int_equal(fastrelu_relu_backward_f32(dy, x, got, CN), FASTRELU_OK);
    ref->relu_bwd(dy, x, want, CN);
    expect_same(got, want, CN, "relu_backward");
    assert_int_equal(fastrelu_leaky_relu_f32(x, got, CN, 0.01f), FASTRELU_OK);
    ref->leaky_relu_fwd(x, want, CN, 0.01f);
    expect_same(got, want, CN, "leaky_relu");
    assert_int_equal(fastrelu_clip_backward_f32(dy, x, got, CN, -1.0f, 6.0f), FASTRELU_OK);
    ref->clip_bwd(dy, x, want, CN, -1.0f, 6.0f);
    expect_same(got, want, CN, "clip_backward");
    assert_int_equal(fastrelu_prelu_f32(x, alpha, got, 1, CH, CINNER), FASTRELU_OK);
    ref->prelu_fwd(x, alpha, want, 1, CH, CINNER);
    expect_same(got, want, CN, "prelu");
}

static void test_each_supported_isa_selectable(void **state)
{
    (void)state;
    int selected = 0;
    for (int isa = 0; isa < FR_TEST_NUM_ISAS; isa++) {
        if (!fastrelu_isa_supported((fastrelu_isa)isa)) {
            print_message("[  SKIPPED ] %s: not supported here\n",
                          fastrelu_isa_name((fastrelu_isa)isa));
            continue;
        }
        assert_int_equal(fastrelu_set_isa((fastrelu_isa)isa), FASTRELU_OK);
        assert_int_equal(fastrelu_get_isa(), isa);
        check_public_calls_match_scalar();
        selected++;
    }
    assert_true(selected >= 1);
}

static void test_unsupported_isa_refused(void **state)
{
    (void)state;
    const int candidates[] = {0, 1, 2, 3, 4, 5, -1, 1000};
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
        fastrelu_isa isa = (fastrelu_isa)candidates[i];
        if (fastrelu_isa_supported(isa))
            continue;
        /* Start from scalar so that "unchanged" cannot pass by luck. */
        assert_int_equal(fastrelu_set_isa(FASTRELU_ISA_SCALAR), FASTRELU_OK);
        assert_int_equal(fastrelu_set_isa(isa), FASTRELU_ERR_UNSUPPORTED_ISA);
        assert_int_equal(fastrelu_get_isa(), FASTRELU_ISA_SCALAR);
        assert_int_equal(fastrelu_set_isa(fastrelu_best_isa()), FASTRELU_OK);
        assert_int_equal(fastrelu_set_isa(isa), FASTRELU_ERR_UNSUPPORTED_ISA);
        assert_int_equal(fastrelu_get_isa(), fastrelu_best_isa());
    }
}

/* ---- the pure selection function with invented CPUs ---------------------- */

/* isa if this build has it, else the next rung down that it has. */
static fastrelu_isa built_or_below(fastrelu_isa isa)
{
    size_t i = 0;
    while (i < fr_test_ladder_len && fr_test_ladder[i] != isa)
        i++;
    for (; i < fr_test_ladder_len; i++)
        if (fr_test_isa_built(fr_test_ladder[i]))
            return fr_test_ladder[i];
    return FASTRELU_ISA_SCALAR;
}

static void expect_select(fr_cpu cpu, const char *cap, fastrelu_isa want, const char *cpu_name)
{
    const fr_kernels *t = fr_select(cpu, cap);
    if (!t)
        fail_msg("fr_select(%s, %s) returned NULL", cpu_name, cap ? cap : "NULL");
    if (t->isa != want)
        fail_msg("fr_select(%s, \"%s\") = %s, want %s", cpu_name, cap ? cap : "NULL",
                 fastrelu_isa_name(t->isa), fastrelu_isa_name(want));
}

#if defined(__x86_64__)
static const fr_cpu no_features = {0};
static const fr_cpu sse2_only = {.sse2 = 1};
static const fr_cpu avx2_no_fma = {.sse2 = 1, .avx2 = 1};
static const fr_cpu avx2_fma = {.sse2 = 1, .avx2 = 1, .fma = 1};
static const fr_cpu avx512f_only = {.sse2 = 1, .avx2 = 1, .fma = 1, .avx512f = 1};
static const fr_cpu avx512_no_vl = {
    .sse2 = 1, .avx2 = 1, .fma = 1, .avx512f = 1, .avx512bw = 1, .avx512dq = 1};
static const fr_cpu avx512_no_dq = {
    .sse2 = 1, .avx2 = 1, .fma = 1, .avx512f = 1, .avx512bw = 1, .avx512vl = 1};
static const fr_cpu avx512_full = {
    .sse2 = 1, .avx2 = 1, .fma = 1, .avx512f = 1, .avx512bw = 1, .avx512dq = 1, .avx512vl = 1};
static const fr_cpu neon_bit_on_x86 = {.neon = 1};

static void test_select_by_features(void **state)
{
    (void)state;
    expect_select(no_features, NULL, FASTRELU_ISA_SCALAR, "no features");
    expect_select(sse2_only, NULL, built_or_below(FASTRELU_ISA_SSE2), "sse2");
    expect_select(avx2_no_fma, NULL, built_or_below(FASTRELU_ISA_SSE2), "avx2 without fma");
    expect_select(avx2_fma, NULL, built_or_below(FASTRELU_ISA_AVX2), "avx2+fma");
    expect_select(avx512f_only, NULL, built_or_below(FASTRELU_ISA_AVX2), "avx512f only");
    expect_select(avx512_no_vl, NULL, built_or_below(FASTRELU_ISA_AVX2), "avx512 without vl");
    expect_select(avx512_no_dq, NULL, built_or_below(FASTRELU_ISA_AVX2), "avx512 without dq");
    expect_select(avx512_full, NULL, built_or_below(FASTRELU_ISA_AVX512), "avx512 f/bw/dq/vl");
    expect_select(neon_bit_on_x86, NULL, FASTRELU_ISA_SCALAR, "neon bit on x86");
}

static void test_select_with_cap(void **state)
{
    (void)state;
    expect_select(avx512_full, "scalar", FASTRELU_ISA_SCALAR, "avx512");
    expect_select(avx512_full, "sse2", built_or_below(FASTRELU_ISA_SSE2), "avx512");
    expect_select(avx512_full, "avx2", built_or_below(FASTRELU_ISA_AVX2), "avx512");
    expect_select(avx512_full, "avx512", built_or_below(FASTRELU_ISA_AVX512), "avx512");
    /* Unknown caps, and another architecture's ISA, cap nothing. */
    const char *no_caps[] = {"foo", "", "neon", "AVX2", "avx2 ", "avx"};
    for (size_t i = 0; i < sizeof no_caps / sizeof no_caps[0]; i++)
        expect_select(avx512_full, no_caps[i], built_or_below(FASTRELU_ISA_AVX512), "avx512");
    /* A cap above the CPU falls to the best the CPU has below it. */
    expect_select(avx2_fma, "avx512", built_or_below(FASTRELU_ISA_AVX2), "avx2+fma");
    expect_select(avx2_no_fma, "avx2", built_or_below(FASTRELU_ISA_SSE2), "avx2 without fma");
    expect_select(sse2_only, "avx512", built_or_below(FASTRELU_ISA_SSE2), "sse2");
    expect_select(no_features, "avx2", FASTRELU_ISA_SCALAR, "no features");
    expect_select(avx512_no_vl, "avx512", built_or_below(FASTRELU_ISA_AVX2), "avx512 without vl");
}
#elif defined(__aarch64__)
static const fr_cpu no_features = {0};
static const fr_cpu neon = {.neon = 1};
static const fr_cpu x86_bits_on_arm = {
    .sse2 = 1, .avx2 = 1, .fma = 1, .avx512f = 1, .avx512bw = 1, .avx512dq = 1, .avx512vl = 1};

static void test_select_by_features(void **state)
{
    (void)state;
    expect_select(no_features, NULL, FASTRELU_ISA_SCALAR, "no features");
    expect_select(neon, NULL, built_or_below(FASTRELU_ISA_NEON), "neon");
    expect_select(x86_bits_on_arm, NULL, FASTRELU_ISA_SCALAR, "x86 bits on arm");
}

static void test_select_with_cap(void **state)
{
    (void)state;
    expect_select(neon, "scalar", FASTRELU_ISA_SCALAR, "neon");
    expect_select(neon, "neon", built_or_below(FASTRELU_ISA_NEON), "neon");
    const char *no_caps[] = {"foo", "", "sse2", "avx2", "avx512", "NEON"};
    for (size_t i = 0; i < sizeof no_caps / sizeof no_caps[0]; i++)
        expect_select(neon, no_caps[i], built_or_below(FASTRELU_ISA_NEON), "neon");
    expect_select(no_features, "neon", FASTRELU_ISA_SCALAR, "no features");
}
#else
static void test_select_by_features(void **state)
{
    (void)state;
    expect_select((fr_cpu){0}, NULL, FASTRELU_ISA_SCALAR, "no features");
}
static void test_select_with_cap(void **state)
{
    (void)state;
    expect_select((fr_cpu){0}, "avx2", FASTRELU_ISA_SCALAR, "no features");
}
#endif

/* Every invented CPU with every cap gets a table it can run, never NULL. */
static void test_select_always_runnable(void **state)
{
    (void)state;
    const char *caps[] = {NULL, "", "bogus", "scalar", "sse2", "avx2", "avx512", "neon"};
    for (unsigned bits = 0; bits < 256; bits++) {
        fr_cpu cpu = {
            .sse2 = bits & 1,
            .avx2 = (bits >> 1) & 1,
            .fma = (bits >> 2) & 1,
            .avx512f = (bits >> 3) & 1,
            .avx512bw = (bits >> 4) & 1,
            .avx512dq = (bits >> 5) & 1,
            .avx512vl = (bits >> 6) & 1,
            .neon = (bits >> 7) & 1,
        };
        for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
            const fr_kernels *t = fr_select(cpu, caps[c]);
            assert_non_null(t);
            assert_ptr_equal(fr_table_for(cpu, (int)t->isa), t);
        }
    }
}

/* ---- the tables ----------------------------------------------------------- */

static void expect_table_complete(const fr_kernels *t, int isa)
{
    if ((int)t->isa != isa)
        fail_msg("table for %s says it is %s", fastrelu_isa_name((fastrelu_isa)isa),
                 fastrelu_isa_name(t->isa));
#define CHECK_SLOT(op, dir, sig, ulp)                                                              \
    if (!t->op##_##dir)                                                                            \
        fail_msg("%s table: " #op "_" #dir " is NULL", fastrelu_isa_name(t->isa));
    FR_KERNEL_LIST(CHECK_SLOT)
#undef CHECK_SLOT
}

/* Every table this build has, whether or not this CPU runs it: only pointers are read. */
static void test_tables_complete(void **state)
{
    (void)state;
    const fr_cpu everything = {.sse2 = 1,
                               .avx2 = 1,
                               .fma = 1,
                               .avx512f = 1,
                               .avx512bw = 1,
                               .avx512dq = 1,
                               .avx512vl = 1,
                               .neon = 1};
    for (int isa = 0; isa < FR_TEST_NUM_ISAS; isa++) {
        const fr_kernels *t = fr_table_for(everything, isa);
        assert_int_equal(t != NULL, fr_test_isa_built((fastrelu_isa)isa));
        if (t)
            expect_table_complete(t, isa);
        assert_int_equal(fr_table_for(fr_cpu_detect(), isa) != NULL,
                         expect_supported((fastrelu_isa)isa));
    }
    assert_null(fr_table_for(everything, -1));
    assert_null(fr_table_for(everything, FR_TEST_NUM_ISAS));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_supported_matches_cpu),
        cmocka_unit_test_setup_teardown(test_each_supported_isa_selectable, save_isa, restore_isa),
        cmocka_unit_test_setup_teardown(test_unsupported_isa_refused, save_isa, restore_isa),
        cmocka_unit_test(test_select_by_features),
        cmocka_unit_test(test_select_with_cap),
        cmocka_unit_test(test_select_always_runnable),
        cmocka_unit_test(test_tables_complete),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
