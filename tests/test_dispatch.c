/*
 * Dispatch: every ISA this CPU supports can be selected and then really runs,
 * unsupported ones are refused, and the pure selection function fr_select
 * walks the ladder correctly for invented CPUs (instruction bits and the OS
 * state in XCR0) and FASTRELU_ISA caps. Every table is complete, is its own
 * ISA's, and shares no kernel with another (tests/table_symbols.sh checks names).
 *
 * What the CPU supports is worked out here independently of cpu_features
 * (the compiler's CPU builtins on x86-64, the auxiliary vector on AArch64).
 */
#define _DEFAULT_SOURCE /* getauxval */

#include <string.h>

#include "dispatch.h"
#include "util.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#elif defined(__aarch64__)
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
    else if (t->isa != want)
        fail_msg("fr_select(%s, \"%s\") = %s, want %s", cpu_name, cap ? cap : "NULL",
                 fastrelu_isa_name(t->isa), fastrelu_isa_name(want));
}

#if defined(__x86_64__)
/* Instruction bits; each CPU below says which OS state (XCR0) goes with them. */
#define AVX2_FMA .sse2 = 1, .avx2 = 1, .fma = 1
#define AVX512_ALL AVX2_FMA, .avx512f = 1, .avx512bw = 1, .avx512dq = 1, .avx512vl = 1
#define OS_YMM .os_ymm = 1
#define OS_YMM_ZMM .os_ymm = 1, .os_zmm = 1

static const fr_cpu no_features = {0};
static const fr_cpu sse2_only = {.sse2 = 1};
static const fr_cpu avx2_no_fma = {.sse2 = 1, .avx2 = 1, OS_YMM};
static const fr_cpu avx2_fma = {AVX2_FMA, OS_YMM};
static const fr_cpu avx2_fma_no_os = {AVX2_FMA};
static const fr_cpu avx512_no_vl = {AVX2_FMA, .avx512f = 1, .avx512bw = 1, .avx512dq = 1,
                                    OS_YMM_ZMM};
static const fr_cpu avx512_full = {AVX512_ALL, OS_YMM_ZMM};
static const fr_cpu avx512_no_os_zmm = {AVX512_ALL, OS_YMM};

typedef struct cpu_case {
    const char *name;
    fr_cpu cpu;
    fastrelu_isa earns; /* the rung this CPU runs, before asking what the build has */
} cpu_case;

static const cpu_case x86_cases[] = {
    {"no features", {0}, FASTRELU_ISA_SCALAR},
    {"sse2", {.sse2 = 1}, FASTRELU_ISA_SSE2},
    {"avx2 without fma", {.sse2 = 1, .avx2 = 1, OS_YMM}, FASTRELU_ISA_SSE2},
    {"fma without avx2", {.sse2 = 1, .fma = 1, OS_YMM}, FASTRELU_ISA_SSE2},
    {"avx2+fma", {AVX2_FMA, OS_YMM}, FASTRELU_ISA_AVX2},
    {"avx2+fma, OS saves no YMM", {AVX2_FMA}, FASTRELU_ISA_SSE2},
    {"avx2+fma, OS saves ZMM but not YMM", {AVX2_FMA, .os_zmm = 1}, FASTRELU_ISA_SSE2},
    {"avx512f only", {AVX2_FMA, .avx512f = 1, OS_YMM_ZMM}, FASTRELU_ISA_AVX2},
    {"avx512 without bw",
     {AVX2_FMA, .avx512f = 1, .avx512dq = 1, .avx512vl = 1, OS_YMM_ZMM},
     FASTRELU_ISA_AVX2},
    {"avx512 without dq",
     {AVX2_FMA, .avx512f = 1, .avx512bw = 1, .avx512vl = 1, OS_YMM_ZMM},
     FASTRELU_ISA_AVX2},
    {"avx512 without vl",
     {AVX2_FMA, .avx512f = 1, .avx512bw = 1, .avx512dq = 1, OS_YMM_ZMM},
     FASTRELU_ISA_AVX2},
    {"avx512 without bw and vl",
     {AVX2_FMA, .avx512f = 1, .avx512dq = 1, OS_YMM_ZMM},
     FASTRELU_ISA_AVX2},
    {"avx512 f/bw/dq/vl", {AVX512_ALL, OS_YMM_ZMM}, FASTRELU_ISA_AVX512},
    {"avx512, OS saves YMM but not ZMM", {AVX512_ALL, OS_YMM}, FASTRELU_ISA_AVX2},
    /* XCR0 cannot enable ZMM state without YMM state; if it claims to, trust neither. */
    {"avx512, OS saves ZMM but not YMM", {AVX512_ALL, .os_zmm = 1}, FASTRELU_ISA_SSE2},
    {"avx512, OS saves nothing", {AVX512_ALL}, FASTRELU_ISA_SSE2},
    /* The avx512 kernels are built with AVX2 and FMA too (a VM may hide those bits). */
    {"avx512 f/bw/dq/vl without avx2",
     {.sse2 = 1, .fma = 1, .avx512f = 1, .avx512bw = 1, .avx512dq = 1, .avx512vl = 1, OS_YMM_ZMM},
     FASTRELU_ISA_SSE2},
    {"neon bit on x86", {.neon = 1, OS_YMM_ZMM}, FASTRELU_ISA_SCALAR},
};

