/*
 * Test utilities shared by the cmocka tests: guard-page buffers, a
 * deterministic PRNG with input generators, float comparison in bits and in
 * ulps, the list of kernel tables this CPU can run, and one caller of every
 * registry op, through the public API or straight into a table's kernel.
 *
 * <stdarg.h>, <stddef.h>, <setjmp.h> and <cmocka.h> come in through this
 * header, in the order cmocka needs.
 */
#ifndef FASTRELU_TEST_UTIL_H
#define FASTRELU_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dispatch.h"
#include "internal.h"

/* ---- guard-page buffers ------------------------------------------------- */

/*
 * One mapping: PROT_NONE page | accessible pages [lo, hi) | PROT_NONE page.
 * lo and hi are page-aligned, so an array placed flush against either end
 * crashes the test on the first out-of-bounds read or write.
 */
typedef struct fr_guard {
    void *map;
    size_t map_len;
    float *lo; /* first accessible float, right after the leading guard page */
    float *hi; /* one past the last accessible float, right before the trailing guard page */
} fr_guard;

typedef enum fr_guard_side {
    FR_AT_START, /* the array begins `gap` floats after the leading guard page */
    FR_AT_END    /* the array ends `gap` floats before the trailing guard page */
} fr_guard_side;

/*
 * Maps room for n + gap floats between two guard pages and returns the array
 * (NULL if mmap fails). gap = 0 puts the array flush against the guard; since
 * the guard is page-aligned, gap 0..15 is also the misalignment in floats of
 * the array's start (FR_AT_START) or end (FR_AT_END) relative to 64 bytes.
 */
float *fr_guard_alloc(fr_guard *g, size_t n, size_t gap, fr_guard_side side);
void fr_guard_free(fr_guard *g);

/* Arrays placed inside an existing mapping, flush-plus-gap against either guard. */
static inline float *fr_guard_start(const fr_guard *g, size_t gap) { return g->lo + gap; }
static inline float *fr_guard_end(const fr_guard *g, size_t n, size_t gap)
{
    return g->hi - gap - n;
}
static inline size_t fr_guard_capacity(const fr_guard *g) { return (size_t)(g->hi - g->lo); }

/* ---- deterministic PRNG (splitmix64) and input generators ---------------- */

typedef struct fr_rng {
    uint64_t state;
} fr_rng;

fr_rng fr_rng_seeded(uint64_t seed);
uint64_t fr_rng_next(fr_rng *r);
uint32_t fr_rng_u32(fr_rng *r);
/* Uniform integer in [0, bound); bound > 0. */
uint32_t fr_rng_below(fr_rng *r, uint32_t bound);
/* Uniform float in [lo, hi). */
float fr_rng_uniform(fr_rng *r, float lo, float hi);

float fr_from_bits(uint32_t bits);
uint32_t fr_to_bits(float f);

/* Random 32-bit patterns: NaN, ±inf, subnormals and ±0 all occur. */
void fr_fill_bits(fr_rng *r, float *p, size_t n);
/*
 * Draws from the special values (±0, ±inf, quiet and signalling NaNs of both
 * signs, FLT_MIN, subnormals, FLT_MAX, ±1, 6 and their float neighbours), a
 * quarter of the time from random bit patterns so specials meet ordinary values.
 */
void fr_fill_special(fr_rng *r, float *p, size_t n);
/* Like fr_fill_special, but half of the values are a or b or one of their neighbours. */
void fr_fill_near(fr_rng *r, float *p, size_t n, float a, float b);

/* The fixed special values, for tests that want to walk them all. */
extern const size_t fr_num_special_values;
float fr_special_value(size_t i);

/* ---- comparison --------------------------------------------------------- */

#define FR_ULP_NAN_MISMATCH UINT64_MAX

/*
 * Distance in ulps along the ordered floats; +0 and -0 are 0 apart and
 * FLT_MAX is 1 from inf. NaN vs NaN is 0 whatever the payloads; NaN vs a
 * number is FR_ULP_NAN_MISMATCH.
 */
uint64_t fr_ulp_distance(float a, float b);
/* Same bits, except that any NaN equals any NaN. */
int fr_same_bits(float a, float b);
/* Index of the first element whose bits differ (fr_same_bits), or n. */
size_t fr_first_mismatch(const float *a, const float *b, size_t n);

/* The spacing of floats at |v|, for finite v (FLT_MAX: 2^104). */
double fr_ulp_of(float v);

/*
 * ELU's accuracy rules (docs/semantics.md); ref is the reference result,
 * alpha * expm1(x) or dy * (alpha * exp(x)) evaluated in double and rounded
 * once, and ulp the registry's bound.
 *
 * Forward: within ulp of ref; exact (bit-identical) where x > 0 (y = x) and
 * for x = ±0, ±inf and NaN.
 *
 * Backward: exact where x > 0 (dx = dy). Elsewhere let t = alpha * exp(x),
 * computed in double. Where |t| >= FLT_MIN, within ulp of ref. Where
 * |t| < FLT_MIN the kernel's factor t is a subnormal float with fewer
 * significant bits, so the rule is |got - ref| <= |dy| * 3 * 2^-149 + 1 ulp(ref).
 */
