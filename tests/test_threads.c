/*
 * fastrelu_set_num_threads: calls large enough to be split must give the
 * one-thread results bit for bit, on every ISA the CPU runs, whatever the
 * team size and the arrays' alignment; PReLU's dalpha, summed from per-thread
 * partial sums when rows are split, stays within its bound of
 * 1e-5 * sum |terms| (docs/semantics.md).
 */
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* Large enough that every team size below is used in full (src/parallel.h). */
#define FR_N ((size_t)300013)
#define FR_PAD 16

static const int fr_teams[] = {2, 3, 7};

/* The scalars of each op: alpha, or lo and hi. */
#define FR_SCALARS_relu 0.0f, 0.0f
#define FR_SCALARS_leaky_relu 0.1f, 0.0f
#define FR_SCALARS_prelu 0.0f, 0.0f
#define FR_SCALARS_elu 1.5f, 0.0f
#define FR_SCALARS_clip -1.0f, 6.0f
#define FR_SCALARS(op, dir, sig, ulp) {FR_SCALARS_##op},
static const float fr_scalars[FR_TEST_NUM_OPS][2] = {FR_KERNEL_LIST(FR_SCALARS)};
#undef FR_SCALARS

/* PReLU's calls take a shape and per-channel alphas: fr_test_prelu. */
static int fr_is_prelu(size_t op)
{
    return fr_test_ops[op].sig == FR_SIG_prelu_fwd || fr_test_ops[op].sig == FR_SIG_prelu_bwd;
}

static fastrelu_status fr_run(size_t op, const float *dy, const float *x, float *out, size_t n)
{
    fr_op_call c = {
        .dy = dy, .x = x, .out = out, .n = n, .a = fr_scalars[op][0], .b = fr_scalars[op][1]};
    return fr_test_call(op, &c);
}

typedef struct fr_arrays3 {
    float *dy, *x, *one, *many;
} fr_arrays3;

/* Specials (NaN, inf, subnormals...) for the elementwise ops; finite values for PReLU's sums. */
static fr_arrays3 fr_alloc3(size_t n, int specials)
{
    fr_arrays3 a = {malloc(n * sizeof(float)), malloc(n * sizeof(float)),
                    malloc(n * sizeof(float)), malloc(n * sizeof(float))};
    assert_true(a.dy && a.x && a.one && a.many);
    fr_rng r = fr_rng_seeded(0x7e4dull);
    for (size_t i = 0; i < n; i++) {
        a.x[i] = fr_rng_uniform(&r, -20.0f, 20.0f);
        a.dy[i] = fr_rng_uniform(&r, -2.0f, 2.0f);
    }
    if (specials) {
        fr_fill_near(&r, a.x, n / 8, -1.0f, 6.0f);
        fr_fill_special(&r, a.dy, n / 8);
    }
    return a;
}

static void fr_free3(fr_arrays3 a)
{
    free(a.dy);
    free(a.x);
    free(a.one);
    free(a.many);
}

/* Op o on the current ISA, at each team size and each start offset, against one thread. */
static void fr_check_op(fr_arrays3 a, size_t o)
{
    for (size_t off = 0; off < FR_PAD; off += 5) {
        size_t n = FR_N - off;
        assert_int_equal(fastrelu_set_num_threads(1), FASTRELU_OK);
        assert_int_equal(fr_run(o, a.dy + off, a.x + off, a.one + off, n), FASTRELU_OK);
        for (size_t k = 0; k < sizeof fr_teams / sizeof fr_teams[0]; k++) {
            assert_int_equal(fastrelu_set_num_threads(fr_teams[k]), FASTRELU_OK);
            memset(a.many, 0xff, (FR_N + FR_PAD) * sizeof(float));
            assert_int_equal(fr_run(o, a.dy + off, a.x + off, a.many + off, n), FASTRELU_OK);
            size_t bad = fr_first_mismatch(a.one + off, a.many + off, n);
            if (bad != n)
                fail_msg("%s on %s, %d threads, offset %zu: element %zu differs",
                         fr_test_ops[o].name, fastrelu_isa_name(fastrelu_get_isa()), fr_teams[k],
                         off, bad);
            /* Nothing written before or after the array. */
            for (size_t i = 0; i < off; i++)
                assert_int_equal(fr_to_bits(a.many[i]), 0xffffffffu);
        }
    }
}

/* Each elementwise op, on each ISA. */
static void fr_test_elementwise(void **state)
{
    (void)state;
    const fr_kernels *tables[FR_TEST_NUM_ISAS];
    int nt = fr_runnable_tables(tables);
    fr_arrays3 a = fr_alloc3(FR_N + FR_PAD, 1);
    for (int ti = 0; ti < nt; ti++) {
        assert_int_equal(fastrelu_set_isa(tables[ti]->isa), FASTRELU_OK);
        for (size_t o = 0; o < FR_TEST_NUM_OPS; o++)
            if (!fr_is_prelu(o))
                fr_check_op(a, o);
    }
    fastrelu_set_num_threads(1);
    fr_free3(a);
}

/* In place, split: each thread reads its chunk before it writes it. */
static void fr_test_in_place(void **state)
{
    (void)state;
    fr_arrays3 a = fr_alloc3(FR_N, 1);
    fastrelu_set_num_threads(1);
    assert_int_equal(fastrelu_elu_f32(a.x, a.one, FR_N, 0.5f), FASTRELU_OK);
    memcpy(a.many, a.x, FR_N * sizeof(float));
    fastrelu_set_num_threads(3);
    assert_int_equal(fastrelu_elu_f32(a.many, a.many, FR_N, 0.5f), FASTRELU_OK);
    assert_int_equal(fr_first_mismatch(a.one, a.many, FR_N), FR_N);
    fastrelu_set_num_threads(1);
    fr_free3(a);
}

