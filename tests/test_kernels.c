/*
 * Cross-checks every kernel of every ISA against the scalar reference
 * (fr_kernels_scalar). The tests come from FR_KERNEL_LIST: one cmocka test per
 * registry entry and ISA, so a new registry line is tested without touching
 * this file, and an ISA the CPU lacks shows up as a skipped test instead of
 * vanishing from the report.
 *
 * Accuracy (the registry's ulp_bound; docs/semantics.md):
 * - ulp_bound 0: bit-identical to the reference; any NaN matches any NaN.
 * - elu fwd and bwd (<= 2 and <= 3 ulp): the rules in tests/util.h
 *   (fr_elu_fwd_ok, fr_elu_bwd_ok), with a subnormal-factor rule for bwd.
 * - prelu bwd dalpha: |got - exact| <= 1e-5 * sum |terms| + 2^-149 (the
 *   spacing of the subnormals: the float result itself must round); exact and
 *   the abs-sum are computed here in double.
 *
 * Every array sits in its own guard-page mapping, flush against (or `gap`
 * floats from) a PROT_NONE page on either side, and the floats next to each
 * array hold a canary, so reads past the guard crash and writes past [0, n)
 * are caught even when they stay inside the mapping.
 *
 * FASTRELU_TEST_QUICK=1 trims the sweeps for slow emulators (qemu-aarch64).
 */
#include "util.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"

/* ---- failures ---------------------------------------------------------- */

/*
 * A test keeps going after a mismatch, so that one run shows every class of
 * disagreement: it prints the first failure of each class (key) and fails at
 * the end with the count.
 */
#define FR_MAX_REPORTS 12

static size_t fr_failures;
static uint64_t fr_seen_keys[FR_MAX_REPORTS];
static size_t fr_num_seen;

static int fr_new_key(uint64_t key)
{
    for (size_t i = 0; i < fr_num_seen; i++)
        if (fr_seen_keys[i] == key)
            return 0;
    if (fr_num_seen == FR_MAX_REPORTS)
        return 0;
    fr_seen_keys[fr_num_seen++] = key;
    return 1;
}

static void fr_start_test(void)
{
    fr_failures = 0;
    fr_num_seen = 0;
}

