/*
 * Stress: WORKERS threads call every registry op through the public API, over
 * and over, on a few shapes and misalignments, while one more thread keeps
 * switching the process-wide ISA (fastrelu_set_isa) among every ISA this CPU
 * runs and toggles fastrelu_set_num_threads between 1 and 2. From n = 66135
 * up a call is large enough to be split across threads (src/parallel.h), and
 * the 2^20 shapes split PReLU both by rows and by channels.
 *
 * Any ISA may serve any call, so each result is held to the scalar reference
 * under the rules of docs/semantics.md: bit for bit for the piecewise-linear
 * ops (PReLU's dx included), ELU within its ulp rules (tests/util.h), and
 * dalpha within 1e-5 x sum|terms| of the exact sum (fr_dalpha_ok). The
 * inputs are finite (x in [-8, 8) with exact zeros, dy in [-1, 1)): the
 * special values are test_kernels' job; this test is after races.
 *
 * It must also finish under ThreadSanitizer and valgrind: FASTRELU_TEST_QUICK=1
 * runs QUICK_ROUNDS rounds, FASTRELU_STRESS_ROUNDS=<n> any number.
 */
#define _POSIX_C_SOURCE 200809L

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

enum {
    WORKERS = 8,
    ROUNDS = 16,
    QUICK_ROUNDS = 2,
    BIG_WORKERS = 2, /* workers that also run the big shapes ... */
    BIG_EVERY = 8,   /* ... on every BIG_EVERY-th round, starting with the first */
    MAX_MISALIGN = 16,
    SWITCH_BURST = 17 /* prime: the ISA left in place while the switcher yields rotates */
};

#define LEAKY_ALPHA 0.01f
#define ELU_ALPHA 1.0f
#define CLIP_LO 0.0f
#define CLIP_HI 6.0f
static const float POISON = -12345.678f; /* no op gives it on these inputs */

/* ---- the cases ------------------------------------------------------------ */

/* PReLU's element (o, c, i) is at (o * channels + c) * inner + i; the other ops see n floats. */
typedef struct shape {
    size_t outer, channels, inner;
    size_t misalign; /* floats past a 64-byte boundary where the inputs start */
    int big;
} shape;

static const shape shapes[] = {
    {1, 1, 1, 0, 0},          /* n = 1: a tail alone */
    {2, 3, 5, 1, 0},          /* NCHW, n = 30 */
    {37, 3, 1, 3, 0},         /* NHWC, n = 111 */
    {2, 16, 129, 5, 0},       /* NCHW, n = 4128 */
    {1500, 7, 1, 15, 0},      /* NHWC, n = 10500 */
    {3, 5, 4409, 9, 0},       /* NCHW, n = 66135: just large enough to split in two */
    {1, 4, 1u << 18, 0, 1},   /* NCHW, n = 2^20 */
    {1u << 14, 64, 1, 7, 1},  /* NHWC, n = 2^20 */
};
#define NUM_SHAPES (sizeof shapes / sizeof shapes[0])

enum { NUM_OPS = FR_TEST_NUM_OPS };

typedef struct case_data {
    shape s;
    size_t n;
    const float *x, *dy, *alpha; /* shared by every thread, read only */
    float *want[NUM_OPS];        /* the scalar reference's output of each op */
    fr_dalpha_sum *dalpha_exact; /* per channel: the terms' exact sum (tests/util.h) */
    void *blocks[3 + NUM_OPS + 2];
    size_t num_blocks;
} case_data;

static case_data cases[NUM_SHAPES];

/* ---- the accuracy rules: the index of the first bad element, or SIZE_MAX ---- */

/* Index n + c stands for dalpha[c]. */
typedef size_t (*check_fn)(const case_data *c, const float *want, const float *got,
                           const float *dalpha, unsigned ulp);

static size_t check_bits(const case_data *c, const float *want, const float *got,
                         const float *dalpha, unsigned ulp)
{
    (void)dalpha, (void)ulp;
    size_t at = fr_first_mismatch(got, want, c->n);
    return at == c->n ? SIZE_MAX : at;
}

static size_t check_elu_fwd(const case_data *c, const float *want, const float *got,
                            const float *dalpha, unsigned ulp)
{
    (void)dalpha;
    for (size_t i = 0; i < c->n; i++)
        if (!fr_elu_fwd_ok(want[i], got[i], c->x[i], ulp))
            return i;
    return SIZE_MAX;
}

static size_t check_elu_bwd(const case_data *c, const float *want, const float *got,
                            const float *dalpha, unsigned ulp)
{
    (void)dalpha;
    for (size_t i = 0; i < c->n; i++)
        if (!fr_elu_bwd_ok(want[i], got[i], c->dy[i], c->x[i], ELU_ALPHA, ulp))
            return i;
    return SIZE_MAX;
}