static void test_select_by_features(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof x86_cases / sizeof x86_cases[0]; i++) {
        const cpu_case *c = &x86_cases[i];
        expect_select(c->cpu, NULL, built_or_below(c->earns), c->name);
    }
}

/* FASTRELU_ISA values are matched exactly, lowercase (docs/semantics.md); the rest cap nothing. */
static const char *const no_caps[] = {
    "foo",   "",      "neon",   "NEON", "AVX2", "Avx512",  "SSE2",    "Scalar",
    "avx2 ", " avx2", "avx2\n", "avx",  "sse",  "avx512f", "avx-512", "none",
};

static void test_select_with_cap(void **state)
{
    (void)state;
    expect_select(avx512_full, "scalar", FASTRELU_ISA_SCALAR, "avx512");
    expect_select(avx512_full, "sse2", built_or_below(FASTRELU_ISA_SSE2), "avx512");
    expect_select(avx512_full, "avx2", built_or_below(FASTRELU_ISA_AVX2), "avx512");
    expect_select(avx512_full, "avx512", built_or_below(FASTRELU_ISA_AVX512), "avx512");
    expect_select(avx512_no_os_zmm, "sse2", built_or_below(FASTRELU_ISA_SSE2), "avx512, no ZMM");
    expect_select(no_features, "scalar", FASTRELU_ISA_SCALAR, "no features");
    for (size_t i = 0; i < sizeof no_caps / sizeof no_caps[0]; i++) {
        expect_select(avx512_full, no_caps[i], built_or_below(FASTRELU_ISA_AVX512), "avx512");
        expect_select(avx2_fma, no_caps[i], built_or_below(FASTRELU_ISA_AVX2), "avx2+fma");
        expect_select(sse2_only, no_caps[i], built_or_below(FASTRELU_ISA_SSE2), "sse2");
    }
    /* A cap above the CPU falls to the best the CPU has below it. */
    expect_select(avx2_fma, "avx512", built_or_below(FASTRELU_ISA_AVX2), "avx2+fma");
    expect_select(avx2_no_fma, "avx2", built_or_below(FASTRELU_ISA_SSE2), "avx2 without fma");
    expect_select(sse2_only, "avx512", built_or_below(FASTRELU_ISA_SSE2), "sse2");
    expect_select(sse2_only, "avx2", built_or_below(FASTRELU_ISA_SSE2), "sse2");
    expect_select(no_features, "avx2", FASTRELU_ISA_SCALAR, "no features");
    expect_select(no_features, "sse2", FASTRELU_ISA_SCALAR, "no features");
    expect_select(avx512_no_vl, "avx512", built_or_below(FASTRELU_ISA_AVX2), "avx512 without vl");
    /* ... and the OS state counts as part of the CPU. */
    expect_select(avx512_no_os_zmm, "avx512", built_or_below(FASTRELU_ISA_AVX2), "avx512, no ZMM");
    expect_select(avx2_fma_no_os, "avx2", built_or_below(FASTRELU_ISA_SSE2), "avx2+fma, no YMM");
    expect_select(avx2_fma_no_os, "avx512", built_or_below(FASTRELU_ISA_SSE2), "avx2+fma, no YMM");
}
#elif defined(__aarch64__)
static const fr_cpu no_features = {0};
static const fr_cpu neon = {.neon = 1};