static void fr_note_failure(uint64_t key, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void fr_note_failure(uint64_t key, const char *fmt, ...)
{
    fr_failures++;
    if (fr_new_key(key)) {
        char msg[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        print_message("MISMATCH %s\n", msg);
    }
}

static void fr_end_test(void)
{
    if (fr_failures)
        fail_msg("%zu check(s) failed; the first of each kind is printed above", fr_failures);
}

/* ---- the registry as data ----------------------------------------------- */

/* One registry entry on one ISA: the state of one cmocka test. */
typedef struct fr_target {
    const char *name; /* "<op>_<dir>" */
    fr_sig sig;
    unsigned ulp;
    size_t slot; /* offsetof(fr_kernels, <op>_<dir>) */
    int isa;
    int stream; /* the table's streaming twin (non-temporal stores) */
} fr_target;

// clang-format off
#define FR_TARGET(op, dir, sig, ulp, isa) \
    {#op "_" #dir, FR_SIG_##sig, ulp, offsetof(fr_kernels, op##_##dir), isa, 0}
#define FR_DEFINE_TARGETS(op, dir, sig, ulp)                   \
    static fr_target fr_t_##op##_##dir[FR_TEST_NUM_ISAS] = {   \
        FR_TARGET(op, dir, sig, ulp, FASTRELU_ISA_SCALAR),     \
        FR_TARGET(op, dir, sig, ulp, FASTRELU_ISA_SSE2),       \
        FR_TARGET(op, dir, sig, ulp, FASTRELU_ISA_AVX2),       \
        FR_TARGET(op, dir, sig, ulp, FASTRELU_ISA_AVX512),     \
        FR_TARGET(op, dir, sig, ulp, FASTRELU_ISA_NEON)};
// clang-format on
FR_KERNEL_LIST(FR_DEFINE_TARGETS)

/* Reads the table slot k names; the caller picks the pointer type that k->sig says. */
#define FR_SLOT(type, k, t) fr_slot_##type(k, t)
#define FR_DEFINE_SLOT_READER(type)                                                                \
    static fr_##type##_fn fr_slot_##type(const fr_target *k, const fr_kernels *t)                  \
    {                                                                                              \
        fr_##type##_fn f;                                                                          \
        memcpy(&f, (const char *)t + k->slot, sizeof f);                                           \
        return f;                                                                                  \
    }
FR_DEFINE_SLOT_READER(unary)
FR_DEFINE_SLOT_READER(unary_a)
FR_DEFINE_SLOT_READER(unary_ab)
FR_DEFINE_SLOT_READER(binary)
FR_DEFINE_SLOT_READER(binary_a)
FR_DEFINE_SLOT_READER(binary_ab)
FR_DEFINE_SLOT_READER(prelu_fwd)
FR_DEFINE_SLOT_READER(prelu_bwd)

static const char *fr_isa_of(const fr_target *k)
{
    static char name[32];
    snprintf(name, sizeof name, "%s%s", fr_test_isa_name(k->isa), k->stream ? " (streaming)" : "");
    return name;
}

static int fr_is_binary(fr_sig s)
{
    return s == FR_SIG_binary || s == FR_SIG_binary_a || s == FR_SIG_binary_ab;
}

/* ---- parameters and inputs ---------------------------------------------- */

/* alpha (in a), or lo and hi. */
typedef struct fr_args {
    float a, b;
} fr_args;

/* Any finite alpha is valid, so the largest ones are tried too. */
static const fr_args fr_alphas[] = {
    {0.01f, 0},     {0.2f, 0}, {1.0f, 0},     {-0.5f, 0},     {0.0f, 0},    {-0.0f, 0},
    {0x1p-140f, 0}, {2.5f, 0}, {0x1p100f, 0}, {-0x1p100f, 0}, {FLT_MAX, 0}, {-FLT_MAX, 0},
};

static const fr_args fr_bounds[] = {
    {0.0f, 6.0f}, {-1.0f, 1.0f},  {-0.0f, 0.0f},  {0.0f, -0.0f},       {2.0f, 2.0f},
    {0.0f, 0.0f}, {-0.0f, -0.0f}, {-3.5f, -1.0f}, {-FLT_MAX, FLT_MAX}, {0x1p-140f, 0x1p-130f},
};

static const fr_args fr_no_args[] = {{0.0f, 0.0f}};

static const fr_args *fr_args_for(fr_sig s, size_t *count)
{
    switch (s) {
    case FR_SIG_unary_a:
    case FR_SIG_binary_a:
    case FR_SIG_prelu_fwd:
    case FR_SIG_prelu_bwd:
        *count = sizeof fr_alphas / sizeof fr_alphas[0];
        return fr_alphas;
    case FR_SIG_unary_ab:
    case FR_SIG_binary_ab:
        *count = sizeof fr_bounds / sizeof fr_bounds[0];
        return fr_bounds;
    default:
        *count = 1;
        return fr_no_args;
    }
}

typedef enum fr_kind { FR_KIND_BITS, FR_KIND_SPECIAL, FR_KIND_MODERATE, FR_NUM_KINDS } fr_kind;

/* Special values, for clip also crowding around lo and hi. */
static void fr_fill_kind(fr_rng *r, float *p, size_t n, fr_kind kind, fr_sig s, fr_args a)
{
    switch (kind) {
    case FR_KIND_BITS:
        fr_fill_bits(r, p, n);
        break;
    case FR_KIND_SPECIAL:
        if (s == FR_SIG_unary_ab || s == FR_SIG_binary_ab)
            fr_fill_near(r, p, n, a.a, a.b);
        else
            fr_fill_special(r, p, n);
        break;
    default:
        for (size_t i = 0; i < n; i++)
            p[i] = fr_rng_uniform(r, -30.0f, 10.0f);
        break;
    }
}

/* ---- per-element acceptance --------------------------------------------- */

static int fr_elem_ok(const fr_target *k, float ref, float got, float dy, float x, fr_args a)
{
    if (k->ulp == 0)
        return fr_same_bits(ref, got);
    if (strcmp(k->name, "elu_fwd") == 0)
        return fr_elu_fwd_ok(ref, got, x, k->ulp);
    if (strcmp(k->name, "elu_bwd") == 0)
        return fr_elu_bwd_ok(ref, got, dy, x, a.a, k->ulp);
    return fr_ulp_distance(ref, got) <= k->ulp;
}

/* ---- canaries around arrays --------------------------------------------- */

/* Nothing may write outside [0, n), so the canary only has to be recognisable. */
#define FR_CANARY 0x7fe5a5a5u
#define FR_CANARY_SPAN 16

/* [p - span, p) and [p + n, p + n + span), clipped to the mapping. */
static void fr_canary_range(const fr_guard *g, float *p, size_t n, float **b0, float **b1,
                            float **a0, float **a1)
{
    *b0 = p - g->lo > FR_CANARY_SPAN ? p - FR_CANARY_SPAN : g->lo;
    *b1 = p;
    *a0 = p + n;
    *a1 = g->hi - *a0 > FR_CANARY_SPAN ? *a0 + FR_CANARY_SPAN : g->hi;
}

static void fr_canary_set(const fr_guard *g, float *p, size_t n)
{
    float *b0, *b1, *a0, *a1;
    uint32_t c = FR_CANARY;
    fr_canary_range(g, p, n, &b0, &b1, &a0, &a1);
    for (float *q = b0; q < b1; q++)
        memcpy(q, &c, sizeof c);
    for (float *q = a0; q < a1; q++)
        memcpy(q, &c, sizeof c);
}

/* Nonzero if a canary next to p[0, n) was overwritten; *where is its index relative to p. */
static int fr_canary_clobbered(const fr_guard *g, float *p, size_t n, ptrdiff_t *where)
{
    float *b0, *b1, *a0, *a1;
    fr_canary_range(g, p, n, &b0, &b1, &a0, &a1);
    for (float *q = b0; q < b1; q++)
        if (fr_to_bits(*q) != FR_CANARY)
            return *where = q - p, 1;
    for (float *q = a0; q < a1; q++)
        if (fr_to_bits(*q) != FR_CANARY)
            return *where = q - p, 1;
    return 0;
}

/* ---- elementwise kernels ------------------------------------------------ */

static void fr_call(const fr_target *k, const fr_kernels *t, const float *dy, const float *x,
                    float *out, size_t n, fr_args a)
{
    switch (k->sig) {
    case FR_SIG_unary:
        FR_SLOT(unary, k, t)(x, out, n);
        break;
    case FR_SIG_unary_a:
        FR_SLOT(unary_a, k, t)(x, out, n, a.a);
        break;
    case FR_SIG_unary_ab:
        FR_SLOT(unary_ab, k, t)(x, out, n, a.a, a.b);
        break;
    case FR_SIG_binary:
        FR_SLOT(binary, k, t)(dy, x, out, n);
        break;
    case FR_SIG_binary_a:
        FR_SLOT(binary_a, k, t)(dy, x, out, n, a.a);
        break;
    case FR_SIG_binary_ab:
        FR_SLOT(binary_ab, k, t)(dy, x, out, n, a.a, a.b);
        break;
    default:
        fail_msg("%s is not elementwise", k->name);
    }
}

typedef enum fr_inplace { FR_SEPARATE, FR_OUT_IS_X, FR_OUT_IS_DY } fr_inplace;

static const char *const fr_inplace_names[] = {"separate", "out == x", "out == dy"};

/* Where one call's arrays sit: gap from the guard and which guard (bit set: the end one). */
typedef struct fr_layout {
    size_t gap_dy, gap_x, gap_out;
    unsigned at_end; /* bit 0: dy, bit 1: x, bit 2: out */
    fr_inplace inplace;
} fr_layout;

/* Inputs (generated), the reference's output, and one guarded mapping per array. */
typedef struct fr_bufs {
    size_t cap;
    float *dy, *x, *ref;
    fr_guard g_dy, g_x, g_out;
} fr_bufs;

static void fr_bufs_init(fr_bufs *b, size_t cap)
{
    b->cap = cap;
    b->dy = malloc(cap * sizeof(float));
    b->x = malloc(cap * sizeof(float));
    b->ref = malloc(cap * sizeof(float));
    assert_non_null(b->dy);
    assert_non_null(b->x);
    assert_non_null(b->ref);
    /* Room for the largest n plus the largest gap. */
    assert_non_null(fr_guard_alloc(&b->g_dy, cap + FR_CANARY_SPAN, 0, FR_AT_START));
    assert_non_null(fr_guard_alloc(&b->g_x, cap + FR_CANARY_SPAN, 0, FR_AT_START));
    assert_non_null(fr_guard_alloc(&b->g_out, cap + FR_CANARY_SPAN, 0, FR_AT_START));
}

static void fr_bufs_free(fr_bufs *b)
{
    free(b->dy);
    free(b->x);
    free(b->ref);
    fr_guard_free(&b->g_dy);
    fr_guard_free(&b->g_x);
    fr_guard_free(&b->g_out);
}

static float *fr_place(const fr_guard *g, size_t n, size_t gap, int at_end)
{
    return at_end ? fr_guard_end(g, n, gap) : fr_guard_start(g, gap);
}

/* b->dy, b->x and b->ref hold n inputs and the reference's outputs. */
static void fr_prepare(const fr_target *k, fr_bufs *b, fr_rng *r, size_t n, fr_kind kind, fr_args a)
{
    fr_fill_kind(r, b->x, n, kind, k->sig, a);
    fr_fill_kind(r, b->dy, n, kind, k->sig, a);
    fr_call(k, &fr_kernels_scalar, b->dy, b->x, b->ref, n, a);
}

/* Mismatches alike in the classes (zero, subnormal, normal, inf, NaN) of the floats share a key. */
static uint64_t fr_elem_key(float dy, float x, float ref, float got)
{
    uint64_t k = 0;
    const float v[4] = {dy, x, ref, got};
    for (int i = 0; i < 4; i++)
        k = k * 8 + (uint64_t)fpclassify(v[i]) % 8;
    return k | 0x10000; /* apart from the small keys of the other failures */
}

static void fr_report_elem(const fr_target *k, const fr_bufs *b, size_t n, size_t i, float got,
                           fr_args a, const fr_layout *l, const char *what)
{
    fr_note_failure(
        fr_elem_key(b->dy[i], b->x[i], b->ref[i], got),
        "%s/%s %s: n=%zu i=%zu args=(%a, %a) layout: gaps dy/x/out=%zu/%zu/%zu "
        "at_end=%u %s\n  x=%a (0x%08x) dy=%a (0x%08x)\n  ref=%a (0x%08x) got=%a (0x%08x)",
        k->name, fr_isa_of(k), what, n, i, (double)a.a, (double)a.b, l->gap_dy, l->gap_x,
        l->gap_out, l->at_end, fr_inplace_names[l->inplace], (double)b->x[i], fr_to_bits(b->x[i]),
        (double)b->dy[i], fr_to_bits(b->dy[i]), (double)b->ref[i], fr_to_bits(b->ref[i]),
        (double)got, fr_to_bits(got));
}

static void fr_check_canaries(const fr_target *k, const fr_guard *g, float *p, size_t n,
                              const char *array, const fr_layout *l)
{
    ptrdiff_t bad;
    if (fr_canary_clobbered(g, p, n, &bad))
        fr_note_failure(
            1, "%s/%s wrote outside [0, n): %s[%td], n=%zu, gaps dy/x/out=%zu/%zu/%zu at_end=%u",
            k->name, fr_isa_of(k), array, bad, n, l->gap_dy, l->gap_x, l->gap_out, l->at_end);
}

/* One call of the kernel under test on the inputs in b, laid out as l, checked against b->ref. */
static void fr_run_one(const fr_target *k, const fr_kernels *t, fr_bufs *b, size_t n, fr_args a,
                       const fr_layout *l)
{
    float *dy = fr_place(&b->g_dy, n, l->gap_dy, l->at_end & 1);
    float *x = fr_place(&b->g_x, n, l->gap_x, l->at_end & 2);
    float *out = l->inplace == FR_OUT_IS_X    ? x
                 : l->inplace == FR_OUT_IS_DY ? dy
                                              : fr_place(&b->g_out, n, l->gap_out, l->at_end & 4);
    fr_canary_set(&b->g_dy, dy, n);
    fr_canary_set(&b->g_x, x, n);
    if (l->inplace == FR_SEPARATE)
        fr_canary_set(&b->g_out, out, n);
    memcpy(dy, b->dy, n * sizeof(float));
    memcpy(x, b->x, n * sizeof(float));
    fr_call(k, t, dy, x, out, n, a);
    for (size_t i = 0; i < n; i++)
        if (!fr_elem_ok(k, b->ref[i], out[i], b->dy[i], b->x[i], a))
            fr_report_elem(k, b, n, i, out[i], a, l, "differs from the reference");
    fr_check_canaries(k, &b->g_dy, dy, n, "dy", l);
    fr_check_canaries(k, &b->g_x, x, n, "x", l);
    if (l->inplace == FR_SEPARATE)
        fr_check_canaries(k, &b->g_out, out, n, "out", l);
}

#define FR_SMALL_N_MAX 200 /* >= 3 * (16 lanes * 4 unroll) + 1 */

/* 70001 floats: beyond any head, more than the 4 x 16384 from which the streaming
 * twins split their arrays into parts (kernels/body/common.h, FR_STREAM_PART_MIN). */
static const size_t fr_large_n[] = {1000, 4099, 70001};

static size_t fr_num_large(void)
{
    return fr_test_quick() ? 1 : sizeof fr_large_n / sizeof fr_large_n[0];
}

/* Every n and every pair of x/out gaps (and so of start and end alignments), both guards. */
static void fr_sweep_alignment(const fr_target *k, const fr_kernels *t, fr_bufs *b, fr_rng *r)
{
    size_t na;
    fr_args a = fr_args_for(k->sig, &na)[0];
    size_t step = fr_test_quick() ? 5 : 1; /* quick: still every gap, fewer pairs */
    for (size_t n = 0; n <= FR_SMALL_N_MAX; n++) {
        fr_prepare(k, b, r, n, n & 1 ? FR_KIND_SPECIAL : FR_KIND_BITS, a);
        for (size_t gx = 0; gx < 16; gx++)
            for (size_t go = gx % step; go < 16; go += step) {
                fr_layout l = {(gx + 5 * go + n) % 16, gx, go, (unsigned)((gx ^ go ^ n) & 7),
                               FR_SEPARATE};
                fr_run_one(k, t, b, n, a, &l);
            }
    }
}

/* Every parameter set and input kind on every small n and a few large ones. */
static void fr_sweep_values(const fr_target *k, const fr_kernels *t, fr_bufs *b, fr_rng *r)
{
    size_t na;
    const fr_args *args = fr_args_for(k->sig, &na);
    for (size_t ia = 0; ia < na; ia++)
        for (int kind = 0; kind < FR_NUM_KINDS; kind++) {
            for (size_t n = 0; n <= FR_SMALL_N_MAX + fr_num_large(); n++) {
                size_t len = n <= FR_SMALL_N_MAX ? n : fr_large_n[n - FR_SMALL_N_MAX - 1];
                fr_prepare(k, b, r, len, (fr_kind)kind, args[ia]);
                fr_layout l = {n % 16, (n * 7) % 16, (n * 3 + ia) % 16,
                               (unsigned)((n + ia + (size_t)kind) & 7), FR_SEPARATE};
                fr_run_one(k, t, b, len, args[ia], &l);
            }
        }
}

/* y == x for forward kernels; dx == dy and dx == x for backward ones. */
static void fr_sweep_inplace(const fr_target *k, const fr_kernels *t, fr_bufs *b, fr_rng *r)
{
    size_t na;
    const fr_args *args = fr_args_for(k->sig, &na);
    for (size_t n = 0; n <= FR_SMALL_N_MAX + fr_num_large(); n++) {
        size_t len = n <= FR_SMALL_N_MAX ? n : fr_large_n[n - FR_SMALL_N_MAX - 1];
        fr_args a = args[n % na];
        fr_prepare(k, b, r, len, (fr_kind)(n % FR_NUM_KINDS), a);
        for (int mode = FR_OUT_IS_X; mode <= (fr_is_binary(k->sig) ? FR_OUT_IS_DY : FR_OUT_IS_X);
             mode++) {
            fr_layout l = {(n * 5) % 16, n % 16, 0, (unsigned)(n & 3), (fr_inplace)mode};
            fr_run_one(k, t, b, len, a, &l);
        }
    }
}

static void fr_check_elementwise(const fr_target *k, const fr_kernels *t)
{
    fr_bufs b;
    fr_rng r = fr_rng_seeded(0x5eed0000u + (uint64_t)k->slot);
    fr_bufs_init(&b, fr_large_n[sizeof fr_large_n / sizeof fr_large_n[0] - 1]);
    fr_sweep_alignment(k, t, &b, &r);
    fr_sweep_values(k, t, &b, &r);
    fr_sweep_inplace(k, t, &b, &r);
    fr_bufs_free(&b);
}

/* ---- PReLU -------------------------------------------------------------- */

typedef struct fr_shape {
    size_t outer, channels, inner;
} fr_shape;

static size_t fr_shape_size(fr_shape s) { return s.outer * s.channels * s.inner; }

/* Sizes that cross the 4 x 16-lane blocks, for the dimension a kernel vectorises. */
static const size_t fr_edge_sizes[] = {63, 64, 65, 127, 128, 129, 193, 200};
#define FR_NUM_EDGE (sizeof fr_edge_sizes / sizeof fr_edge_sizes[0])

/* The i-th test shape, or 0 when i is past the last: NHWC, then NCHW, then a few odd ones. */
static int fr_prelu_shape(size_t i, fr_shape *s)
{
    static const size_t outers[] = {1, 2, 7};
    static const size_t nchw_channels[] = {1, 2, 3, 5};
    /* ... then shapes for kernels/body/prelu.h's paths: blocks of short NCHW rows, enough
     * rows that float sums move into double, NHWC with few channels and past a tile, and
     * many periods of the flat path (channels * inner dividing 3 or 4 vectors), and rows of
     * other lengths across tiles and blocks of channels of the spelled-out alphas. */
    static const fr_shape odd[] = {
        {0, 3, 5},     {3, 0, 1},    {2, 3, 0},   {1000, 67, 1}, {2, 3, 4099},
        {5, 1, 1},     {3, 64, 16},  {40, 9, 3},  {100, 13, 33}, {40, 33, 1},
        {3, 2100, 1},  {257, 3, 1},  {301, 1, 1}, {99, 64, 1},   {61, 48, 1},
        {70, 2, 2},    {45, 4, 3},   {13, 1, 29}, {130, 8, 1},   {29, 16, 1},
        {5, 4, 16},    {6, 2, 32},   {11, 4, 4},  {9, 16, 2},   {2, 67, 2},
        {3, 37, 4},    {2, 35, 8},   {1, 256, 4}, {5, 19, 2},   {2, 300, 8},
        {3, 300, 2},   {1, 520, 4},  {130, 64, 4}, {9, 2000, 2}, {3, 9, 8},
        {3, 9, 16},    {120, 40, 8}, {40, 64, 16}, {3, 130, 9}, {2, 520, 3}, {2, 50, 41},
        {5, 60, 13},   {2, 17, 127}, {1, 16, 100}, {3, 33, 25}, {66, 70, 4}, {64, 66, 16},
        {65, 33, 2},   {5, 64, 49},  {3, 48, 49}, {2, 80, 25}, {20, 32, 9}, {17, 80, 5},
        {7, 32, 25},   {11, 48, 9},  {3, 128, 8}, {2, 256, 4}, {2, 260, 130}, {2, 600, 40},
        {2, 1100, 9},  {2, 1030, 20}, {130, 128, 2}, {68, 512, 2}, {40, 256, 4},
        {1, 64, 16},   {1, 48, 32},  {2, 48, 32},
        /* parts in streaming calls, beyond 4 x 16384 floats: the flat path's
         * (fr_prelu_flat_parts), wide NHWC rows' and 2x2 maps' (fr_prelu_rows_parts) */
        {16401, 4, 1}, {4400, 16, 1}, {2920, 24, 1}, {1090, 64, 1}, {500, 144, 1},
        {280, 64, 4}};
    size_t per_outer = 40 + FR_NUM_EDGE; /* channels 1..40, then the edge sizes */
    if (i < 3 * per_outer) {
        size_t c = i % per_outer;
        *s = (fr_shape){outers[i / per_outer], c < 40 ? c + 1 : fr_edge_sizes[c - 40], 1};
        return 1;
    }
    i -= 3 * per_outer;
    size_t per_ch = 39 + FR_NUM_EDGE; /* inner 2..40, then the edge sizes */
    if (i < 3 * 4 * per_ch) {
        size_t in = i % per_ch;
        *s = (fr_shape){outers[i / (4 * per_ch)], nchw_channels[(i / per_ch) % 4],
                        in < 39 ? in + 2 : fr_edge_sizes[in - 39]};
        return 1;
    }
    i -= 3 * 4 * per_ch;
    if (i < sizeof odd / sizeof odd[0]) {
        *s = odd[i];
        return 1;
    }
    i -= sizeof odd / sizeof odd[0];
    /* 16 channels of every row length below 128: each float of the block at every position
     * of a vector, for the AVX-512 path that finds a lane's row in float. */
    if (i < 126) {
        *s = (fr_shape){1, 16, i + 2};
        return 1;
    }
    i -= 126;
    /* ... and two or seven o's of them: AVX-512 takes blocks of 16 rows two or four at a
     * time in lockstep (seven o's: four, then two, then one alone). */
    if (i < 2 * 126) {
        *s = (fr_shape){i < 126 ? 2 : 7, 16, i % 126 + 2};
        return 1;
    }
    return 0;
}

/* Floats in the largest shape of fr_prelu_shape (500 x 144). */
#define FR_PRELU_CAP 72000

/* Inputs and reference outputs for one shape. */
typedef struct fr_pbufs {
    size_t cap, ccap;
    float *x, *dy, *alpha, *ref, *ref_dalpha;
    fr_guard g_x, g_dy, g_alpha, g_out, g_dalpha;
} fr_pbufs;

static void fr_pbufs_init(fr_pbufs *b, size_t cap, size_t ccap)
{
    b->cap = cap;
    b->ccap = ccap;
    b->x = malloc(cap * sizeof(float));
    b->dy = malloc(cap * sizeof(float));
    b->ref = malloc(cap * sizeof(float));
    b->alpha = malloc(ccap * sizeof(float));
    b->ref_dalpha = malloc(ccap * sizeof(float));
    assert_true(b->x && b->dy && b->ref && b->alpha && b->ref_dalpha);
    assert_non_null(fr_guard_alloc(&b->g_x, cap + FR_CANARY_SPAN, 0, FR_AT_START));
    assert_non_null(fr_guard_alloc(&b->g_dy, cap + FR_CANARY_SPAN, 0, FR_AT_START));
    assert_non_null(fr_guard_alloc(&b->g_out, cap + FR_CANARY_SPAN, 0, FR_AT_START));
    assert_non_null(fr_guard_alloc(&b->g_alpha, ccap + FR_CANARY_SPAN, 0, FR_AT_START));
    assert_non_null(fr_guard_alloc(&b->g_dalpha, ccap + FR_CANARY_SPAN, 0, FR_AT_START));
}

static void fr_pbufs_free(fr_pbufs *b)
{
    free(b->x);
    free(b->dy);
    free(b->ref);
    free(b->alpha);
    free(b->ref_dalpha);
    fr_guard_free(&b->g_x);
    fr_guard_free(&b->g_dy);
    fr_guard_free(&b->g_out);
    fr_guard_free(&b->g_alpha);
    fr_guard_free(&b->g_dalpha);
}

/* Whether the forward may take max_ab(x, x * alpha) for alpha (fr_prelu_maxes). */
static int fr_alpha_maxes(float a) { return a <= 1.0f && a != 0.0f; }

/* alpha[c] from the alpha list and from moderate random values. Every other
 * call draws them all negative or in (0, 1], which the forward takes apart. */
static void fr_fill_alphas(fr_rng *r, float *alpha, size_t channels)
{
    size_t na = sizeof fr_alphas / sizeof fr_alphas[0];
    int maxes = fr_rng_below(r, 2);
    for (size_t c = 0; c < channels; c++)
        do
            alpha[c] = fr_rng_below(r, 2) ? fr_alphas[fr_rng_below(r, (uint32_t)na)].a
                                          : fr_rng_uniform(r, -2.0f, 2.0f);
        while (maxes && !fr_alpha_maxes(alpha[c]));
}

static void fr_prelu_prepare(fr_pbufs *b, fr_rng *r, fr_shape s, fr_kind kind)
{
    size_t n = fr_shape_size(s);
    assert_true(n <= b->cap && s.channels <= b->ccap); /* a new shape needs bigger buffers */
    fr_fill_kind(r, b->x, n, kind, FR_SIG_prelu_fwd, fr_no_args[0]);
    fr_fill_kind(r, b->dy, n, kind, FR_SIG_prelu_bwd, fr_no_args[0]);
    fr_fill_alphas(r, b->alpha, s.channels);
}

/* Where one call's arrays sit; drawn at random so shapes meet every gap and guard. */
typedef struct fr_playout {
    size_t gap[5]; /* x, dy, alpha, out, dalpha */
    unsigned at_end;
} fr_playout;

static fr_playout fr_random_playout(fr_rng *r)
{
    fr_playout l;
    for (int i = 0; i < 5; i++)
        l.gap[i] = fr_rng_below(r, 4) ? fr_rng_below(r, 16) : 0;
    l.at_end = fr_rng_below(r, 32);
    return l;
}

static void fr_report_shape(const fr_target *k, fr_shape s, const char *mode, const char *what,
                            size_t i, float in_x, float in_dy, float alpha, float ref, float got)
{
    fr_note_failure(2,
                    "%s/%s (%s) shape outer=%zu channels=%zu inner=%zu: %s at %zu\n"
                    "  x=%a (0x%08x) dy=%a (0x%08x) alpha=%a\n  ref=%a (0x%08x) got=%a (0x%08x)",
                    k->name, fr_isa_of(k), mode, s.outer, s.channels, s.inner, what, i,
                    (double)in_x, fr_to_bits(in_x), (double)in_dy, fr_to_bits(in_dy), (double)alpha,
                    (double)ref, fr_to_bits(ref), (double)got, fr_to_bits(got));
}

/* Compares out with b->ref bit for bit; element i has channel (i / inner) % channels. */
static void fr_prelu_compare_out(const fr_target *k, const fr_pbufs *b, fr_shape s,
                                 const float *out, const char *mode)
{
    size_t n = fr_shape_size(s);
    for (size_t i = 0; i < n; i++)
        if (!fr_same_bits(b->ref[i], out[i]))
            fr_report_shape(k, s, mode, "differs from the reference", i, b->x[i], b->dy[i],
                            b->alpha[(i / s.inner) % s.channels], b->ref[i], out[i]);
}

static void fr_prelu_canaries(const fr_target *k, const fr_guard *g, float *p, size_t n, fr_shape s,
                              const char *array)
{
    ptrdiff_t bad;
    if (fr_canary_clobbered(g, p, n, &bad))
        fr_note_failure(3, "%s/%s wrote outside %s: [%td], shape outer=%zu channels=%zu inner=%zu",
                        k->name, fr_isa_of(k), array, bad, s.outer, s.channels, s.inner);
}

static void fr_prelu_fwd_one(const fr_target *k, const fr_kernels *t, fr_pbufs *b, fr_shape s,
                             const fr_playout *l, int inplace)
{
    size_t n = fr_shape_size(s);
    float *x = fr_place(&b->g_x, n, l->gap[0], l->at_end & 1);
    float *alpha = fr_place(&b->g_alpha, s.channels, l->gap[2], l->at_end & 4);
    float *y = inplace ? x : fr_place(&b->g_out, n, l->gap[3], l->at_end & 8);
    fr_canary_set(&b->g_x, x, n);
    fr_canary_set(&b->g_alpha, alpha, s.channels);
    if (!inplace)
        fr_canary_set(&b->g_out, y, n);
    memcpy(x, b->x, n * sizeof(float));
    memcpy(alpha, b->alpha, s.channels * sizeof(float));
    FR_SLOT(prelu_fwd, k, t)(x, alpha, y, s.outer, s.channels, s.inner);
    fr_prelu_compare_out(k, b, s, y, inplace ? "y == x" : "separate");
    fr_prelu_canaries(k, &b->g_x, x, n, s, "x");
    fr_prelu_canaries(k, &b->g_alpha, alpha, s.channels, s, "alpha");
    if (!inplace)
        fr_prelu_canaries(k, &b->g_out, y, n, s, "y");
}

static void fr_check_prelu_fwd(const fr_target *k, const fr_kernels *t)
{
    fr_pbufs b;
    fr_rng r = fr_rng_seeded(0x9e1u);
    fr_pbufs_init(&b, FR_PRELU_CAP, 2100);
    fr_shape s;
    for (size_t i = 0; fr_prelu_shape(i, &s); i++)
        for (int kind = 0; kind < FR_NUM_KINDS; kind++) {
            fr_prelu_prepare(&b, &r, s, (fr_kind)kind);
            fr_prelu_fwd_fn ref = fr_kernels_scalar.prelu_fwd;
            ref(b.x, b.alpha, b.ref, s.outer, s.channels, s.inner);
            for (int inplace = 0; inplace < 2; inplace++) {
                fr_playout l = fr_random_playout(&r);
                fr_prelu_fwd_one(k, t, &b, s, &l, inplace);
            }
        }
    fr_pbufs_free(&b);
}

/* ---- PReLU backward: dalpha against an exact sum ------------------------ */

static void fr_check_dalpha(const fr_target *k, const fr_pbufs *b, fr_shape s, const float *dalpha,
                            const char *mode)
{
    for (size_t c = 0; c < s.channels; c++) {
        fr_dalpha_sum e = fr_dalpha_exact(b->dy, b->x, s.outer, s.channels, s.inner, c);
        if (!fr_dalpha_ok(dalpha[c], e))
            fr_note_failure(4,
                            "%s/%s (%s) shape outer=%zu channels=%zu inner=%zu: dalpha[%zu] = %a, "
                            "exact %a, sum |terms| %a, reference %a",
                            k->name, fr_isa_of(k), mode, s.outer, s.channels, s.inner, c,
                            (double)dalpha[c], e.sum + e.comp, e.abs_sum, (double)b->ref_dalpha[c]);
    }
}

typedef enum fr_pmode {
    FR_P_BOTH,
    FR_P_NO_DX,
    FR_P_NO_DALPHA,
    FR_P_DX_IS_DY,
    FR_P_DX_IS_X,
    FR_NUM_PMODES
} fr_pmode;

static const char *const fr_pmode_names[FR_NUM_PMODES] = {"dx and dalpha", "dx NULL", "dalpha NULL",
                                                          "dx == dy", "dx == x"};

typedef struct fr_pcall {
    float *dy, *x, *alpha, *dx, *dalpha;
} fr_pcall;

static fr_pcall fr_prelu_bwd_place(fr_pbufs *b, fr_shape s, const fr_playout *l, fr_pmode m)
{
    size_t n = fr_shape_size(s);
    fr_pcall p;
    p.x = fr_place(&b->g_x, n, l->gap[0], l->at_end & 1);
    p.dy = fr_place(&b->g_dy, n, l->gap[1], l->at_end & 2);
    p.alpha = fr_place(&b->g_alpha, s.channels, l->gap[2], l->at_end & 4);
    p.dx = m == FR_P_DX_IS_DY  ? p.dy
           : m == FR_P_DX_IS_X ? p.x
           : m == FR_P_NO_DX   ? NULL
                               : fr_place(&b->g_out, n, l->gap[3], l->at_end & 8);
    p.dalpha =
        m == FR_P_NO_DALPHA ? NULL : fr_place(&b->g_dalpha, s.channels, l->gap[4], l->at_end & 16);
    fr_canary_set(&b->g_x, p.x, n);
    fr_canary_set(&b->g_dy, p.dy, n);
    fr_canary_set(&b->g_alpha, p.alpha, s.channels);
    /* Without dx (dalpha), the start of its mapping must stay untouched. */
    if (m == FR_P_NO_DX)
        fr_canary_set(&b->g_out, b->g_out.lo, 0);
    else if (m == FR_P_BOTH || m == FR_P_NO_DALPHA)
        fr_canary_set(&b->g_out, p.dx, n);
    fr_canary_set(&b->g_dalpha, p.dalpha ? p.dalpha : b->g_dalpha.lo, p.dalpha ? s.channels : 0);
    memcpy(p.x, b->x, n * sizeof(float));
    memcpy(p.dy, b->dy, n * sizeof(float));
    memcpy(p.alpha, b->alpha, s.channels * sizeof(float));
    return p;
}

static void fr_prelu_bwd_one(const fr_target *k, const fr_kernels *t, fr_pbufs *b, fr_shape s,
                             const fr_playout *l, fr_pmode m)
{
    size_t n = fr_shape_size(s);
    fr_pcall p = fr_prelu_bwd_place(b, s, l, m);
    FR_SLOT(prelu_bwd, k, t)(p.dy, p.x, p.alpha, p.dx, p.dalpha, s.outer, s.channels, s.inner);
    if (p.dx)
        fr_prelu_compare_out(k, b, s, p.dx, fr_pmode_names[m]);
    if (p.dalpha)
        fr_check_dalpha(k, b, s, p.dalpha, fr_pmode_names[m]);
    fr_prelu_canaries(k, &b->g_x, p.x, n, s, "x");
    fr_prelu_canaries(k, &b->g_dy, p.dy, n, s, "dy");
    fr_prelu_canaries(k, &b->g_alpha, p.alpha, s.channels, s, "alpha");
    if (m == FR_P_BOTH || m == FR_P_NO_DALPHA)
        fr_prelu_canaries(k, &b->g_out, p.dx, n, s, "dx");
    if (m == FR_P_NO_DX)
        fr_prelu_canaries(k, &b->g_out, b->g_out.lo, 0, s, "the unused dx mapping");
    fr_prelu_canaries(k, &b->g_dalpha, p.dalpha ? p.dalpha : b->g_dalpha.lo,
                      p.dalpha ? s.channels : 0, s, "dalpha");
}

static void fr_check_prelu_bwd(const fr_target *k, const fr_kernels *t)
{
    fr_pbufs b;
    fr_rng r = fr_rng_seeded(0xba0u);
    fr_pbufs_init(&b, FR_PRELU_CAP, 2100);
    fr_shape s;
    for (size_t i = 0; fr_prelu_shape(i, &s); i++)
        for (int kind = 0; kind < FR_NUM_KINDS; kind++) {
            fr_prelu_prepare(&b, &r, s, (fr_kind)kind);
            fr_kernels_scalar.prelu_bwd(b.dy, b.x, b.alpha, b.ref, b.ref_dalpha, s.outer,
                                        s.channels, s.inner);
            for (int m = 0; m < FR_NUM_PMODES; m++) {
                fr_playout l = fr_random_playout(&r);
                fr_prelu_bwd_one(k, t, &b, s, &l, (fr_pmode)m);
            }
        }
    fr_pbufs_free(&b);
}

/* ---- the cmocka tests --------------------------------------------------- */

static void fr_check_table(const fr_target *k, const fr_kernels *t)
{
    switch (k->sig) {
    case FR_SIG_prelu_fwd:
        fr_check_prelu_fwd(k, t);
        break;
    case FR_SIG_prelu_bwd:
        fr_check_prelu_bwd(k, t);
        break;
    default:
        fr_check_elementwise(k, t);
        break;
    }
}

/* The kernel, and its streaming twin where the ISA has one. */
static void fr_test_kernel(void **state)
{
    const fr_target *k = *state;
    const fr_kernels *t = fr_table_or_skip(k->isa);
    fr_start_test();
    fr_check_table(k, t);
    if (t->stream != t) {
        fr_target twin = *k;
        twin.stream = 1;
        fr_check_table(&twin, t->stream);
    }
    fr_end_test();
}

/*
 * 2^24 elements in one channel, as one NCHW row and as NHWC rows: a float
 * accumulator (even 64 of them) drifts far past 1e-5 of sum |terms| here.
 * The terms all have one sign, so nothing cancels the drift.
 */
#define FR_BIG (1u << 24)

static void fr_test_dalpha_2p24(void **state)
{
    int isa = (int)(intptr_t)*state;
    const fr_kernels *t = fr_table_or_skip(isa);
    fr_target k = {"prelu_bwd dalpha 2^24", FR_SIG_prelu_bwd, 0, 0, isa, 0};
    fr_start_test();
    size_t n = fr_test_quick() ? FR_BIG / 16 : FR_BIG;
    fr_guard gx, gdy, gda;
    float *x = fr_guard_alloc(&gx, n, 0, FR_AT_END);
    float *dy = fr_guard_alloc(&gdy, n, 0, FR_AT_START);
    float *dalpha = fr_guard_alloc(&gda, 1, 0, FR_AT_END);
    assert_true(x && dy && dalpha);
    fr_rng r = fr_rng_seeded(0x2424u);
    for (size_t i = 0; i < n; i++) {
        x[i] = fr_rng_below(&r, 4) ? -fr_rng_uniform(&r, 0.0f, 1.0f) : 1.0f;
        dy[i] = fr_rng_uniform(&r, 0.5f, 1.0f);
    }
    const float alpha = 0.25f;
    const fr_shape shapes[2] = {{1, 1, n}, {n, 1, 1}};
    fr_dalpha_sum e = fr_dalpha_exact(dy, x, shapes[0].outer, shapes[0].channels, shapes[0].inner, 0);
    for (int i = 0; i < 2; i++) {
        *dalpha = NAN;
        t->prelu_bwd(dy, x, &alpha, NULL, dalpha, shapes[i].outer, 1, shapes[i].inner);
        print_message("%s %s: dalpha %.9g, exact %.9g, error %.3g of sum |terms|\n", fr_isa_of(&k),
                      i ? "NHWC" : "NCHW", (double)*dalpha, e.sum + e.comp,
                      fabs((double)*dalpha - (e.sum + e.comp)) / e.abs_sum);
        if (!fr_dalpha_ok(*dalpha, e))
            fr_note_failure(5, "%s/%s: %s dalpha %a, exact %a, sum |terms| %a", k.name,
                            fr_isa_of(&k), i ? "NHWC" : "NCHW", (double)*dalpha, e.sum + e.comp,
                            e.abs_sum);
    }
    fr_guard_free(&gx);
    fr_guard_free(&gdy);
    fr_guard_free(&gda);
    fr_end_test();
}

/*
 * Terms of ±3e38 that cancel: rows 0 and 1 give -3e38 each, rows 2 and 3
 * +3e38, so every channel's sum is exactly 0. Any float partial sum of two of
 * them overflows to -inf and never comes back (the fuzzer found that in a
 * kernel that summed in float before double). The kernels' float runs do
 * overflow here, and the channel is summed again: out of place, and in place
 * (dx == dy, dx == x), where dalpha has to come before dx overwrites its input.
 */
/* One shape of fr_test_dalpha_range, with dx apart (place 0) or in place of dy (1) or x (2). */
static void fr_check_dalpha_range(const fr_kernels *t, int isa, fr_shape sh, int place)
{
    enum { CAP = 4 * 2 * 300 }; /* the largest shape */
    static float x[CAP], dy[CAP], dx[CAP], x0[CAP], dy0[CAP];
    float alpha[100], dalpha[100];
    size_t row = sh.channels * sh.inner, n = sh.outer * row;
    assert_true(n <= CAP && sh.channels <= 100);
    for (size_t i = 0; i < n; i++) {
        x[i] = x0[i] = -2e38f;
        dy[i] = dy0[i] = i / row < 2 ? 1.5f : -1.5f;
    }
    for (size_t c = 0; c < sh.channels; c++)
        alpha[c] = 0.5f;
    float *out = place == 0 ? dx : place == 1 ? dy : x;
    t->prelu_bwd(dy, x, alpha, out, dalpha, sh.outer, sh.channels, sh.inner);
    for (size_t c = 0; c < sh.channels; c++) {
        fr_dalpha_sum e = fr_dalpha_exact(dy0, x0, sh.outer, sh.channels, sh.inner, c);
        if (!fr_dalpha_ok(dalpha[c], e))
            fr_note_failure(5, "prelu_bwd dalpha range/%s: shape %zu x %zu x %zu, %s: dalpha[%zu] "
                               "= %a, exact %a",
                            fr_test_isa_name(isa), sh.outer, sh.channels, sh.inner,
                            place == 0 ? "dx apart" : place == 1 ? "dx == dy" : "dx == x", c,
                            (double)dalpha[c], e.sum + e.comp);
    }
}

static void fr_test_dalpha_range(void **state)
{
    int isa = (int)(intptr_t)*state;
    const fr_kernels *t = fr_table_or_skip(isa);
    fr_start_test();
    const fr_shape shapes[] = {{4, 5, 33}, {4, 5, 1}, {4, 100, 1}, {4, 2, 300}, {4, 3, 16}};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++)
        for (int place = 0; place < 3; place++)
            fr_check_dalpha_range(t, isa, shapes[k], place);
    fr_end_test();
}

/*
 * The table's all_finite (PReLU's alpha check) and its twin's, on every length
 * to past 4 vectors, against the trailing guard page: finite values of every
 * kind pass, and one infinity or NaN at any position fails.
 */
static void fr_test_all_finite(void **state)
{
    int isa = (int)(intptr_t)*state;
    const fr_kernels *t = fr_table_or_skip(isa);
    fr_start_test();
    static const float finite[] = {0.0f, -0.0f, 1.0f, -2.5f, FLT_MAX, -FLT_MAX, FLT_MIN, 0x1p-149f};
    const float bad[] = {INFINITY, -INFINITY, NAN, -NAN};
    enum { CAP = 4 * 16 + 7 };
    fr_guard g;
    for (size_t n = 0; n <= CAP; n++) {
        float *p = fr_guard_alloc(&g, n, 0, FR_AT_END);
        assert_true(p || n == 0);
        for (size_t i = 0; i < n; i++)
            p[i] = finite[(i * 5 + n) % (sizeof finite / sizeof finite[0])];
        const fr_kernels *twins[2] = {t, t->stream};
        for (int w = 0; w < 2; w++) {
            if (!twins[w]->all_finite(p, n))
                fr_note_failure(5, "all_finite/%s: %zu finite floats rejected",
                                fr_test_isa_name(isa), n);
            for (size_t i = 0; i < n; i++)
                for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
                    float keep = p[i];
                    p[i] = bad[b];
                    if (twins[w]->all_finite(p, n))
                        fr_note_failure(5, "all_finite/%s: %a at %zu of %zu passed",
                                        fr_test_isa_name(isa), (double)bad[b], i, n);
                    p[i] = keep;
                }
        }
        fr_guard_free(&g);
    }
    fr_end_test();
}