/* dx bit for bit; dalpha[ch] within its bound of the exact sum (fr_dalpha_ok). */
static size_t check_prelu_bwd(const case_data *c, const float *want, const float *got,
                              const float *dalpha, unsigned ulp)
{
    size_t at = check_bits(c, want, got, dalpha, ulp);
    if (at != SIZE_MAX)
        return at;
    for (size_t ch = 0; ch < c->s.channels; ch++)
        if (!fr_dalpha_ok(dalpha[ch], c->dalpha_exact[ch]))
            return c->n + ch;
    return SIZE_MAX;
}

/* Each registry entry needs its scalars and a rule here, or this file stops compiling. */
#define SCALARS_relu 0.0f, 0.0f
#define SCALARS_leaky_relu LEAKY_ALPHA, 0.0f
#define SCALARS_prelu 0.0f, 0.0f
#define SCALARS_elu ELU_ALPHA, 0.0f
#define SCALARS_clip CLIP_LO, CLIP_HI

#define CHECK_relu_fwd check_bits
#define CHECK_relu_bwd check_bits
#define CHECK_leaky_relu_fwd check_bits
#define CHECK_leaky_relu_bwd check_bits
#define CHECK_prelu_fwd check_bits
#define CHECK_prelu_bwd check_prelu_bwd
#define CHECK_elu_fwd check_elu_fwd
#define CHECK_elu_bwd check_elu_bwd
#define CHECK_clip_fwd check_bits
#define CHECK_clip_bwd check_bits

typedef struct stress_op {
    const char *name;
    float a, b; /* alpha, or lo and hi */
    check_fn check;
    unsigned ulp;
} stress_op;

#define OP_ENTRY(op, dir, sig, ulp) {#op "_" #dir, SCALARS_##op, CHECK_##op##_##dir, ulp},
static const stress_op ops[] = {FR_KERNEL_LIST(OP_ENTRY)};
#undef OP_ENTRY

/* Op `op` on case c, into out (and prelu_bwd's dalpha, which may be NULL). */
static fr_op_call op_call(const case_data *c, size_t op, float *out, float *dalpha)
{
    const shape *s = &c->s;
    return (fr_op_call){.dy = c->dy,
                        .x = c->x,
                        .alpha = c->alpha,
                        .out = out,
                        .dalpha = dalpha,
                        .n = c->n,
                        .outer = s->outer,
                        .channels = s->channels,
                        .inner = s->inner,
                        .a = ops[op].a,
                        .b = ops[op].b};
}

/* ---- setting up the cases --------------------------------------------------- */

/* n floats starting misalign floats past a 64-byte boundary; the block goes to blocks[]. */
static float *alloc_floats(void **block, size_t n, size_t misalign)
{
    size_t bytes = ((n + MAX_MISALIGN) * sizeof(float) + 63) / 64 * 64;
    *block = aligned_alloc(64, bytes);
    return *block ? (float *)*block + misalign : NULL;
}

static float *case_alloc(case_data *c, size_t n, size_t misalign)
{
    float *p = alloc_floats(&c->blocks[c->num_blocks++], n, misalign);
    assert_non_null(p);
    return p;
}

static void fill_inputs(case_data *c, float *x, float *dy, float *alpha, uint64_t seed)
{
    fr_rng r = fr_rng_seeded(seed);
    for (size_t i = 0; i < c->n; i++) {
        x[i] = i % 16 == 0 ? (i % 32 ? -0.0f : 0.0f) : fr_rng_uniform(&r, -8.0f, 8.0f);
        dy[i] = fr_rng_uniform(&r, -1.0f, 1.0f);
    }
    for (size_t ch = 0; ch < c->s.channels; ch++)
        alpha[ch] = fr_rng_uniform(&r, -0.5f, 0.5f);
}

static void exact_dalpha(case_data *c)
{
    const shape *s = &c->s;
    c->dalpha_exact = calloc(s->channels, sizeof *c->dalpha_exact);
    assert_non_null(c->dalpha_exact);
    for (size_t ch = 0; ch < s->channels; ch++)
        c->dalpha_exact[ch] = fr_dalpha_exact(c->dy, c->x, s->outer, s->channels, s->inner, ch);
}

static void case_init(case_data *c, const shape *s, uint64_t seed)
{
    memset(c, 0, sizeof *c);
    c->s = *s;
    c->n = s->outer * s->channels * s->inner;
    float *x = case_alloc(c, c->n, s->misalign);
    float *dy = case_alloc(c, c->n, (s->misalign + 1) % MAX_MISALIGN);
    float *alpha = case_alloc(c, s->channels, (s->misalign + 2) % MAX_MISALIGN);
    fill_inputs(c, x, dy, alpha, seed);
    c->x = x;
    c->dy = dy;
    c->alpha = alpha;
    /* The reference's dalpha is not used: dalpha is checked against an exact sum. */
    for (size_t op = 0; op < NUM_OPS; op++) {
        c->want[op] = case_alloc(c, c->n, 0);
        fr_op_call call = op_call(c, op, c->want[op], NULL);
        fr_test_call_kernel(&fr_kernels_scalar, op, &call);
    }
    exact_dalpha(c);
}

