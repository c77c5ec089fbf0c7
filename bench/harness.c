/*
 * The op table of fastrelu-bench, expanded from the kernel registry
 * (FR_KERNEL_LIST in src/internal.h): a kernel added there without a caller
 * here stops the bench from compiling, so no op goes unmeasured.
 */
#include "harness.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- one call of each op through the public API ------------------------ */

typedef fastrelu_status (*frb_call_fn)(const frb_data *d, float *out, float *dalpha);

static fastrelu_status frb_relu_fwd(const frb_data *d, float *y, float *dalpha)
{
    (void)dalpha;
    return fastrelu_relu_f32(d->x, y, d->n);
}

static fastrelu_status frb_relu_bwd(const frb_data *d, float *dx, float *dalpha)
{
    (void)dalpha;
    return fastrelu_relu_backward_f32(d->dy, d->x, dx, d->n);
}

static fastrelu_status frb_leaky_relu_fwd(const frb_data *d, float *y, float *dalpha)
{
    (void)dalpha;
    return fastrelu_leaky_relu_f32(d->x, y, d->n, FRB_LEAKY_ALPHA);
}

static fastrelu_status frb_leaky_relu_bwd(const frb_data *d, float *dx, float *dalpha)
{
    (void)dalpha;
    return fastrelu_leaky_relu_backward_f32(d->dy, d->x, dx, d->n, FRB_LEAKY_ALPHA);
}

/* PReLU as (n / (C * inner), C, inner): frb_call sets the op's C and inner. */
static fastrelu_status frb_prelu_fwd(const frb_data *d, float *y, float *dalpha)
{
    (void)dalpha;
    return fastrelu_prelu_f32(d->x, d->alpha, y, d->n / (d->channels * d->inner), d->channels,
                              d->inner);
}

/* Both outputs, as a training step needs them. */
static fastrelu_status frb_prelu_bwd(const frb_data *d, float *dx, float *dalpha)
{
    return fastrelu_prelu_backward_f32(d->dy, d->x, d->alpha, dx, dalpha,
                                       d->n / (d->channels * d->inner), d->channels, d->inner);
}

static fastrelu_status frb_elu_fwd(const frb_data *d, float *y, float *dalpha)
{
    (void)dalpha;
    return fastrelu_elu_f32(d->x, y, d->n, FRB_ELU_ALPHA);
}

static fastrelu_status frb_elu_bwd(const frb_data *d, float *dx, float *dalpha)
{
    (void)dalpha;
    return fastrelu_elu_backward_f32(d->dy, d->x, dx, d->n, FRB_ELU_ALPHA);
}

static fastrelu_status frb_clip_fwd(const frb_data *d, float *y, float *dalpha)
{
    (void)dalpha;
    return fastrelu_clip_f32(d->x, y, d->n, FRB_CLIP_LO, FRB_CLIP_HI);
}

static fastrelu_status frb_clip_bwd(const frb_data *d, float *dx, float *dalpha)
{
    (void)dalpha;
    return fastrelu_clip_backward_f32(d->dy, d->x, dx, d->n, FRB_CLIP_LO, FRB_CLIP_HI);
}

/* ---- the table ------------------------------------------------------------ */

typedef struct frb_op {
    const char *name;
    int backward;
    int ulp;           /* 0: bit for bit */
    int arrays;        /* arrays of n floats read or written */
    int ch_in, ch_out; /* arrays of `channels` floats read, written */
    /* 1: rows of exactly inner floats, up to FRB_MAX_CHANNELS of them, as many whole
     * N x C x inner tensors as fit in n; the op runs on those elements only */
    int fit;
    /* PReLU's rows: 0 for one row a channel (NCHW, N = 1), 1 for channels last, or k */
    size_t inner;
    frb_call_fn call;
    /* PReLU: the most channels that divide n, up to this (0: FRB_MAX_CHANNELS) */
    size_t max_channels;
} frb_op;

