/*
 * The argument rules of the public API (docs/semantics.md, "Arguments"), for
 * every op and every array position. The ops are driven through one
 * descriptor table so that a rule is written once and checked for all of them.
 *
 * All arrays live in one arena of sentinel-filled slots. The arena is copied
 * before each call: a rejected call must leave every byte of it as it was,
 * and an accepted one may change only its own outputs.
 */
#define _POSIX_C_SOURCE 200809L

#include <float.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* ---- one calling convention for every op ---------------------------------- */

enum { MAX_IN = 3, MAX_OUT = 2 };

typedef struct call {
    const float *in[MAX_IN]; /* dy before x before alpha, as in the signatures */
    float *out[MAX_OUT];     /* y or dx, then prelu's dalpha */
    size_t n;                /* elementwise length; outer * channels * inner for prelu */
    size_t outer, channels, inner;
    float a, b; /* alpha, or lo and hi */
} call;

typedef enum { SC_NONE, SC_ALPHA, SC_BOUNDS } scalar_kind;

typedef struct op {
    fr_op_id id;
    int n_in, n_out;
    int alpha_in;   /* input holding prelu's per-channel alpha, or -1 */
    int dalpha_out; /* output holding prelu's per-channel dalpha, or -1 */
    scalar_kind scalars;
} op;

// clang-format off
static const op ops[] = {
    {FR_OP_relu_fwd, 1, 1, -1, -1, SC_NONE},
    {FR_OP_relu_bwd, 2, 1, -1, -1, SC_NONE},
    {FR_OP_leaky_relu_fwd, 1, 1, -1, -1, SC_ALPHA},
    {FR_OP_leaky_relu_bwd, 2, 1, -1, -1, SC_ALPHA},
    {FR_OP_elu_fwd, 1, 1, -1, -1, SC_ALPHA},
    {FR_OP_elu_bwd, 2, 1, -1, -1, SC_ALPHA},
    {FR_OP_clip_fwd, 1, 1, -1, -1, SC_BOUNDS},
    {FR_OP_clip_bwd, 2, 1, -1, -1, SC_BOUNDS},
    {FR_OP_prelu_fwd, 2, 1, 1, -1, SC_NONE},
    {FR_OP_prelu_bwd, 3, 2, 2, 1, SC_NONE},
};
// clang-format on
#define NUM_OPS (sizeof ops / sizeof ops[0])

static int is_prelu(const op *o) { return o->alpha_in >= 0; }

/* "relu_backward", ...: the public function's name. */
static const char *name_of(const op *o) { return fr_test_ops[o->id].name; }

/* The call through the public API. The data inputs are x, or dy and x; PReLU's alpha follows. */
static fastrelu_status run(const op *o, const call *c)
{
    const int data_in = is_prelu(o) ? o->alpha_in : o->n_in;
    const fr_op_call f = {.dy = data_in == 2 ? c->in[0] : NULL,
                          .x = c->in[data_in - 1],
                          .alpha = is_prelu(o) ? c->in[o->alpha_in] : NULL,
                          .out = c->out[0],
                          .dalpha = c->out[1],
                          .n = c->n,
                          .outer = c->outer,
                          .channels = c->channels,
                          .inner = c->inner,
                          .a = c->a,
                          .b = c->b};
    return fr_test_call(o->id, &f);
}

static size_t in_len(const op *o, const call *c, int i)
{
    return i == o->alpha_in ? c->channels : c->n;
}
static size_t out_len(const op *o, const call *c, int k)
{
    return k == o->dalpha_out ? c->channels : c->n;
}

/* Only y/dx may share an input's storage, and only a data input's, not alpha's. */
static int inplace_allowed(const op *o, int k, int i) { return k == 0 && i != o->alpha_in; }

/* ---- the arena ------------------------------------------------------------ */

/* The default shape: prelu's alpha (3 floats) is shorter than its data (12). */
enum { OUTER = 2, CHANNELS = 3, INNER = 2, N = OUTER * CHANNELS * INNER };
/* Each array owns a slot with room for an output moved up to N floats either way. */
enum { SLOT = 3 * N + 4, NUM_SLOTS = MAX_IN + MAX_OUT, ARENA = NUM_SLOTS * SLOT };

static float arena[ARENA];
static float before[ARENA];

static const float sentinel = -12345.678f; /* never a result of these inputs */

/* Where each array starts, as arena indices. */
typedef struct layout {
    ptrdiff_t in[MAX_IN], out[MAX_OUT];
} layout;

static ptrdiff_t slot_base(int slot) { return (ptrdiff_t)slot * SLOT + N + 2; }

static layout default_layout(void)
{
    layout l;
    for (int i = 0; i < MAX_IN; i++)
        l.in[i] = slot_base(i);
    for (int k = 0; k < MAX_OUT; k++)
        l.out[k] = slot_base(MAX_IN + k);
    return l;
}

/* Finite and varied, so every branch of every op is taken; all are valid alphas too. */
static float input_value(int i, size_t j)
{
    static const float v[] = {-3.5f, 2.0f, -0.0f, 0.25f, -1.0f, 0.0f, 7.0f, -0.125f, 1.5f};
    return v[(j * 2 + (size_t)i * 5) % (sizeof v / sizeof v[0])];
}