/* Every x86 feature and no NEON: an AArch64 build has no table for any of them. */
static fr_cpu x86_bits_on_arm(void)
{
    fr_cpu c = fr_test_cpu_all;
    c.neon = 0;
    return c;
}

static void test_select_by_features(void **state)
{
    (void)state;
    expect_select(no_features, NULL, FASTRELU_ISA_SCALAR, "no features");
    expect_select(neon, NULL, built_or_below(FASTRELU_ISA_NEON), "neon");
    expect_select(x86_bits_on_arm(), NULL, FASTRELU_ISA_SCALAR, "x86 bits on arm");
}

/* FASTRELU_ISA values are matched exactly, lowercase (docs/semantics.md); the rest cap nothing. */
static void test_select_with_cap(void **state)
{
    (void)state;
    expect_select(neon, "scalar", FASTRELU_ISA_SCALAR, "neon");
    expect_select(neon, "neon", built_or_below(FASTRELU_ISA_NEON), "neon");
    const char *no_caps[] = {"foo",  "",      "sse2",  "avx2",  "avx512", "NEON",
                             "Neon", "neon ", " neon", "asimd", "Scalar", "sve"};
    for (size_t i = 0; i < sizeof no_caps / sizeof no_caps[0]; i++)
        expect_select(neon, no_caps[i], built_or_below(FASTRELU_ISA_NEON), "neon");
    expect_select(no_features, "neon", FASTRELU_ISA_SCALAR, "no features");
    expect_select(x86_bits_on_arm(), "avx512", FASTRELU_ISA_SCALAR, "x86 bits on arm");
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

/* Bit i of bits sets the i-th field of fr_cpu. */
enum { CPU_FIELDS = 10 };
static fr_cpu cpu_from_bits(unsigned bits)
{
    return (fr_cpu){
        .sse2 = bits & 1,
        .avx2 = (bits >> 1) & 1,
        .fma = (bits >> 2) & 1,
        .avx512f = (bits >> 3) & 1,
        .avx512bw = (bits >> 4) & 1,
        .avx512dq = (bits >> 5) & 1,
        .avx512vl = (bits >> 6) & 1,
        .neon = (bits >> 7) & 1,
        .os_ymm = (bits >> 8) & 1,
        .os_zmm = (bits >> 9) & 1,
    };
}

/* Every invented CPU with every cap gets a table it can run, never NULL. */
static void test_select_always_runnable(void **state)
{
    (void)state;
    const char *caps[] = {NULL, "", "bogus", "scalar", "sse2", "avx2", "avx512", "neon", "AVX2"};
    for (unsigned bits = 0; bits < 1u << CPU_FIELDS; bits++) {
        fr_cpu cpu = cpu_from_bits(bits);
        for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
            const fr_kernels *t = fr_select(cpu, caps[c]);
            assert_non_null(t);
            assert_ptr_equal(fr_table_for(cpu, (int)t->isa), t);
        }
    }
}

/* ---- the OS state as detected --------------------------------------------- */

#if defined(__x86_64__)
/* XCR0 read a second way (the intrinsic), 0 when the OS has not enabled XSAVE. */
__attribute__((target("xsave"))) static unsigned long long xcr0_here(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE))
        return 0;
    return _xgetbv(0);
}

static void test_detected_os_state(void **state)
{
    (void)state;
    const fr_cpu cpu = fr_cpu_detect();
    const unsigned long long xcr0 = xcr0_here();
    print_message("XCR0 = %#llx: os_ymm %u, os_zmm %u\n", xcr0, cpu.os_ymm, cpu.os_zmm);
    assert_int_equal(cpu.os_ymm, (xcr0 & 0x6) == 0x6);
    assert_int_equal(cpu.os_zmm, (xcr0 & 0xe0) == 0xe0);
    /* cpu_features masks its bits by XCR0 too: our rule must never be the looser one. */
    if (cpu.avx2)
        assert_true(cpu.os_ymm);
    if (cpu.avx512f)
        assert_true(cpu.os_ymm && cpu.os_zmm);
}
#else
static void test_detected_os_state(void **state)
{
    (void)state;
    const fr_cpu cpu = fr_cpu_detect();
    assert_false(cpu.os_ymm || cpu.os_zmm); /* x86 state: never set elsewhere */
}
#endif