typedef struct fr_pshape {
    size_t outer, channels, inner;
} fr_pshape;

/* One row (split by channels) and many rows (split by rows), both layouts. */
static const fr_pshape fr_pshapes[] = {
    {1, 64, 5000}, {1, 400000, 1}, {40, 32, 250}, {8000, 48, 1}, {3, 5, 30001},
};

/* Split or not, dalpha stays within its bound of the exact sum (docs/semantics.md). */
static void fr_check_dalpha(const float *dy, const float *x, const float *one, const float *many,
                            fr_pshape s)
{
    for (size_t c = 0; c < s.channels; c++) {
        fr_dalpha_sum e = fr_dalpha_exact(dy, x, s.outer, s.channels, s.inner, c);
        if (!fr_dalpha_ok(one[c], e) || !fr_dalpha_ok(many[c], e))
            fail_msg("dalpha[%zu] of %zux%zux%zu: %a split, %a on one thread, exact %a", c,
                     s.outer, s.channels, s.inner, (double)many[c], (double)one[c],
                     e.sum + e.comp);
    }
}

static void fr_prelu_case(fr_arrays3 a, const float *alpha, fr_pshape s, int team)
{
    size_t n = s.outer * s.channels * s.inner;
    float *da1 = malloc(s.channels * sizeof(float)), *da2 = malloc(s.channels * sizeof(float));
    assert_true(da1 && da2);
    fastrelu_set_num_threads(1);
    assert_int_equal(fastrelu_prelu_f32(a.x, alpha, a.one, s.outer, s.channels, s.inner), FASTRELU_OK);
    fastrelu_set_num_threads(team);
    assert_int_equal(fastrelu_prelu_f32(a.x, alpha, a.many, s.outer, s.channels, s.inner), FASTRELU_OK);
    assert_int_equal(fr_first_mismatch(a.one, a.many, n), n);

    fastrelu_set_num_threads(1);
    assert_int_equal(fastrelu_prelu_backward_f32(a.dy, a.x, alpha, a.one, da1, s.outer, s.channels,
                                                 s.inner), FASTRELU_OK);
    fastrelu_set_num_threads(team);
    assert_int_equal(fastrelu_prelu_backward_f32(a.dy, a.x, alpha, a.many, da2, s.outer, s.channels,
                                                 s.inner), FASTRELU_OK);
    assert_int_equal(fr_first_mismatch(a.one, a.many, n), n);
    fr_check_dalpha(a.dy, a.x, da1, da2, s);
    /* dalpha alone, and dx alone. */
    assert_int_equal(fastrelu_prelu_backward_f32(a.dy, a.x, alpha, NULL, da2, s.outer, s.channels,
                                                 s.inner), FASTRELU_OK);
    fr_check_dalpha(a.dy, a.x, da1, da2, s);
    memset(a.many, 0, n * sizeof(float));
    assert_int_equal(fastrelu_prelu_backward_f32(a.dy, a.x, alpha, a.many, NULL, s.outer, s.channels,
                                                 s.inner), FASTRELU_OK);
    assert_int_equal(fr_first_mismatch(a.one, a.many, n), n);
    free(da1);
    free(da2);
}

static void fr_test_prelu(void **state)
{
    (void)state;
    size_t cap = 0, ccap = 0;
    for (size_t i = 0; i < sizeof fr_pshapes / sizeof fr_pshapes[0]; i++) {
        fr_pshape s = fr_pshapes[i];
        size_t n = s.outer * s.channels * s.inner;
        cap = n > cap ? n : cap;
        ccap = s.channels > ccap ? s.channels : ccap;
    }
    fr_arrays3 a = fr_alloc3(cap, 0);
    float *alpha = malloc(ccap * sizeof(float));
    assert_non_null(alpha);
    fr_rng r = fr_rng_seeded(0xa1fau);
    for (size_t c = 0; c < ccap; c++)
        alpha[c] = fr_rng_uniform(&r, -0.5f, 0.5f);
    const fr_kernels *tables[FR_TEST_NUM_ISAS];
    int nt = fr_runnable_tables(tables);
    for (int ti = 0; ti < nt; ti++) {
        assert_int_equal(fastrelu_set_isa(tables[ti]->isa), FASTRELU_OK);
        for (size_t i = 0; i < sizeof fr_pshapes / sizeof fr_pshapes[0]; i++)
            for (size_t k = 0; k < sizeof fr_teams / sizeof fr_teams[0]; k++)
                fr_prelu_case(a, alpha, fr_pshapes[i], fr_teams[k]);
    }
    fastrelu_set_num_threads(1);
    free(alpha);
    fr_free3(a);
}

static void fr_test_setting(void **state)
{
    (void)state;
    assert_int_equal(fastrelu_get_num_threads(), 1); /* the default */
    assert_int_equal(fastrelu_set_num_threads(0), FASTRELU_ERR_INVALID_ARGUMENT);
    assert_int_equal(fastrelu_set_num_threads(-3), FASTRELU_ERR_INVALID_ARGUMENT);
    assert_int_equal(fastrelu_get_num_threads(), 1);
    assert_int_equal(fastrelu_set_num_threads(64), FASTRELU_OK);
    assert_int_equal(fastrelu_get_num_threads(), 64);
    assert_int_equal(fastrelu_set_num_threads(1), FASTRELU_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fr_test_setting),
        cmocka_unit_test(fr_test_elementwise),
        cmocka_unit_test(fr_test_in_place),
        cmocka_unit_test(fr_test_prelu),
    };
    return cmocka_run_group_tests_name("threads", tests, NULL, NULL);
}