int fr_elu_fwd_ok(float ref, float got, float x, unsigned ulp);
int fr_elu_bwd_ok(float ref, float got, float dy, float x, float alpha, unsigned ulp);

/* ---- the kernel tables this CPU runs ------------------------------------ */

#define FR_TEST_NUM_ISAS ((int)FASTRELU_ISA_NEON + 1)

/* Every feature and OS state set: fr_table_for gives it each table this build has. */
extern const fr_cpu fr_test_cpu_all;
/* "scalar", "sse2", ... */
const char *fr_test_isa_name(int isa);
/*
 * The table for isa, or a cmocka skip() of the running test with a message
 * saying why (this build lacks the ISA, or this CPU does).
 */
const fr_kernels *fr_table_or_skip(int isa);
/* Nonzero when this build has kernels for isa (FASTRELU_HAVE_<ISA>). */
int fr_test_isa_built(int isa);
/* This architecture's dispatch ladder, best first. */
extern const fastrelu_isa fr_test_ladder[];
extern const size_t fr_test_ladder_len;
/*
 * Fills out[] with every table this CPU can run, scalar first, and prints a
 * "[  SKIPPED ]" line for each ISA it cannot, so none is silently dropped.
 * Returns how many tables it stored.
 */
int fr_runnable_tables(const fr_kernels *out[FR_TEST_NUM_ISAS]);

/* ---- every registry op as one call -------------------------------------- */

/* The signatures of src/internal.h: FR_SIG_unary for FR_PARAMS_unary, ... */
typedef enum fr_sig {
    FR_SIG_unary,
    FR_SIG_unary_a,
    FR_SIG_unary_ab,
    FR_SIG_binary,
    FR_SIG_binary_a,
    FR_SIG_binary_ab,
    FR_SIG_prelu_fwd,
    FR_SIG_prelu_bwd
} fr_sig;

/* The registry's entries in its order: FR_OP_relu_fwd, FR_OP_relu_bwd, ... */
#define FR_OP_ID(op, dir, sig, ulp) FR_OP_##op##_##dir,
typedef enum fr_op_id { FR_KERNEL_LIST(FR_OP_ID) FR_TEST_NUM_OPS } fr_op_id;
#undef FR_OP_ID

/* Every argument any op takes; each op reads the ones its signature names. */
typedef struct fr_op_call {
    const float *dy, *x, *alpha; /* alpha: PReLU's, one per channel */
    float *out, *dalpha;         /* out is y or dx; dalpha only for prelu_bwd */
    size_t n;                    /* the elementwise ops' length */
    size_t outer, channels, inner;
    float a, b; /* alpha, or lo and hi */
} fr_op_call;

typedef struct fr_test_op {
    const char *name; /* the public function's, without fastrelu_ and _f32: "relu_backward" */
    fr_sig sig;
} fr_test_op;

extern const fr_test_op fr_test_ops[FR_TEST_NUM_OPS];

/* Op `op` (an FR_OP_ value, or an index into fr_test_ops) through the public API: its status. */
fastrelu_status fr_test_call(size_t op, const fr_op_call *c);
/* The same op straight into table t's kernel, which trusts its arguments. */
void fr_test_call_kernel(const fr_kernels *t, size_t op, const fr_op_call *c);

/* ---- run-time scale ----------------------------------------------------- */

/* Nonzero when FASTRELU_TEST_QUICK is set to a non-empty value other than "0"
 * (for slow emulators such as qemu-aarch64): tests then trim their sweeps. */
int fr_test_quick(void);

/* ---- PReLU's dalpha ------------------------------------------------------- */

/* dalpha[c] summed exactly enough to judge its bound: Neumaier summation in double. */
typedef struct fr_dalpha_sum {
    double sum, comp, abs_sum;
    double plain; /* NaN or inf exactly when the true sum of the float terms is */
} fr_dalpha_sum;

/* The terms (x > 0 ? 0 : x * dy, as float products) of channel c in the shape's arrays. */
fr_dalpha_sum fr_dalpha_exact(const float *dy, const float *x, size_t outer, size_t channels,
                              size_t inner, size_t c);
/* docs/semantics.md: |got - exact| <= 1e-5 * sum |terms| + 2^-149 (the result must round). */
int fr_dalpha_ok(float got, fr_dalpha_sum e);

/* cmocka setup/teardown for tests that switch ISA: they leave the process on the one they found. */
int fr_test_save_isa(void **state);
int fr_test_restore_isa(void **state);

#endif /* FASTRELU_TEST_UTIL_H */