/* ---- the tables ----------------------------------------------------------- */

typedef void (*any_fn)(void);
#define COUNT_SLOT(op, dir, sig, ulp) +1
enum { NUM_SLOTS = 0 FR_KERNEL_LIST(COUNT_SLOT) };
#undef COUNT_SLOT

/* The slots of t in registry order; comparing needs one pointer type. */
static void table_slots(const fr_kernels *t, any_fn fn[NUM_SLOTS], const char *name[NUM_SLOTS])
{
    size_t i = 0;
#define GET_SLOT(op, dir, sig, ulp)                                                                \
    name[i] = #op "_" #dir;                                                                        \
    fn[i++] = (any_fn)t->op##_##dir;
    FR_KERNEL_LIST(GET_SLOT)
#undef GET_SLOT
}

static void expect_table_complete(const fr_kernels *t, int isa)
{
    any_fn fn[NUM_SLOTS];
    const char *name[NUM_SLOTS];
    if ((int)t->isa != isa)
        fail_msg("table for %s says it is %s", fastrelu_isa_name((fastrelu_isa)isa),
                 fastrelu_isa_name(t->isa));
    table_slots(t, fn, name);
    for (size_t i = 0; i < NUM_SLOTS; i++)
        if (!fn[i])
            fail_msg("%s table: %s is NULL", fastrelu_isa_name(t->isa), name[i]);
}

/*
 * Each ISA file defines its own kernels, so no function may appear twice,
 * in two tables or in two slots: a shared pointer means a table borrowed
 * another ISA's kernel. (tests/table_symbols.sh checks the names too.)
 */
static void expect_no_shared_kernels(const fr_kernels *const *tables, size_t count)
{
    any_fn fn[FR_TEST_NUM_ISAS][NUM_SLOTS];
    const char *name[NUM_SLOTS];
    for (size_t a = 0; a < count; a++)
        table_slots(tables[a], fn[a], name);
    for (size_t a = 0; a < count; a++)
        for (size_t i = 0; i < NUM_SLOTS; i++)
            for (size_t b = a; b < count; b++)
                for (size_t j = b == a ? i + 1 : 0; j < NUM_SLOTS; j++)
                    if (fn[a][i] == fn[b][j])
                        fail_msg("%s %s and %s %s are the same function",
                                 fastrelu_isa_name(tables[a]->isa), name[i],
                                 fastrelu_isa_name(tables[b]->isa), name[j]);
}

/* Every table this build has, whether or not this CPU runs it: only pointers are read. */
static void test_tables_complete(void **state)
{
    (void)state;
    const fr_kernels *built[FR_TEST_NUM_ISAS];
    size_t count = 0;
    for (int isa = 0; isa < FR_TEST_NUM_ISAS; isa++) {
        const fr_kernels *t = fr_table_for(fr_test_cpu_all, isa);
        assert_int_equal(t != NULL, fr_test_isa_built((fastrelu_isa)isa));
        if (t) {
            expect_table_complete(t, isa);
            built[count++] = t;
        }
        assert_int_equal(fr_table_for(fr_cpu_detect(), isa) != NULL,
                         expect_supported((fastrelu_isa)isa));
    }
    expect_no_shared_kernels(built, count);
    assert_null(fr_table_for(fr_test_cpu_all, -1));
    assert_null(fr_table_for(fr_test_cpu_all, FR_TEST_NUM_ISAS));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_supported_matches_cpu),
        cmocka_unit_test_setup_teardown(test_each_supported_isa_selectable, fr_test_save_isa,
                                        fr_test_restore_isa),
        cmocka_unit_test_setup_teardown(test_unsupported_isa_refused, fr_test_save_isa,
                                        fr_test_restore_isa),
        cmocka_unit_test(test_select_by_features),
        cmocka_unit_test(test_select_with_cap),
        cmocka_unit_test(test_select_always_runnable),
        cmocka_unit_test(test_detected_os_state),
        cmocka_unit_test(test_tables_complete),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