/* Arena filled with sentinels, then the inputs' data; a call with pointers into it. */
static call make_call(const op *o, const layout *l)
{
    call c = {.n = N, .outer = OUTER, .channels = CHANNELS, .inner = INNER};
    c.a = o->scalars == SC_BOUNDS ? -1.0f : 0.1f;
    c.b = 2.0f;
    for (size_t j = 0; j < ARENA; j++)
        arena[j] = sentinel;
    for (int i = 0; i < o->n_in; i++) {
        c.in[i] = arena + l->in[i];
        for (size_t j = 0; j < in_len(o, &c, i); j++)
            arena[l->in[i] + (ptrdiff_t)j] = input_value(i, j);
    }
    for (int k = 0; k < o->n_out; k++)
        c.out[k] = arena + l->out[k];
    return c;
}

static const char *status_name(fastrelu_status s) { return fastrelu_status_string(s); }

/* The call returns want and leaves the whole arena untouched. */
static void expect_rejected(const op *o, const call *c, fastrelu_status want, const char *what)
{
    memcpy(before, arena, sizeof arena);
    fastrelu_status got = run(o, c);
    if (got != want)
        fail_msg("%s, %s: got \"%s\", want \"%s\"", name_of(o), what, status_name(got),
                 status_name(want));
    if (memcmp(before, arena, sizeof arena) != 0)
        fail_msg("%s, %s: rejected call wrote to memory", name_of(o), what);
}

static int in_output(const op *o, const call *c, const float *p)
{
    for (int k = 0; k < o->n_out; k++)
        if (c->out[k] && p >= c->out[k] && p < c->out[k] + out_len(o, c, k))
            return 1;
    return 0;
}

/* The call succeeds and writes nothing outside its outputs. */
static void expect_ok(const op *o, const call *c, const char *what)
{
    memcpy(before, arena, sizeof arena);
    fastrelu_status got = run(o, c);
    if (got != FASTRELU_OK)
        fail_msg("%s, %s: got \"%s\", want ok", name_of(o), what, status_name(got));
    for (size_t j = 0; j < ARENA; j++)
        if (!in_output(o, c, arena + j) && memcmp(&arena[j], &before[j], sizeof(float)) != 0)
            fail_msg("%s, %s: wrote outside its outputs at arena[%zu]", name_of(o), what, j);
}

/* ---- n == 0 ----------------------------------------------------------------- */