static void case_free(case_data *c)
{
    for (size_t b = 0; b < c->num_blocks; b++)
        free(c->blocks[b]);
    free(c->dalpha_exact);
    memset(c, 0, sizeof *c);
}

static int setup_cases(void **state)
{
    (void)state;
    for (size_t s = 0; s < NUM_SHAPES; s++)
        case_init(&cases[s], &shapes[s], 0x5eed0000u + s);
    return 0;
}

static int teardown_cases(void **state)
{
    (void)state;
    for (size_t s = 0; s < NUM_SHAPES; s++)
        case_free(&cases[s]);
    return 0;
}

/* ---- the workers -------------------------------------------------------------- */

typedef struct worker {
    pthread_t thread;
    size_t id;
    int rounds;
    void *out_block, *dalpha_block;
    float *out_base, *dalpha;
    unsigned long calls, bad;
    unsigned isas_seen; /* a bit per fastrelu_get_isa() seen after a call */
    char first_bad[256];
} worker;

static void note_bad(worker *w, const case_data *c, size_t op, fastrelu_status st, size_t at,
                     const float *got)
{
    if (w->bad++)
        return;
    const shape *s = &c->s;
    int n = snprintf(w->first_bad, sizeof w->first_bad, "%s, shape %zux%zux%zu: ", ops[op].name,
                     s->outer, s->channels, s->inner);
    char *m = w->first_bad + n;
    size_t room = sizeof w->first_bad - (size_t)n;
    if (st != FASTRELU_OK)
        snprintf(m, room, "status \"%s\"", fastrelu_status_string(st));
    else if (at >= c->n)
        snprintf(m, room, "dalpha[%zu] = %a, exact %a", at - c->n, (double)w->dalpha[at - c->n],
                 c->dalpha_exact[at - c->n].sum + c->dalpha_exact[at - c->n].comp);
    else
        snprintf(m, room, "[%zu] = %a, reference %a (x %a, dy %a)", at, (double)got[at],
                 (double)c->want[op][at], (double)c->x[at], (double)c->dy[at]);
}

/* One call; the output starts at a misalignment of its own, poisoned so a skipped write shows. */
static void run_one(worker *w, const case_data *c, size_t op)
{
    float *out = w->out_base + (c->s.misalign + 5 + w->id) % MAX_MISALIGN;
    for (size_t i = 0; i < c->n; i++)
        out[i] = POISON;
    for (size_t ch = 0; ch < c->s.channels; ch++)
        w->dalpha[ch] = POISON;
    fr_op_call call = op_call(c, op, out, w->dalpha);
    fastrelu_status st = fr_test_call(op, &call);
    w->isas_seen |= 1u << fastrelu_get_isa();
    w->calls++;
    size_t at = st == FASTRELU_OK ? ops[op].check(c, c->want[op], out, w->dalpha, ops[op].ulp) : 0;
    if (st != FASTRELU_OK || at != SIZE_MAX)
        note_bad(w, c, op, st, at, out);
}

static int runs_big(const worker *w, int round)
{
    return w->id < BIG_WORKERS && round % BIG_EVERY == 0;
}

/* Each worker starts the op list at its own place, so different ops overlap. */
static void *work(void *arg)
{
    worker *w = arg;
    for (int r = 0; r < w->rounds; r++)
        for (size_t s = 0; s < NUM_SHAPES; s++) {
            if (cases[s].s.big && !runs_big(w, r))
                continue;
            for (size_t k = 0; k < NUM_OPS; k++)
                run_one(w, &cases[s], (k + w->id + (size_t)r) % NUM_OPS);
        }
    return NULL;
}

static size_t max_n(void)
{
    size_t m = 0;
    for (size_t s = 0; s < NUM_SHAPES; s++)
        m = cases[s].n > m ? cases[s].n : m;
    return m;
}

static size_t max_channels(void)
{
    size_t m = 0;
    for (size_t s = 0; s < NUM_SHAPES; s++)
        m = shapes[s].channels > m ? shapes[s].channels : m;
    return m;
}

static void worker_init(worker *w, size_t id, int rounds)
{
    memset(w, 0, sizeof *w);
    w->id = id;
    w->rounds = rounds;
    w->out_base = alloc_floats(&w->out_block, max_n(), 0);
    w->dalpha = alloc_floats(&w->dalpha_block, max_channels(), (id + 3) % MAX_MISALIGN);
    assert_true(w->out_base && w->dalpha);
}