// clang-format off
#define FR_TEST(op, dir, isa, name) \
    {#op "_" #dir "/" name, fr_test_kernel, NULL, NULL, &fr_t_##op##_##dir[isa]}
#define FR_TESTS_FOR(op, dir, sig, ulp)                    \
    FR_TEST(op, dir, FASTRELU_ISA_SCALAR, "scalar"),       \
    FR_TEST(op, dir, FASTRELU_ISA_SSE2, "sse2"),           \
    FR_TEST(op, dir, FASTRELU_ISA_AVX2, "avx2"),           \
    FR_TEST(op, dir, FASTRELU_ISA_AVX512, "avx512"),       \
    FR_TEST(op, dir, FASTRELU_ISA_NEON, "neon"),
#define FR_DALPHA_TEST(isa, name) \
    {"prelu_bwd_dalpha_2^24/" name, fr_test_dalpha_2p24, NULL, NULL, (void *)(intptr_t)(isa)}, \
    {"prelu_bwd_dalpha_range/" name, fr_test_dalpha_range, NULL, NULL, (void *)(intptr_t)(isa)}, \
    {"all_finite/" name, fr_test_all_finite, NULL, NULL, (void *)(intptr_t)(isa)}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FR_KERNEL_LIST(FR_TESTS_FOR)
        FR_DALPHA_TEST(FASTRELU_ISA_SCALAR, "scalar"),
        FR_DALPHA_TEST(FASTRELU_ISA_SSE2, "sse2"),
        FR_DALPHA_TEST(FASTRELU_ISA_AVX2, "avx2"),
        FR_DALPHA_TEST(FASTRELU_ISA_AVX512, "avx512"),
        FR_DALPHA_TEST(FASTRELU_ISA_NEON, "neon"),
    };
    return cmocka_run_group_tests_name("kernels", tests, NULL, NULL);
}
// clang-format on