static void test_zero_length_accepts_null(void **state)
{
    (void)state;
    /* Even invalid scalars: nothing is done, so nothing is checked. */
    const call shapes[] = {
        {.n = 0, .outer = 0, .channels = 3, .inner = 2, .a = NAN, .b = -INFINITY},
        {.n = 0, .outer = 2, .channels = 0, .inner = 2, .a = 0.5f, .b = 1.0f},
        {.n = 0, .outer = 2, .channels = 3, .inner = 0, .a = INFINITY, .b = NAN},
        {.n = 0, .outer = 0, .channels = 0, .inner = 0, .a = 2.0f, .b = 1.0f},
        /* A zero dimension is an empty tensor even when the others would overflow. */
        {.n = 0, .outer = SIZE_MAX, .channels = 2, .inner = 0, .a = 0.5f, .b = 1.0f},
        {.n = 0, .outer = 0, .channels = SIZE_MAX, .inner = SIZE_MAX, .a = 0.5f, .b = 1.0f},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (size_t i = 0; i < NUM_OPS; i++)
            if (run(&ops[i], &shapes[s]) != FASTRELU_OK)
                fail_msg("%s: n == 0 with NULL arrays (shape %zu) is not ok", name_of(&ops[i]), s);
}

/* ---- NULL arrays ------------------------------------------------------------ */

static void test_null_array_rejected(void **state)
{
    (void)state;
    const layout l = default_layout();
    for (size_t i = 0; i < NUM_OPS; i++) {
        const op *o = &ops[i];
        for (int a = 0; a < o->n_in; a++) {
            call c = make_call(o, &l);
            c.in[a] = NULL;
            expect_rejected(o, &c, FASTRELU_ERR_NULL_POINTER, "NULL input");
        }
        if (o->dalpha_out >= 0)
            continue; /* prelu_backward's outputs are optional one at a time */
        for (int k = 0; k < o->n_out; k++) {
            call c = make_call(o, &l);
            c.out[k] = NULL;
            expect_rejected(o, &c, FASTRELU_ERR_NULL_POINTER, "NULL output");
        }
    }
}

static const op *find_op(const char *name)
{
    for (size_t i = 0; i < NUM_OPS; i++)
        if (strcmp(name_of(&ops[i]), name) == 0)
            return &ops[i];
    fail_msg("no op %s", name);
    return NULL;
}

/* Runs c on private copies of its inputs, so the result is free of any aliasing. */
static void run_on_copies(const op *o, const call *c, float res[MAX_OUT][N])
{
    float copies[MAX_IN][N];
    call s = *c;
    for (int i = 0; i < o->n_in; i++) {
        memcpy(copies[i], c->in[i], in_len(o, c, i) * sizeof(float));
        s.in[i] = copies[i];
    }
    for (int k = 0; k < o->n_out; k++)
        s.out[k] = c->out[k] ? res[k] : NULL;
    assert_int_equal(run(o, &s), FASTRELU_OK);
}

static void expect_outputs(const op *o, const call *c, float want[MAX_OUT][N], const char *what)
{
    for (int k = 0; k < o->n_out; k++) {
        if (!c->out[k])
            continue;
        size_t bad = fr_first_mismatch(c->out[k], want[k], out_len(o, c, k));
        if (bad != out_len(o, c, k))
            fail_msg("%s, %s: output %d differs at [%zu]: %a, want %a", name_of(o), what, k, bad,
                     (double)c->out[k][bad], (double)want[k][bad]);
    }
}

static void test_prelu_backward_one_output_optional(void **state)
{
    (void)state;
    const op *o = find_op("prelu_backward");
    const layout l = default_layout();
    float full[MAX_OUT][N];

    call c = make_call(o, &l);
    run_on_copies(o, &c, full);

    c.out[0] = NULL; /* dalpha only */
    expect_ok(o, &c, "dx NULL");
    expect_outputs(o, &c, full, "dx NULL");

    c = make_call(o, &l);
    c.out[1] = NULL; /* dx only */
    expect_ok(o, &c, "dalpha NULL");
    expect_outputs(o, &c, full, "dalpha NULL");

    c = make_call(o, &l);
    c.out[0] = c.out[1] = NULL;
    expect_rejected(o, &c, FASTRELU_ERR_NULL_POINTER, "dx and dalpha NULL");
}

/* ---- in place ------------------------------------------------------------- */

/* y/dx shares storage with every data input whose bit is set in mask. */
static void check_inplace(const op *o, unsigned mask)
{
    layout l = default_layout();
    for (int i = 0; i < o->n_in; i++)
        if (mask & (1u << i))
            l.in[i] = l.out[0];
    float want[MAX_OUT][N];
    call c = make_call(o, &l);
    run_on_copies(o, &c, want);
    char what[32];
    snprintf(what, sizeof what, "in place, mask %u", mask);
    expect_ok(o, &c, what);
    expect_outputs(o, &c, want, what);
}

static void test_inplace_allowed(void **state)
{
    (void)state;
    for (size_t i = 0; i < NUM_OPS; i++) {
        const op *o = &ops[i];
        unsigned data_inputs = (1u << o->n_in) - 1;
        if (o->alpha_in >= 0)
            data_inputs &= ~(1u << o->alpha_in);
        /* Every non-empty set of data inputs: y == x; dx == dy, dx == x, dx == dy == x. */
        for (unsigned mask = 1; mask <= data_inputs; mask++)
            if ((mask & ~data_inputs) == 0)
                check_inplace(o, mask);
    }
}

/* ---- overlap ---------------------------------------------------------------- */

/* Arrays by one index: inputs 0..MAX_IN-1, then outputs. */
static ptrdiff_t *position(layout *l, int a)
{
    return a < MAX_IN ? &l->in[a] : &l->out[a - MAX_IN];
}

static size_t length(const op *o, const call *c, int a)
{
    return a < MAX_IN ? in_len(o, c, a) : out_len(o, c, a - MAX_IN);
}

/*
 * Output k starts d floats after array `other`, for every d from touching its
 * start to touching its end. Overlap is rejected unless it is an exact
 * in-place call; mere adjacency is fine.
 */
static void check_overlap_pair(const op *o, int k, int other)
{
    layout l = default_layout();
    const ptrdiff_t out_at = l.out[k];
    call c = make_call(o, &l);
    const ptrdiff_t len_k = (ptrdiff_t)out_len(o, &c, k);
    const ptrdiff_t len_other = (ptrdiff_t)length(o, &c, other);
    const int may_alias = other < MAX_IN && inplace_allowed(o, k, other) && len_k == len_other;

    for (ptrdiff_t d = -len_k; d <= len_other; d++) {
        /* `other` moves into output k's slot, so nothing else is in the way. */
        *position(&l, other) = out_at - d;
        c = make_call(o, &l);
        char what[64];
        snprintf(what, sizeof what, "output %d at %+d from %s %d", k, (int)d,
                 other < MAX_IN ? "input" : "output", other % MAX_IN);
        if (d == 0 && may_alias)
            expect_ok(o, &c, what);
        else if (d > -len_k && d < len_other)
            expect_rejected(o, &c, FASTRELU_ERR_OVERLAP, what);
        else
            expect_ok(o, &c, what);
    }
}

static void test_overlap_rejected(void **state)
{
    (void)state;
    for (size_t n = 0; n < NUM_OPS; n++) {
        const op *o = &ops[n];
        for (int k = 0; k < o->n_out; k++) {
            for (int i = 0; i < o->n_in; i++)
                check_overlap_pair(o, k, i);
            /* Two outputs writing the same memory: prelu_backward's dx and dalpha. */
            for (int j = k + 1; j < o->n_out; j++)
                check_overlap_pair(o, k, MAX_IN + j);
        }
    }
}

/* ---- scalar arguments ----------------------------------------------------- */

static void test_alpha_must_be_finite(void **state)
{
    (void)state;
    const float snan = fr_from_bits(0x7fa00000u); /* signalling: isfinite() must not trap on it */
    const float bad[] = {NAN, -NAN, snan, INFINITY, -INFINITY};
    const float good[] = {0.0f, -0.0f, -1.0f, FLT_TRUE_MIN, FLT_MAX, -FLT_MAX, 0.01f};
    const layout l = default_layout();
    for (size_t i = 0; i < NUM_OPS; i++) {
        const op *o = &ops[i];
        if (o->scalars != SC_ALPHA)
            continue;
        for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
            call c = make_call(o, &l);
            c.a = bad[b];
            expect_rejected(o, &c, FASTRELU_ERR_INVALID_ARGUMENT, "non-finite alpha");
        }
        for (size_t g = 0; g < sizeof good / sizeof good[0]; g++) {
            call c = make_call(o, &l);
            c.a = good[g];
            expect_ok(o, &c, "finite alpha");
        }
    }
}

typedef struct bounds {
    float lo, hi;
} bounds;