static void worker_free(worker *w)
{
    free(w->out_block);
    free(w->dalpha_block);
}

/* ---- the switcher --------------------------------------------------------------- */

typedef struct switcher {
    pthread_t thread;
    atomic_int stop;
    fastrelu_isa isas[FR_TEST_NUM_ISAS];
    size_t num_isas;
    unsigned long switches, failures;
} switcher;

/*
 * Rounds the supported ISAs in bursts, so a call running on the other core
 * sees the table change under it several times, then yields the core to the
 * workers; every fourth switch also flips the thread count.
 */
static void *switch_isas(void *arg)
{
    switcher *sw = arg;
    for (unsigned long i = 0; !atomic_load(&sw->stop); i++) {
        sw->failures += fastrelu_set_isa(sw->isas[i % sw->num_isas]) != FASTRELU_OK;
        if (i % 4 == 0)
            sw->failures += fastrelu_set_num_threads(1 + (int)(i / 4 % 2)) != FASTRELU_OK;
        sw->switches++;
        if (i % SWITCH_BURST == 0)
            sched_yield();
    }
    return NULL;
}

static void switcher_init(switcher *sw)
{
    memset(sw, 0, sizeof *sw);
    atomic_init(&sw->stop, 0);
    for (int isa = 0; isa < FR_TEST_NUM_ISAS; isa++)
        if (fastrelu_isa_supported((fastrelu_isa)isa))
            sw->isas[sw->num_isas++] = (fastrelu_isa)isa;
    assert_true(sw->num_isas > 0);
}

/* ---- the test ---------------------------------------------------------------------- */

static int stress_rounds(void)
{
    const char *env = getenv("FASTRELU_STRESS_ROUNDS");
    long n = env ? strtol(env, NULL, 10) : 0;
    if (n > 0 && n <= INT_MAX)
        return (int)n;
    return fr_test_quick() ? QUICK_ROUNDS : ROUNDS;
}

/* Prints what ran and returns the ISAs the workers saw, a bit each. */
static unsigned summarize(const switcher *sw, const worker *ws, int rounds)
{
    unsigned long calls = 0;
    unsigned seen = 0;
    for (size_t i = 0; i < WORKERS; i++) {
        calls += ws[i].calls;
        seen |= ws[i].isas_seen;
    }
    char names[64] = "";
    size_t len = 0;
    for (int isa = 0; isa < FR_TEST_NUM_ISAS; isa++)
        if (seen & (1u << isa) && len < sizeof names)
            len += (size_t)snprintf(names + len, sizeof names - len, " %s", fr_test_isa_name(isa));
    print_message("%d rounds, %lu calls on %d threads, %lu ISA switches; ISAs seen:%s\n", rounds,
                  calls, WORKERS, sw->switches, names);
    return seen;
}

static void test_stress(void **state)
{
    (void)state;
    const fastrelu_isa isa_before = fastrelu_get_isa();
    const int threads_before = fastrelu_get_num_threads();
    const int rounds = stress_rounds();
    static switcher sw;
    static worker ws[WORKERS];
    switcher_init(&sw);
    for (size_t i = 0; i < WORKERS; i++)
        worker_init(&ws[i], i, rounds);

    assert_int_equal(pthread_create(&sw.thread, NULL, switch_isas, &sw), 0);
    for (size_t i = 0; i < WORKERS; i++)
        assert_int_equal(pthread_create(&ws[i].thread, NULL, work, &ws[i]), 0);
    for (size_t i = 0; i < WORKERS; i++)
        assert_int_equal(pthread_join(ws[i].thread, NULL), 0);
    atomic_store(&sw.stop, 1);
    assert_int_equal(pthread_join(sw.thread, NULL), 0);

    assert_int_equal(fastrelu_set_isa(isa_before), FASTRELU_OK);
    assert_int_equal(fastrelu_set_num_threads(threads_before), FASTRELU_OK);
    const unsigned seen = summarize(&sw, ws, rounds);
    unsigned long bad = 0;
    for (size_t i = 0; i < WORKERS; i++) {
        if (ws[i].bad)
            print_message("thread %zu: %lu wrong, first: %s\n", i, ws[i].bad, ws[i].first_bad);
        bad += ws[i].bad;
        worker_free(&ws[i]);
    }
    assert_int_equal(sw.failures, 0);
    if (sw.num_isas > 1 && (seen & (seen - 1)) == 0)
        fail_msg("every call saw the same ISA: the switcher did not overlap the workers");
    if (bad)
        fail_msg("%lu wrong results", bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stress),
    };
    return cmocka_run_group_tests_name("stress", tests, setup_cases, teardown_cases);
}
