/*
 * The C side of fastrelu-bench: the list of ops, their buffers, one call of an
 * op through the public API, and the check against the scalar ISA that runs
 * before anything is timed. The C++ side only registers benchmarks around it.
 *
 * Single-threaded by design: fastrelu_set_isa() is process-wide and the
 * messages live in a static buffer.
 */
#ifndef FASTRELU_BENCH_HARNESS_H
#define FASTRELU_BENCH_HARNESS_H

#include <stddef.h>

#include "fastrelu.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The scalars every op runs with; the other libraries' rows use the same. */
#define FRB_LEAKY_ALPHA 0.01f /* PyTorch's default negative slope */
#define FRB_ELU_ALPHA 1.0f
#define FRB_CLIP_LO 0.0f /* relu6 */
#define FRB_CLIP_HI 6.0f
#define FRB_MAX_CHANNELS 64
#define FRB_MAX_OPS 32

/*
 * Buffers for up to `capacity` elements; a benchmark of size n uses the first
 * n, so every size sees the same values and the buffers are filled once.
 * x is uniform in [-8, 8) with 1 in 32 elements an exact +0 or -0, so relu6
 * clips on both sides and the x == 0 rules are exercised; dy is uniform in
 * [-1, 1). PReLU runs as NCHW with N = 1, C = gcd(n, 64), HW = n / C,
 * prelu_nhwc as n / C rows of the same C channels, prelu_nhwc4 as
 * prelu_nhwc with C = gcd(n, 4), prelu_2x2 as NCHW with HW = 4,
 * C = gcd(n / 4, 64) and N = n / (4C), and prelu_7x7 as NCHW with HW = 49,
 * C = min(n / 49, 64) and N = n / (49C), on the first 49CN elements
 * (prelu_3x3 likewise with HW = 9).
 */
typedef struct frb_data {
    size_t capacity;
    size_t n;                        /* the size in use */
    size_t channels;                 /* PReLU's, for the op being called */
    size_t inner;                    /* ... and the length of its rows */
    size_t op_channels[FRB_MAX_OPS]; /* each op's at this size */
    /* The three allocations that the arrays below live in. */
    float *inputs, *outputs, *per_channel;
    float *x, *dy, *alpha;   /* inputs, alpha has FRB_MAX_CHANNELS floats */
    float *out, *dalpha;     /* what the call under test writes */
    float *ref, *ref_dalpha; /* the scalar ISA's answer for ref_op */
    /* Per channel, the sum of |terms| of dalpha: its tolerance scales with it. */
    double dalpha_scale[FRB_MAX_CHANNELS];
    size_t ref_op;                 /* the op ref holds; frb_op_count() when none */
    unsigned checked[FRB_MAX_OPS]; /* per op, a bit per fastrelu_isa that passed the check */
} frb_data;

/* The ops in the order of the kernel registry, named as the public functions
 * without the prefix: "relu_f32", "relu_backward_f32", ... */
size_t frb_op_count(void);
const char *frb_op_name(size_t op);
int frb_op_is_backward(size_t op);
/* The elements a call at size n runs on: n, or for prelu_7x7 and 3x3 the whole tensors that fit. */
size_t frb_op_elements(size_t op, size_t n);
/* Bytes read plus bytes written by one call at size n. */
double frb_op_bytes(size_t op, size_t n);
/* The memcpy traffic (read + written) that matches a forward (8n) or backward (12n) op. */
size_t frb_footprint(int backward, size_t n);

/* Allocates (64-byte aligned) and fills; NULL when out of memory. */
frb_data *frb_data_create(size_t capacity);
void frb_data_destroy(frb_data *d);
/* Switches to the first n <= capacity elements; forgets the reference and the checks. */
void frb_data_select(frb_data *d, size_t n);

/*
 * Makes isa the active ISA and checks one call of op on it against the scalar
 * ISA: bit for bit, or within the registry's ulp bound, and dalpha within
 * 1e-5 of the sum of its terms' magnitudes. NULL when they agree, else why not.
 * The check runs once per op, ISA and data set; the scalar ISA is the reference.
 */
const char *frb_prepare(frb_data *d, size_t op, fastrelu_isa isa);
/* One call of op on the active ISA, writing d->out (and d->dalpha). */
fastrelu_status frb_run(frb_data *d, size_t op);
/* After the timed calls: the scalar ISA's output becomes the reference, which
 * saves a scalar call (up to a second at 64Mi) per op and size. */
void frb_finish(frb_data *d, size_t op, fastrelu_isa isa);
/* PReLU's shape for op at the size in use: returns N (the rows of channels,
 * outer), sets its channels and inner (1: channels last). Other ops: any. */
size_t frb_op_shape(frb_data *d, size_t op, size_t *channels, size_t *inner);
/* Checks another library's output of op (and PReLU's dalpha, unless NULL)
 * against the scalar ISA's, out within abs_tol + rel_tol * |ref| (-0 equals
 * +0), dalpha within its bound. NULL when they agree, else why not. */
const char *frb_check_foreign(frb_data *d, size_t op, const float *out, const float *dalpha,
                              double abs_tol, double rel_tol);

/* Source and destination for the memcpy baseline, 8 * capacity bytes each:
 * the input arrays and the output arrays. Forgets the reference. */
void frb_copy_buffers(frb_data *d, const void **src, void **dst);

#ifdef __cplusplus
}
#endif

#endif /* FASTRELU_BENCH_HARNESS_H */