static void test_clip_bounds(void **state)
{
    (void)state;
    const bounds bad[] = {
        {NAN, 1.0f},          {0.0f, NAN},
        {NAN, NAN},           {-INFINITY, 1.0f},
        {0.0f, INFINITY},     {-INFINITY, INFINITY},
        {INFINITY, INFINITY}, {2.0f, 1.0f},
        {1.0f, 0.99999994f},  {FLT_MAX, -FLT_MAX},
        {-NAN, 1.0f},         {0.0f, fr_from_bits(0x7fa00000u)}, /* signalling NaN */
    };
    /* lo == hi is valid, and so is (+0, -0): IEEE says they are equal. */
    const bounds good[] = {{0.0f, 6.0f},  {1.0f, 1.0f},  {-FLT_MAX, FLT_MAX},
                           {-0.0f, 0.0f}, {0.0f, -0.0f}, {-3.0f, -3.0f}};
    const layout l = default_layout();
    for (size_t i = 0; i < NUM_OPS; i++) {
        const op *o = &ops[i];
        if (o->scalars != SC_BOUNDS)
            continue;
        for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
            call c = make_call(o, &l);
            c.a = bad[b].lo;
            c.b = bad[b].hi;
            expect_rejected(o, &c, FASTRELU_ERR_INVALID_ARGUMENT, "bad bounds");
        }
        for (size_t g = 0; g < sizeof good / sizeof good[0]; g++) {
            call c = make_call(o, &l);
            c.a = good[g].lo;
            c.b = good[g].hi;
            expect_ok(o, &c, "good bounds");
        }
    }
}

/* lo == hi: forward pins every (non-NaN) input to lo, backward passes no gradient. */
static void test_clip_equal_bounds_values(void **state)
{
    (void)state;
    const float x[] = {-5.0f, 1.0f, 1.5f, 2.0f, INFINITY, -0.0f};
    const float dy[] = {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f};
    float y[6], dx[6];
    assert_int_equal(fastrelu_clip_f32(x, y, 6, 1.5f, 1.5f), FASTRELU_OK);
    assert_int_equal(fastrelu_clip_backward_f32(dy, x, dx, 6, 1.5f, 1.5f), FASTRELU_OK);
    for (size_t i = 0; i < 6; i++) {
        assert_true(y[i] == 1.5f);
        assert_true(dx[i] == 0.0f && !signbit(dx[i]));
    }
}

static void test_prelu_alpha_must_be_finite(void **state)
{
    (void)state;
    const float bad[] = {NAN, -NAN, fr_from_bits(0x7fa00000u), INFINITY, -INFINITY};
    const layout l = default_layout();
    for (size_t i = 0; i < NUM_OPS; i++) {
        const op *o = &ops[i];
        if (!is_prelu(o))
            continue;
        for (size_t ch = 0; ch < CHANNELS; ch++)
            for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
                call c = make_call(o, &l);
                arena[l.in[o->alpha_in] + (ptrdiff_t)ch] = bad[b];
                expect_rejected(o, &c, FASTRELU_ERR_INVALID_ARGUMENT, "non-finite alpha[c]");
            }
    }
}

/* ---- edge values of valid scalars, on every ISA ------------------------------ */

/* The rules of docs/semantics.md, written out again rather than taken from the reference. */
static float clip_rule(float x, float lo, float hi) { return x < lo ? lo : x > hi ? hi : x; }
static float clip_grad_rule(float dy, float x, float lo, float hi)
{
    return x <= lo || x >= hi ? 0.0f : dy;
}
static float leaky_rule(float x, float alpha) { return x > 0.0f ? x : x * alpha; }
static float leaky_grad_rule(float dy, float x, float alpha) { return x > 0.0f ? dy : dy * alpha; }

#define ULP_BOUND(op, dir, sig, ulp) ulp_##op##_##dir = (ulp),
enum { FR_KERNEL_LIST(ULP_BOUND) };
#undef ULP_BOUND

/* 17 x values and 11 dy values, coprime: EN elements meet every pair, in a body and a tail. */
static const float edge_x[] = {-3.0f,        -0.5f,         -0.75f,   -0.0f, 0.0f,     0.5f,
                               2.0f,         -INFINITY,     INFINITY, NAN,   -FLT_MAX, 1.5f,
                               FLT_TRUE_MIN, -FLT_TRUE_MIN, -FLT_MIN, -1.5f, 6.0f};
static const float edge_dy[] = {1.0f,  -1.0f, 0.5f, -0.0f,   0.0f,         INFINITY,
                                -2.0f, 3.0f,  NAN,  FLT_MAX, -FLT_TRUE_MIN};
enum { NX = sizeof edge_x / sizeof edge_x[0], NDY = sizeof edge_dy / sizeof edge_dy[0] };
enum { EN = NX * NDY };

static float ex_in[EN], edy_in[EN], e_out[EN], e_ref[EN];

static void fill_edges(void)
{
    for (size_t i = 0; i < EN; i++) {
        ex_in[i] = edge_x[i % NX];
        edy_in[i] = edge_dy[i % NDY];
    }
}

/* got[i] has the bits of want (any NaN for a NaN); what names the op and scalars. */
static void expect_bits(const float *got, const float *want, size_t n, const char *what)
{
    size_t bad = fr_first_mismatch(got, want, n);
    if (bad != n)
        fail_msg("%s on %s: x = %a, dy = %a gives %a, want %a", what,
                 fastrelu_isa_name(fastrelu_get_isa()), (double)ex_in[bad], (double)edy_in[bad],
                 (double)got[bad], (double)want[bad]);
}