#define FRB_NAME_fwd(op) #op "_f32"
#define FRB_NAME_bwd(op) #op "_backward_f32"
#define FRB_BACKWARD_fwd 0
#define FRB_BACKWARD_bwd 1

/* Traffic follows from the signature: x -> y, (dy, x) -> dx, plus PReLU's alpha -> dalpha. */
#define FRB_TRAFFIC_unary 2, 0, 0
#define FRB_TRAFFIC_unary_a 2, 0, 0
#define FRB_TRAFFIC_unary_ab 2, 0, 0
#define FRB_TRAFFIC_binary 3, 0, 0
#define FRB_TRAFFIC_binary_a 3, 0, 0
#define FRB_TRAFFIC_binary_ab 3, 0, 0
#define FRB_TRAFFIC_prelu_fwd 2, 1, 0
#define FRB_TRAFFIC_prelu_bwd 3, 1, 1

#define FRB_OP(op, dir, sig, ulp)                                                                  \
    {FRB_NAME_##dir(op), FRB_BACKWARD_##dir, ulp, FRB_TRAFFIC_##sig, 0, 0, frb_##op##_##dir, 0},
static const frb_op frb_ops[] = {
    FR_KERNEL_LIST(FRB_OP)
    /* PReLU once more in the other layout, which takes other loops in the kernels. */
    {"prelu_nhwc_f32", 0, 0, FRB_TRAFFIC_prelu_fwd, 0, 1, frb_prelu_fwd, 0},
    {"prelu_nhwc_backward_f32", 1, 0, FRB_TRAFFIC_prelu_bwd, 0, 1, frb_prelu_bwd, 0},
    /* ... and with 4 channels (RGBA, or any narrow feature map): rows of one to a few floats,
     * which the kernels run flat with the alphas in registers. */
    {"prelu_nhwc4_f32", 0, 0, FRB_TRAFFIC_prelu_fwd, 0, 1, frb_prelu_fwd, 4},
    {"prelu_nhwc4_backward_f32", 1, 0, FRB_TRAFFIC_prelu_bwd, 0, 1, frb_prelu_bwd, 4},
    /* ... and NCHW with 2x2 maps (late layers of a CNN): rows shorter than a vector. */
    {"prelu_2x2_f32", 0, 0, FRB_TRAFFIC_prelu_fwd, 0, 4, frb_prelu_fwd, 0},
    {"prelu_2x2_backward_f32", 1, 0, FRB_TRAFFIC_prelu_bwd, 0, 4, frb_prelu_bwd, 0},
    /* ... and with 7x7 maps (ResNet's last stage): rows of 49 floats, which no vector
     * divides, on the whole tensors that fit in n. */
    {"prelu_7x7_f32", 0, 0, FRB_TRAFFIC_prelu_fwd, 1, 49, frb_prelu_fwd, 0},
    {"prelu_7x7_backward_f32", 1, 0, FRB_TRAFFIC_prelu_bwd, 1, 49, frb_prelu_bwd, 0},
    /* ... and with 3x3 maps: rows of 9 floats, shorter than a vector but not a power of 2. */
    {"prelu_3x3_f32", 0, 0, FRB_TRAFFIC_prelu_fwd, 1, 9, frb_prelu_fwd, 0},
    {"prelu_3x3_backward_f32", 1, 0, FRB_TRAFFIC_prelu_bwd, 1, 9, frb_prelu_bwd, 0},
};
#undef FRB_OP

#define FRB_NUM_OPS (sizeof frb_ops / sizeof frb_ops[0])
_Static_assert(FRB_NUM_OPS <= FRB_MAX_OPS, "raise FRB_MAX_OPS");

size_t frb_op_count(void) { return FRB_NUM_OPS; }
const char *frb_op_name(size_t op) { return frb_ops[op].name; }
int frb_op_is_backward(size_t op) { return frb_ops[op].backward; }

/* Op's PReLU channel count at size n: the most, up to its maximum, that divide n's rows
 * (a fit op: as many rows as fit, up to FRB_MAX_CHANNELS; 0 when not one does). */
static size_t frb_channels(size_t op, size_t n)
{
    if (frb_ops[op].fit)
        return n / frb_ops[op].inner < FRB_MAX_CHANNELS ? n / frb_ops[op].inner : FRB_MAX_CHANNELS;
    size_t c = frb_ops[op].max_channels ? frb_ops[op].max_channels : FRB_MAX_CHANNELS;
    size_t rows = frb_ops[op].inner > 1 && n % frb_ops[op].inner == 0 ? n / frb_ops[op].inner : n;
    while (rows % c != 0)
        c /= 2;
    return c;
}

size_t frb_op_elements(size_t op, size_t n)
{
    if (!frb_ops[op].fit)
        return n;
    size_t tensor = frb_channels(op, n) * frb_ops[op].inner;
    return tensor ? n / tensor * tensor : 0;
}

double frb_op_bytes(size_t op, size_t n)
{
    const frb_op *o = &frb_ops[op];
    double channel_arrays = o->ch_in + o->ch_out;
    return (double)sizeof(float) * ((double)o->arrays * (double)frb_op_elements(op, n) +
                                    channel_arrays * (double)frb_channels(op, n));
}

size_t frb_footprint(int backward, size_t n) { return (backward ? 12 : 8) * n; }

/* ---- buffers -------------------------------------------------------------- */

/*
 * The second array of a block starts one page (FRB_SKEW floats) after the first
 * one's capacity. Arrays a power of two apart share their virtual address bits
 * from 12 up, and Zen 3's L1 does not keep two such lines at once (its way
 * predictor tags lines by a hash of those bits): relu_backward_f32/avx2 at 1Ki
 * took 90 ns with x and dy 256 MB apart, 53 ns with a page more between them.
 */
#define FRB_SKEW ((size_t)4096 / sizeof(float))

static void *frb_alloc(size_t bytes)
{
    size_t rounded = (bytes + 63) / 64 * 64; /* aligned_alloc wants a multiple */
    return aligned_alloc(64, rounded ? rounded : 64);
}

static float *frb_floats(size_t n) { return frb_alloc(n * sizeof(float)); }

/* splitmix64: fixed seed, so every run and every machine sees the same data. */
static uint64_t frb_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Uniform in [lo, lo + width) on a grid of width * 2^-24. */
static float frb_uniform(uint64_t *s, float lo, float width)
{
    return lo + width * (float)(frb_next(s) >> 40) * 0x1p-24f;
}

static void frb_fill(frb_data *d)
{
    uint64_t s = 42;
    for (size_t i = 0; i < d->capacity; i++) {
        uint64_t r = frb_next(&s);
        d->x[i] = frb_uniform(&s, -8.0f, 16.0f);
        if ((r & 31) == 0)
            d->x[i] = (r & 32) ? -0.0f : 0.0f;
        d->dy[i] = frb_uniform(&s, -1.0f, 2.0f);
    }
    for (size_t c = 0; c < FRB_MAX_CHANNELS; c++)
        d->alpha[c] = 0.25f + 0.01f * (float)c; /* PyTorch's initial 0.25, told apart per channel */
    /* Touch out and ref (frb_finish swaps them) so that no page fault lands in a timed call. */
    memset(d->outputs, 0, (2 * d->capacity + FRB_SKEW) * sizeof(float));
    memset(d->x + d->capacity, 0, FRB_SKEW * sizeof(float)); /* the memcpy baseline reads it */
}

/* Two blocks of two arrays each, so that the memcpy baseline can copy one
 * into the other (frb_copy_buffers) and the largest size fits in 1 GiB. */
frb_data *frb_data_create(size_t capacity)
{
    frb_data *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->capacity = capacity;
    d->inputs = frb_floats(2 * capacity + FRB_SKEW);
    d->outputs = frb_floats(2 * capacity + FRB_SKEW);
    d->per_channel = frb_floats(3 * FRB_MAX_CHANNELS);
    if (!d->inputs || !d->outputs || !d->per_channel) {
        frb_data_destroy(d);
        return NULL;
    }
    d->x = d->inputs;
    d->dy = d->inputs + capacity + FRB_SKEW;
    d->out = d->outputs;
    d->ref = d->outputs + capacity + FRB_SKEW;
    d->alpha = d->per_channel;
    d->dalpha = d->per_channel + FRB_MAX_CHANNELS;
    d->ref_dalpha = d->per_channel + 2 * FRB_MAX_CHANNELS;
    frb_fill(d);
    frb_data_select(d, capacity);
    return d;
}

void frb_data_select(frb_data *d, size_t n)
{
    d->n = n;
    for (size_t op = 0; op < FRB_NUM_OPS; op++)
        d->op_channels[op] = frb_channels(op, n);
    d->ref_op = FRB_NUM_OPS;
    memset(d->checked, 0, sizeof d->checked);
}

void frb_data_destroy(frb_data *d)
{
    if (!d)
        return;
    free(d->inputs);
    free(d->outputs);
    free(d->per_channel);
    free(d);
}

void frb_copy_buffers(frb_data *d, const void **src, void **dst)
{
    *src = d->inputs;
    *dst = d->outputs;
    d->ref_op = FRB_NUM_OPS; /* the copy overwrites it */
}

size_t frb_op_shape(frb_data *d, size_t op, size_t *channels, size_t *inner)
{
    d->channels = d->op_channels[op];
    size_t rows = frb_ops[op].inner;
    int whole = frb_ops[op].fit || (rows != 0 && d->n % (d->channels * rows) == 0);
    d->inner = whole ? rows : d->n / d->channels;
    *channels = d->channels;
    *inner = d->inner;
    return frb_op_elements(op, d->n) / (d->channels * d->inner);
}

/* Every call of an op goes through here: d->channels becomes the op's. */
static fastrelu_status frb_call(frb_data *d, size_t op, float *out, float *dalpha)
{
    size_t channels, inner;
    frb_op_shape(d, op, &channels, &inner);
    return frb_ops[op].call(d, out, dalpha);
}

/* ---- checks --------------------------------------------------------------- */

static char frb_msg[256];

static const char *frb_fail(const char *what, size_t i, double got, double want)
{
    snprintf(frb_msg, sizeof frb_msg, "%s at [%zu]: got %.9g, scalar gives %.9g", what, i, got,
             want);
    return frb_msg;
}

/* Distance in units in the last place: floats mapped to integers in their order. */
static uint32_t frb_ordered(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return (u & 0x80000000u) ? 0x80000000u - (u & 0x7fffffffu) : 0x80000000u + u;
}

static uint32_t frb_ulps(float a, float b)
{
    uint32_t ia = frb_ordered(a), ib = frb_ordered(b);
    return ia > ib ? ia - ib : ib - ia;
}

static const char *frb_compare(const float *got, const float *ref, size_t n, int ulp)
{
    for (size_t i = 0; i < n; i++) {
        int same = ulp == 0 ? memcmp(&got[i], &ref[i], sizeof(float)) == 0
                            : frb_ulps(got[i], ref[i]) <= (uint32_t)ulp;
        if (!same)
            return frb_fail(ulp == 0 ? "not bit-identical" : "beyond the ulp bound", i, got[i],
                            ref[i]);
    }
    return NULL;
}

/* dalpha sums in a different order on each ISA, so it is held to docs/semantics.md's bound. */
static const char *frb_compare_dalpha(const frb_data *d, const float *dalpha)
{
    for (size_t c = 0; c < d->channels; c++)
        if (!(fabs((double)dalpha[c] - d->ref_dalpha[c]) <= 1e-5 * d->dalpha_scale[c]))
            return frb_fail("dalpha", c, dalpha[c], d->ref_dalpha[c]);
    return NULL;
}

/* Channel c's elements: inner at a time, from (o * C + c) * inner for every o. */
static void frb_measure_dalpha_terms(frb_data *d)
{
    size_t row = d->channels * d->inner;
    for (size_t c = 0; c < d->channels; c++) {
        double sum = 0.0;
        for (size_t o = 0; o < d->n / row; o++)
            for (size_t k = 0, i = o * row + c * d->inner; k < d->inner; k++, i++)
                if (!(d->x[i] > 0.0f))
                    sum += fabs((double)d->x[i] * d->dy[i]);
        d->dalpha_scale[c] = sum;
    }
}

/* ref now holds op's scalar answer. */
static void frb_have_reference(frb_data *d, size_t op)
{
    if (frb_ops[op].ch_out)
        frb_measure_dalpha_terms(d);
    d->ref_op = op;
}

/* The scalar ISA's answer for op, computed once per op and size. */
static const char *frb_reference(frb_data *d, size_t op)
{
    if (d->ref_op == op)
        return NULL;
    if (fastrelu_set_isa(FASTRELU_ISA_SCALAR) != FASTRELU_OK ||
        frb_call(d, op, d->ref, d->ref_dalpha) != FASTRELU_OK)
        return "the scalar reference call failed";
    frb_have_reference(d, op);
    return NULL;
}

/* One call of op on the active ISA, compared with the reference. */
static const char *frb_check(frb_data *d, size_t op)
{
    /* NaN everywhere first, so that an element the kernel skips cannot pass for a result. */
    memset(d->out, 0xff, d->n * sizeof(float));
    memset(d->dalpha, 0xff, FRB_MAX_CHANNELS * sizeof(float));
    fastrelu_status s = frb_run(d, op);
    if (s != FASTRELU_OK)
        return fastrelu_status_string(s);
    const char *err = frb_compare(d->out, d->ref, frb_op_elements(op, d->n), frb_ops[op].ulp);
    if (!err && frb_ops[op].ch_out)
        err = frb_compare_dalpha(d, d->dalpha);
    return err;
}

const char *frb_prepare(frb_data *d, size_t op, fastrelu_isa isa)
{
    unsigned bit = 1u << isa;
    /* The scalar ISA is not checked: it is the reference, and frb_finish keeps its output. */
    int check = isa != FASTRELU_ISA_SCALAR && !(d->checked[op] & bit);
    const char *err = check ? frb_reference(d, op) : NULL;
    if (!err && fastrelu_set_isa(isa) != FASTRELU_OK)
        err = "this CPU or build lacks the ISA";
    if (!err && check)
        err = frb_check(d, op);
    if (!err)
        d->checked[op] |= bit;
    return err;
}

fastrelu_status frb_run(frb_data *d, size_t op) { return frb_call(d, op, d->out, d->dalpha); }

void frb_finish(frb_data *d, size_t op, fastrelu_isa isa)
{
    if (isa != FASTRELU_ISA_SCALAR || d->ref_op == op)
        return;
    float *t = d->ref;
    d->ref = d->out;
    d->out = t;
    t = d->ref_dalpha;
    d->ref_dalpha = d->dalpha;
    d->dalpha = t;
    frb_have_reference(d, op);
}

const char *frb_check_foreign(frb_data *d, size_t op, const float *out, const float *dalpha,
                              double abs_tol, double rel_tol)
{
    const char *err = frb_reference(d, op);
    if (err)
        return err;
    for (size_t i = 0; i < frb_op_elements(op, d->n); i++)
        if (!(fabs((double)out[i] - d->ref[i]) <= abs_tol + rel_tol * fabs((double)d->ref[i])))
            return frb_fail("differs from fastrelu", i, out[i], d->ref[i]);
    return dalpha ? frb_compare_dalpha(d, dalpha) : NULL;
}