static void check_clip_equal_bounds(float lo, float hi)
{
    char what[96];
    snprintf(what, sizeof what, "clip(lo = %a, hi = %a)", (double)lo, (double)hi);
    assert_int_equal(fastrelu_clip_f32(ex_in, e_out, EN, lo, hi), FASTRELU_OK);
    for (size_t i = 0; i < EN; i++)
        e_ref[i] = clip_rule(ex_in[i], lo, hi);
    expect_bits(e_out, e_ref, EN, what);
    assert_int_equal(fastrelu_clip_backward_f32(edy_in, ex_in, e_out, EN, lo, hi), FASTRELU_OK);
    for (size_t i = 0; i < EN; i++)
        e_ref[i] = clip_grad_rule(edy_in[i], ex_in[i], lo, hi);
    expect_bits(e_out, e_ref, EN, what);
}

/*
 * lo == hi: forward gives lo for every number except a zero x between zero
 * bounds, which keeps its own sign (neither comparison holds); NaN passes.
 * Backward gives +0 except for NaN x, whose comparisons fail: dy.
 */
static void test_clip_equal_bounds_every_isa(void **state)
{
    (void)state;
    const bounds equal[] = {
        {0.0f, 0.0f}, {-0.0f, -0.0f},       {0.0f, -0.0f},      {-0.0f, 0.0f},
        {1.5f, 1.5f}, {-FLT_MAX, -FLT_MAX}, {FLT_MAX, FLT_MAX}, {FLT_TRUE_MIN, FLT_TRUE_MIN}};
    fill_edges();
    for (int isa = 0; isa < FR_TEST_NUM_ISAS; isa++) {
        if (fastrelu_set_isa((fastrelu_isa)isa) != FASTRELU_OK)
            continue;
        for (size_t b = 0; b < sizeof equal / sizeof equal[0]; b++)
            check_clip_equal_bounds(equal[b].lo, equal[b].hi);
    }
}

/* ±0 and subnormal alphas, both signs; the largest subnormal too. */
static const float edge_alpha[] = {
    0.0f, -0.0f, FLT_TRUE_MIN, -FLT_TRUE_MIN, -3 * FLT_TRUE_MIN, 0x1p-130f, 0x1.fffffcp-127f};
enum { NA = sizeof edge_alpha / sizeof edge_alpha[0] };

static void check_leaky_alpha(float alpha)
{
    char what[64];
    snprintf(what, sizeof what, "leaky_relu(alpha = %a)", (double)alpha);
    assert_int_equal(fastrelu_leaky_relu_f32(ex_in, e_out, EN, alpha), FASTRELU_OK);
    for (size_t i = 0; i < EN; i++)
        e_ref[i] = leaky_rule(ex_in[i], alpha);
    expect_bits(e_out, e_ref, EN, what);
    assert_int_equal(fastrelu_leaky_relu_backward_f32(edy_in, ex_in, e_out, EN, alpha),
                     FASTRELU_OK);
    for (size_t i = 0; i < EN; i++)
        e_ref[i] = leaky_grad_rule(edy_in[i], ex_in[i], alpha);
    expect_bits(e_out, e_ref, EN, what);
}

/* ELU is held to its ulp bounds against the reference (exact for x = ±0, ±inf, NaN). */
static void check_elu_alpha(float alpha)
{
    assert_int_equal(fastrelu_elu_f32(ex_in, e_out, EN, alpha), FASTRELU_OK);
    fr_kernels_scalar.elu_fwd(ex_in, e_ref, EN, alpha);
    for (size_t i = 0; i < EN; i++)
        if (!fr_elu_fwd_ok(e_ref[i], e_out[i], ex_in[i], ulp_elu_fwd))
            fail_msg("elu(alpha = %a) on %s: x = %a gives %a, reference %a", (double)alpha,
                     fastrelu_isa_name(fastrelu_get_isa()), (double)ex_in[i], (double)e_out[i],
                     (double)e_ref[i]);
    assert_int_equal(fastrelu_elu_backward_f32(edy_in, ex_in, e_out, EN, alpha), FASTRELU_OK);
    fr_kernels_scalar.elu_bwd(edy_in, ex_in, e_ref, EN, alpha);
    for (size_t i = 0; i < EN; i++)
        if (!fr_elu_bwd_ok(e_ref[i], e_out[i], edy_in[i], ex_in[i], alpha, ulp_elu_bwd))
            fail_msg("elu_backward(alpha = %a) on %s: x = %a, dy = %a gives %a, reference %a",
                     (double)alpha, fastrelu_isa_name(fastrelu_get_isa()), (double)ex_in[i],
                     (double)edy_in[i], (double)e_out[i], (double)e_ref[i]);
}

/* PReLU with one edge alpha per channel: element (o, c, i) uses edge_alpha[c]. */
enum { P_OUTER = 2, P_INNER = 13, PN = P_OUTER * NA * P_INNER };

static void check_prelu_alphas(void)
{
    assert_int_equal(fastrelu_prelu_f32(ex_in, edge_alpha, e_out, P_OUTER, NA, P_INNER),
                     FASTRELU_OK);
    for (size_t i = 0; i < PN; i++)
        e_ref[i] = leaky_rule(ex_in[i], edge_alpha[i / P_INNER % NA]);
    expect_bits(e_out, e_ref, PN, "prelu with edge alphas");
    assert_int_equal(
        fastrelu_prelu_backward_f32(edy_in, ex_in, edge_alpha, e_out, NULL, P_OUTER, NA, P_INNER),
        FASTRELU_OK);
    for (size_t i = 0; i < PN; i++)
        e_ref[i] = leaky_grad_rule(edy_in[i], ex_in[i], edge_alpha[i / P_INNER % NA]);
    expect_bits(e_out, e_ref, PN, "prelu_backward with edge alphas");
}

/* Valid alphas at the edges: the exact IEEE products, signs of zero included. */
static void test_alpha_zero_and_subnormal_every_isa(void **state)
{
    (void)state;
    _Static_assert((int)PN <= (int)EN, "prelu uses a prefix of the edge inputs");
    fill_edges();
    for (int isa = 0; isa < FR_TEST_NUM_ISAS; isa++) {
        if (fastrelu_set_isa((fastrelu_isa)isa) != FASTRELU_OK)
            continue;
        for (size_t a = 0; a < NA; a++) {
            check_leaky_alpha(edge_alpha[a]);
            check_elu_alpha(edge_alpha[a]);
        }
        check_prelu_alphas();
    }
}

/* ---- sizes ------------------------------------------------------------------ */

static void set_length(const op *o, call *c, size_t outer, size_t channels, size_t inner)
{
    c->outer = outer;
    c->channels = channels;
    c->inner = inner;
    if (!is_prelu(o))
        c->n = outer; /* elementwise ops read only n */
}

static void test_length_overflows_address_space(void **state)
{
    (void)state;
    /* Never dereferenced: the byte size overflows, or (SIZE_MAX / 4) the end address. */
    const size_t lens[] = {SIZE_MAX, SIZE_MAX / 2, SIZE_MAX / 4 + 1, SIZE_MAX / 4};
    const layout l = default_layout();
    for (size_t i = 0; i < NUM_OPS; i++) {
        const op *o = &ops[i];
        for (size_t s = 0; s < sizeof lens / sizeof lens[0]; s++) {
            call c = make_call(o, &l);
            set_length(o, &c, lens[s], 1, 1);
            expect_rejected(o, &c, FASTRELU_ERR_SIZE_OVERFLOW, "huge n (outer)");
            if (!is_prelu(o))
                continue;
            set_length(o, &c, 1, lens[s], 1);
            expect_rejected(o, &c, FASTRELU_ERR_SIZE_OVERFLOW, "huge channels");
            set_length(o, &c, 1, 1, lens[s]);
            expect_rejected(o, &c, FASTRELU_ERR_SIZE_OVERFLOW, "huge inner");
        }
    }
}

static void test_prelu_shape_product_overflows(void **state)
{
    (void)state;
    const size_t third = (size_t)1 << (sizeof(size_t) * CHAR_BIT / 3 + 1);
    const size_t half = (size_t)1 << (sizeof(size_t) * CHAR_BIT / 2);
    const size_t quarter = SIZE_MAX / 4 + 1; /* the fewest floats whose bytes overflow */
    const size_t shapes[][3] = {
        {SIZE_MAX, 2, 1},
        {2, SIZE_MAX, 1},
        {1, 2, SIZE_MAX},
        {SIZE_MAX, SIZE_MAX, 1},
        {half, half, 1},
        {1, half, half},
        {third, third, third},
        {3, SIZE_MAX / 2, 2},
        /* The product fits; its byte size does not, or (the last) its end address. */
        {2, quarter / 2, 1},
        {quarter / 4, 2, 2},
        {1, 3, SIZE_MAX / 12},
    };
    const layout l = default_layout();
    for (size_t i = 0; i < NUM_OPS; i++) {
        const op *o = &ops[i];
        if (!is_prelu(o))
            continue;
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            call c = make_call(o, &l);
            set_length(o, &c, shapes[s][0], shapes[s][1], shapes[s][2]);
            expect_rejected(o, &c, FASTRELU_ERR_SIZE_OVERFLOW, "outer*channels*inner overflows");
        }
    }
}

/* The last two floats of the address space: any longer array would wrap. Never read. */
static float *wrapping_pointer(void) { return (float *)(UINTPTR_MAX - 2 * sizeof(float) + 1); }

static void test_pointer_range_wraps(void **state)
{
    (void)state;
    const layout l = default_layout();
    for (size_t i = 0; i < NUM_OPS; i++) {
        const op *o = &ops[i];
        for (int a = 0; a < o->n_in; a++) {
            call c = make_call(o, &l);
            c.in[a] = wrapping_pointer();
            expect_rejected(o, &c, FASTRELU_ERR_SIZE_OVERFLOW, "input range wraps");
        }
        for (int k = 0; k < o->n_out; k++) {
            call c = make_call(o, &l);
            c.out[k] = wrapping_pointer();
            expect_rejected(o, &c, FASTRELU_ERR_SIZE_OVERFLOW, "output range wraps");
        }
    }
}

/* An address `below` bytes under the top of the address space. */
static uintptr_t top_minus(size_t below) { return (uintptr_t)0 - below; }

/* Array a of c starts at addr, where its end address cannot exist. Never read. */
static void expect_wraps_at(const op *o, call c, int a, uintptr_t addr, const char *what)
{
    if (length(o, &c, a) * sizeof(float) <= UINTPTR_MAX - addr)
        fail_msg("%s, %s: array %d would not wrap (a bug in this test)", name_of(o), what, a);
    if (a < MAX_IN)
        c.in[a] = (const float *)addr;
    else
        c.out[a - MAX_IN] = (float *)addr;
    expect_rejected(o, &c, FASTRELU_ERR_SIZE_OVERFLOW, what);
}

/* Every array at the very top: its end address would be 2^N, or past it. */
static void test_pointer_range_reaches_top(void **state)
{
    (void)state;
    const layout l = default_layout();
    for (size_t i = 0; i < NUM_OPS; i++) {
        const op *o = &ops[i];
        for (int a = 0; a < MAX_IN + o->n_out; a++) {
            if (a >= o->n_in && a < MAX_IN)
                continue;
            call c = make_call(o, &l);
            const size_t bytes = length(o, &c, a) * sizeof(float);
            expect_wraps_at(o, c, a, top_minus(bytes), "array ends exactly at the top");
            expect_wraps_at(o, c, a, top_minus(bytes - sizeof(float)), "one float past the top");
            /* 32 floats starting 68 bytes below the top (prelu: the data arrays). */
            c.n = c.outer = 32;
            c.channels = c.inner = 1;
            if (length(o, &c, a) == 32)
                expect_wraps_at(o, c, a, (UINTPTR_MAX - 64) & ~(uintptr_t)3, "n = 32 near the top");
        }
    }
}

/* ---- the order of the checks ---------------------------------------------- */

static void test_check_order(void **state)
{
    (void)state;
    const op *leaky = find_op("leaky_relu_backward");
    const op *prelu = find_op("prelu");
    const layout l = default_layout();
    layout overlapping = l;
    overlapping.out[0] = l.in[1] + 1; /* dx one float past x: overlap, not in place */

    call c = make_call(leaky, &l);
    c.in[0] = NULL;
    c.a = NAN;
    expect_rejected(leaky, &c, FASTRELU_ERR_NULL_POINTER, "NULL before invalid alpha");

    c = make_call(leaky, &overlapping);
    c.in[0] = NULL;
    expect_rejected(leaky, &c, FASTRELU_ERR_NULL_POINTER, "NULL before overlap");

    c = make_call(leaky, &l);
    c.out[0] = wrapping_pointer();
    c.a = INFINITY;
    expect_rejected(leaky, &c, FASTRELU_ERR_SIZE_OVERFLOW, "size before invalid alpha");

    c = make_call(leaky, &overlapping);
    c.a = NAN;
    expect_rejected(leaky, &c, FASTRELU_ERR_INVALID_ARGUMENT, "invalid alpha before overlap");

    layout y_on_alpha = l;
    y_on_alpha.out[0] = l.in[prelu->alpha_in];
    c = make_call(prelu, &y_on_alpha);
    arena[l.in[prelu->alpha_in]] = NAN;
    expect_rejected(prelu, &c, FASTRELU_ERR_INVALID_ARGUMENT, "NaN alpha[c] before overlap");
}

/* ---- introspection ---------------------------------------------------------- */

static void test_status_strings(void **state)
{
    (void)state;
    const fastrelu_status all[] = {
        FASTRELU_OK,          FASTRELU_ERR_NULL_POINTER,  FASTRELU_ERR_INVALID_ARGUMENT,
        FASTRELU_ERR_OVERLAP, FASTRELU_ERR_SIZE_OVERFLOW, FASTRELU_ERR_UNSUPPORTED_ISA};
    const size_t count = sizeof all / sizeof all[0];
    for (size_t i = 0; i < count; i++) {
        const char *s = fastrelu_status_string(all[i]);
        assert_non_null(s);
        assert_true(s[0] != '\0');
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(s, fastrelu_status_string(all[j]));
    }
    /* A value from a newer header still gets a string, never NULL. */
    assert_non_null(fastrelu_status_string((fastrelu_status)99));
    assert_non_null(fastrelu_status_string((fastrelu_status)-1));
}

static void test_isa_names(void **state)
{
    (void)state;
    assert_string_equal(fastrelu_isa_name(FASTRELU_ISA_SCALAR), "scalar");
    assert_string_equal(fastrelu_isa_name(FASTRELU_ISA_SSE2), "sse2");
    assert_string_equal(fastrelu_isa_name(FASTRELU_ISA_AVX2), "avx2");
    assert_string_equal(fastrelu_isa_name(FASTRELU_ISA_AVX512), "avx512");
    assert_string_equal(fastrelu_isa_name(FASTRELU_ISA_NEON), "neon");
    assert_string_equal(fastrelu_isa_name((fastrelu_isa)5), "unknown");
    assert_string_equal(fastrelu_isa_name((fastrelu_isa)-1), "unknown");
    assert_string_equal(fastrelu_isa_name((fastrelu_isa)1000), "unknown");
}

static void test_version(void **state)
{
    (void)state;
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", FASTRELU_VERSION_MAJOR, FASTRELU_VERSION_MINOR,
             FASTRELU_VERSION_PATCH);
    assert_string_equal(fastrelu_version(), want);
}

/* ---- threads ---------------------------------------------------------------- */

/*
 * Four threads call every op at once on their own arrays and must get what
 * one thread got alone: ReLU, Leaky ReLU, PReLU and clip from the scalar
 * reference itself, ELU and dalpha from a single-threaded run.
 */
enum { T_CH = 7, T_INNER = 149, TN = T_CH * T_INNER, T_THREADS = 4, T_ROUNDS = 25 };

typedef struct expected {
    float x[TN], dy[TN], alpha[T_CH];
    float relu[TN], relu_bwd[TN], leaky[TN], leaky_bwd[TN], clip[TN], clip_bwd[TN];
    float prelu[TN], prelu_dx[TN], prelu_dalpha[T_CH], elu[TN], elu_bwd[TN];
} expected;

static expected ex;

static void compute_expected(void)
{
    fr_rng r = fr_rng_seeded(2024);
    fr_fill_special(&r, ex.x, TN);
    fr_fill_special(&r, ex.dy, TN);
    for (size_t c = 0; c < T_CH; c++)
        ex.alpha[c] = fr_rng_uniform(&r, -1.0f, 1.0f);
    const fr_kernels *ref = &fr_kernels_scalar;
    ref->relu_fwd(ex.x, ex.relu, TN);
    ref->relu_bwd(ex.dy, ex.x, ex.relu_bwd, TN);
    ref->leaky_relu_fwd(ex.x, ex.leaky, TN, 0.01f);
    ref->leaky_relu_bwd(ex.dy, ex.x, ex.leaky_bwd, TN, 0.01f);
    ref->clip_fwd(ex.x, ex.clip, TN, 0.0f, 6.0f);
    ref->clip_bwd(ex.dy, ex.x, ex.clip_bwd, TN, 0.0f, 6.0f);
    ref->prelu_fwd(ex.x, ex.alpha, ex.prelu, 1, T_CH, T_INNER);
    ref->prelu_bwd(ex.dy, ex.x, ex.alpha, ex.prelu_dx, NULL, 1, T_CH, T_INNER);
    assert_int_equal(
        fastrelu_prelu_backward_f32(ex.dy, ex.x, ex.alpha, NULL, ex.prelu_dalpha, 1, T_CH, T_INNER),
        FASTRELU_OK);
    assert_int_equal(fastrelu_elu_f32(ex.x, ex.elu, TN, 1.0f), FASTRELU_OK);
    assert_int_equal(fastrelu_elu_backward_f32(ex.dy, ex.x, ex.elu_bwd, TN, 1.0f), FASTRELU_OK);
}

static int same(const float *got, const float *want, size_t n)
{
    return fr_first_mismatch(got, want, n) == n;
}

/* Returns how many results differed; cmocka's asserts are not for other threads. */
static int one_round(float *out, float *out2)
{
    int bad = 0;
    bad += fastrelu_relu_f32(ex.x, out, TN) != FASTRELU_OK || !same(out, ex.relu, TN);
    bad += fastrelu_relu_backward_f32(ex.dy, ex.x, out, TN) != FASTRELU_OK ||
           !same(out, ex.relu_bwd, TN);
    bad += fastrelu_leaky_relu_f32(ex.x, out, TN, 0.01f) != FASTRELU_OK || !same(out, ex.leaky, TN);
    bad += fastrelu_leaky_relu_backward_f32(ex.dy, ex.x, out, TN, 0.01f) != FASTRELU_OK ||
           !same(out, ex.leaky_bwd, TN);
    bad += fastrelu_clip_f32(ex.x, out, TN, 0.0f, 6.0f) != FASTRELU_OK || !same(out, ex.clip, TN);
    bad += fastrelu_clip_backward_f32(ex.dy, ex.x, out, TN, 0.0f, 6.0f) != FASTRELU_OK ||
           !same(out, ex.clip_bwd, TN);
    bad += fastrelu_prelu_f32(ex.x, ex.alpha, out, 1, T_CH, T_INNER) != FASTRELU_OK ||
           !same(out, ex.prelu, TN);
    bad += fastrelu_prelu_backward_f32(ex.dy, ex.x, ex.alpha, out, out2, 1, T_CH, T_INNER) !=
               FASTRELU_OK ||
           !same(out, ex.prelu_dx, TN) || !same(out2, ex.prelu_dalpha, T_CH);
    bad += fastrelu_elu_f32(ex.x, out, TN, 1.0f) != FASTRELU_OK || !same(out, ex.elu, TN);
    bad += fastrelu_elu_backward_f32(ex.dy, ex.x, out, TN, 1.0f) != FASTRELU_OK ||
           !same(out, ex.elu_bwd, TN);
    return bad;
}

typedef struct worker_arg {
    size_t id;
    int bad; /* wrong results seen by this thread */
} worker_arg;

static void *worker(void *arg)
{
    static float outs[T_THREADS][TN], dalphas[T_THREADS][T_CH];
    worker_arg *w = arg;
    w->bad = 0;
    for (int round = 0; round < T_ROUNDS; round++)
        w->bad += one_round(outs[w->id], dalphas[w->id]);
    return NULL;
}

static void test_threads_agree_with_reference(void **state)
{
    (void)state;
    compute_expected();
    pthread_t t[T_THREADS];
    worker_arg args[T_THREADS];
    for (size_t i = 0; i < T_THREADS; i++) {
        args[i] = (worker_arg){i, -1};
        assert_int_equal(pthread_create(&t[i], NULL, worker, &args[i]), 0);
    }
    for (size_t i = 0; i < T_THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        if (args[i].bad != 0)
            fail_msg("thread %zu: %d wrong results", i, args[i].bad);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zero_length_accepts_null),
        cmocka_unit_test(test_null_array_rejected),
        cmocka_unit_test(test_prelu_backward_one_output_optional),
        cmocka_unit_test(test_inplace_allowed),
        cmocka_unit_test(test_overlap_rejected),
        cmocka_unit_test(test_alpha_must_be_finite),
        cmocka_unit_test(test_clip_bounds),
        cmocka_unit_test(test_clip_equal_bounds_values),
        cmocka_unit_test(test_prelu_alpha_must_be_finite),
        cmocka_unit_test_setup_teardown(test_clip_equal_bounds_every_isa, fr_test_save_isa,
                                        fr_test_restore_isa),
        cmocka_unit_test_setup_teardown(test_alpha_zero_and_subnormal_every_isa, fr_test_save_isa,
                                        fr_test_restore_isa),
        cmocka_unit_test(test_length_overflows_address_space),
        cmocka_unit_test(test_prelu_shape_product_overflows),
        cmocka_unit_test(test_pointer_range_wraps),
        cmocka_unit_test(test_pointer_range_reaches_top),
        cmocka_unit_test(test_check_order),
        cmocka_unit_test(test_status_strings),
        cmocka_unit_test(test_isa_names),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_threads_agree_with_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
