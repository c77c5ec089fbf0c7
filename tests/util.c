/* MAP_ANONYMOUS and sysconf are POSIX/BSD, outside strict C11. */
#define _DEFAULT_SOURCE

#include "util.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dispatch.h"

/* ---- guard-page buffers ------------------------------------------------- */

static size_t fr_page_size(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096;
}

float *fr_guard_alloc(fr_guard *g, size_t n, size_t gap, fr_guard_side side)
{
    size_t page = fr_page_size();
    size_t bytes = (n + gap) * sizeof(float);
    size_t body = (bytes + page - 1) / page * page;
    if (body == 0)
        body = page; /* keep lo < hi so that n == 0 still gets a valid pointer */
    memset(g, 0, sizeof *g);
    size_t len = body + 2 * page;
    void *map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED)
        return NULL;
    unsigned char *base = map;
    if (mprotect(base, page, PROT_NONE) != 0 ||
        mprotect(base + page + body, page, PROT_NONE) != 0) {
        munmap(map, len);
        return NULL;
    }
    g->map = map;
    g->map_len = len;
    g->lo = (float *)(void *)(base + page);
    g->hi = (float *)(void *)(base + page + body);
    return side == FR_AT_START ? fr_guard_start(g, gap) : fr_guard_end(g, n, gap);
}

void fr_guard_free(fr_guard *g)
{
    if (g->map)
        munmap(g->map, g->map_len);
    memset(g, 0, sizeof *g);
}

/* ---- PRNG --------------------------------------------------------------- */

fr_rng fr_rng_seeded(uint64_t seed)
{
    fr_rng r = {seed};
    return r;
}

uint64_t fr_rng_next(fr_rng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

uint32_t fr_rng_u32(fr_rng *r) { return (uint32_t)(fr_rng_next(r) >> 32); }

uint32_t fr_rng_below(fr_rng *r, uint32_t bound)
{
    return (uint32_t)(((uint64_t)fr_rng_u32(r) * bound) >> 32);
}

float fr_rng_uniform(fr_rng *r, float lo, float hi)
{
    double u = (double)(fr_rng_next(r) >> 11) * 0x1p-53;
    float f = (float)(lo + u * ((double)hi - lo));
    return f < hi ? f : nextafterf(hi, lo);
}

float fr_from_bits(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

uint32_t fr_to_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* ---- input generators --------------------------------------------------- */

void fr_fill_bits(fr_rng *r, float *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = fr_from_bits(fr_rng_u32(r));
}

/* A union so the table can hold NaN payloads and subnormals by their bits. */
typedef union fr_fbits {
    uint32_t u;
    float f;
} fr_fbits;

static const fr_fbits fr_specials[] = {
    {.f = 0.0f},
    {.f = -0.0f},
    {.f = INFINITY},
    {.f = -INFINITY},
    {.u = 0x7fc00000},
    {.u = 0xffc00000}, /* quiet NaNs */
    {.u = 0x7f800001},
    {.u = 0xff800001}, /* signalling NaNs */
    {.u = 0x7fc12345},
    {.u = 0xffbfffff}, /* NaNs with payloads */
    {.f = FLT_MIN},
    {.f = -FLT_MIN},
    {.u = 0x00000001},
    {.u = 0x80000001}, /* smallest subnormals */
    {.u = 0x007fffff},
    {.u = 0x807fffff}, /* largest subnormals */
    {.u = 0x00400000},
    {.u = 0x80400000},
    {.f = FLT_MAX},
    {.f = -FLT_MAX},
    {.f = 1.0f},
    {.f = -1.0f},
    {.f = 0x1.000002p0f},
    {.f = 0x1.fffffep-1f},
    {.f = -0x1.000002p0f},
    {.f = -0x1.fffffep-1f},
    {.f = 6.0f},
    {.f = -6.0f},
    {.f = 0x1.800002p2f},
    {.f = 0x1.7ffffep2f},
    {.f = 0.5f},
    {.f = -0.5f},
    {.f = 2.0f},
    {.f = FLT_EPSILON},
    {.f = -FLT_EPSILON},
    {.f = -1e-30f},
    {.f = -1e-3f},
    {.f = -0x1p-24f},
    {.f = -0x1p-25f},
    /* where exp(x) becomes subnormal, underflows, and overflows */
    {.f = -87.33654f},
    {.f = -88.72283f},
    {.f = -103.97208f},
    {.f = -104.0f},
    {.f = -150.0f},
    {.f = 88.72283f},
    {.f = 89.0f},
};

const size_t fr_num_special_values = sizeof fr_specials / sizeof fr_specials[0];

float fr_special_value(size_t i) { return fr_specials[i].f; }

static float fr_pick_special(fr_rng *r)
{
    return fr_specials[fr_rng_below(r, (uint32_t)fr_num_special_values)].f;
}

void fr_fill_special(fr_rng *r, float *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = fr_rng_below(r, 4) ? fr_pick_special(r) : fr_from_bits(fr_rng_u32(r));
}

/* v itself or one of its neighbours, with equal weight. */
static float fr_near(fr_rng *r, float v)
{
    switch (fr_rng_below(r, 3)) {
    case 0:
        return nextafterf(v, -INFINITY);
    case 1:
        return nextafterf(v, INFINITY);
    default:
        return v;
    }
}

void fr_fill_near(fr_rng *r, float *p, size_t n, float a, float b)
{
    fr_fill_special(r, p, n);
    for (size_t i = 0; i < n; i++)
        if (fr_rng_below(r, 2))
            p[i] = fr_near(r, fr_rng_below(r, 2) ? a : b);
}

/* ---- comparison --------------------------------------------------------- */

/* Maps floats to integers in the same order; +0 and -0 both map to 0. */
static int64_t fr_ordered(float f)
{
    uint32_t b = fr_to_bits(f);
    int64_t mag = (int64_t)(b & 0x7fffffffu);
    return (b >> 31) ? -mag : mag;
}

uint64_t fr_ulp_distance(float a, float b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b) ? 0 : FR_ULP_NAN_MISMATCH;
    int64_t d = fr_ordered(a) - fr_ordered(b);
    return (uint64_t)(d < 0 ? -d : d);
}

int fr_same_bits(float a, float b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    return fr_to_bits(a) == fr_to_bits(b);
}

size_t fr_first_mismatch(const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!fr_same_bits(a[i], b[i]))
            return i;
    return n;
}

double fr_ulp_of(float v)
{
    float a = fabsf(v);
    return a == FLT_MAX ? 0x1p104 : (double)nextafterf(a, INFINITY) - (double)a;
}

int fr_elu_fwd_ok(float ref, float got, float x, unsigned ulp)
{
    if (x > 0.0f || x == 0.0f || isinf(x) || isnan(x))
        return fr_same_bits(ref, got);
    return fr_ulp_distance(ref, got) <= ulp;
}

int fr_elu_bwd_ok(float ref, float got, float dy, float x, float alpha, unsigned ulp)
{
    if (x > 0.0f)
        return fr_same_bits(ref, got);
    if (fr_same_bits(ref, got)) /* the common case, without the exp() below */
        return 1;
    double t = (double)alpha * exp((double)x);
    if (isnan(t) || fabs(t) >= FLT_MIN)
        return fr_ulp_distance(ref, got) <= ulp;
    /* |t| < FLT_MIN: t is a subnormal float, and the documented bound is
     * dx = dy * t' for some t' within 3 * 2^-149 of t (docs/semantics.md). */
    if (isinf(dy) && isnan(got))
        return fabs(t) <= 3.0 * 0x1p-149; /* t' may be 0, and inf * 0 is NaN */
    if (isnan(ref) || isnan(got) || isinf(ref) || isinf(got) || ref == got)
        return ref == got; /* ±0 against ∓0 */
    double tol = fabs((double)dy) * 3.0 * 0x1p-149 + fr_ulp_of(ref);
    return fabs((double)got - (double)ref) <= tol;
}

/* ---- the kernel tables this CPU runs ------------------------------------ */

const fr_cpu fr_test_cpu_all = {.sse2 = 1,
                                 .avx2 = 1,
                                 .fma = 1,
                                 .avx512f = 1,
                                 .avx512bw = 1,
                                 .avx512dq = 1,
                                 .avx512vl = 1,
                                 .neon = 1,
                                 .os_ymm = 1,
                                 .os_zmm = 1};

const char *fr_test_isa_name(int isa)
{
    static const char *const names[FR_TEST_NUM_ISAS] = {"scalar", "sse2", "avx2", "avx512", "neon"};
    return isa >= 0 && isa < FR_TEST_NUM_ISAS ? names[isa] : "?";
}

int fr_test_isa_built(int isa)
{
    switch (isa) {
    case FASTRELU_ISA_SCALAR:
        return 1;
#if defined(FASTRELU_HAVE_SSE2)
    case FASTRELU_ISA_SSE2:
        return 1;
#endif
#if defined(FASTRELU_HAVE_AVX2)
    case FASTRELU_ISA_AVX2:
        return 1;
#endif
#if defined(FASTRELU_HAVE_AVX512)
    case FASTRELU_ISA_AVX512:
        return 1;
#endif
#if defined(FASTRELU_HAVE_NEON)
    case FASTRELU_ISA_NEON:
        return 1;
#endif
    default:
        return 0;
    }
}

static void fr_report_skip(int isa)
{
    print_message("[  SKIPPED ] %s: %s\n", fr_test_isa_name(isa),
                  fr_test_isa_built(isa) ? "this CPU cannot run it" : "not built for this target");
}

const fr_kernels *fr_table_or_skip(int isa)
{
    const fr_kernels *t = fr_table_for(fr_cpu_get(), isa);
    if (!t) {
        fr_report_skip(isa);
        skip();
    }
    return t;
}

int fr_runnable_tables(const fr_kernels *out[FR_TEST_NUM_ISAS])
{
    int count = 0;
    for (int isa = FASTRELU_ISA_SCALAR; isa <= FASTRELU_ISA_NEON; isa++) {
        const fr_kernels *t = fr_table_for(fr_cpu_get(), isa);
        if (t)
            out[count++] = t;
        else
            fr_report_skip(isa);
    }
    return count;
}

/* Best first, as documented in docs/semantics.md; written out again here so
 * that the tests do not take the library's word for it. */
#if defined(__aarch64__)
const fastrelu_isa fr_test_ladder[] = {FASTRELU_ISA_NEON, FASTRELU_ISA_SCALAR};
#else
const fastrelu_isa fr_test_ladder[] = {FASTRELU_ISA_AVX512, FASTRELU_ISA_AVX2, FASTRELU_ISA_SSE2,
                                       FASTRELU_ISA_SCALAR};
#endif
const size_t fr_test_ladder_len = sizeof fr_test_ladder / sizeof fr_test_ladder[0];

/* ---- every registry op as one call -------------------------------------- */

/* Each signature's arguments, taken from an fr_op_call. */
#define FR_CALL_unary(c) (c)->x, (c)->out, (c)->n
#define FR_CALL_unary_a(c) (c)->x, (c)->out, (c)->n, (c)->a
#define FR_CALL_unary_ab(c) (c)->x, (c)->out, (c)->n, (c)->a, (c)->b
#define FR_CALL_binary(c) (c)->dy, (c)->x, (c)->out, (c)->n
#define FR_CALL_binary_a(c) (c)->dy, (c)->x, (c)->out, (c)->n, (c)->a
#define FR_CALL_binary_ab(c) (c)->dy, (c)->x, (c)->out, (c)->n, (c)->a, (c)->b
#define FR_CALL_prelu_fwd(c) (c)->x, (c)->alpha, (c)->out, (c)->outer, (c)->channels, (c)->inner
#define FR_CALL_prelu_bwd(c)                                                                       \
    (c)->dy, (c)->x, (c)->alpha, (c)->out, (c)->dalpha, (c)->outer, (c)->channels, (c)->inner

/* The public names: an entry added to the registry without its API function stops the build. */
#define FR_API_fwd(op) fastrelu_##op##_f32
#define FR_API_bwd(op) fastrelu_##op##_backward_f32
#define FR_API_NAME_fwd(op) #op
#define FR_API_NAME_bwd(op) #op "_backward"

#define FR_DEFINE_CALLS(op, dir, sig, ulp)                                                         \
    static fastrelu_status fr_api_##op##_##dir(const fr_op_call *c)                                \
    {                                                                                              \
        return FR_API_##dir(op)(FR_CALL_##sig(c));                                                 \
    }                                                                                              \
    static void fr_kernel_##op##_##dir(const fr_kernels *t, const fr_op_call *c)                   \
    {                                                                                              \
        t->op##_##dir(FR_CALL_##sig(c));                                                           \
    }
FR_KERNEL_LIST(FR_DEFINE_CALLS)
#undef FR_DEFINE_CALLS

#define FR_OP_INFO(op, dir, sig, ulp) {FR_API_NAME_##dir(op), FR_SIG_##sig},
const fr_test_op fr_test_ops[FR_TEST_NUM_OPS] = {FR_KERNEL_LIST(FR_OP_INFO)};
#undef FR_OP_INFO

#define FR_CALLERS(op, dir, sig, ulp) {fr_api_##op##_##dir, fr_kernel_##op##_##dir},
static const struct {
    fastrelu_status (*api)(const fr_op_call *c);
    void (*kernel)(const fr_kernels *t, const fr_op_call *c);
} fr_callers[FR_TEST_NUM_OPS] = {FR_KERNEL_LIST(FR_CALLERS)};
#undef FR_CALLERS

fastrelu_status fr_test_call(size_t op, const fr_op_call *c) { return fr_callers[op].api(c); }

void fr_test_call_kernel(const fr_kernels *t, size_t op, const fr_op_call *c)
{
    fr_callers[op].kernel(t, c);
}

/* ---- run-time scale ----------------------------------------------------- */

int fr_test_quick(void)
{
    const char *q = getenv("FASTRELU_TEST_QUICK");
    return q && *q && strcmp(q, "0") != 0;
}

/* ---- PReLU's dalpha ------------------------------------------------------- */

static void fr_dalpha_add(fr_dalpha_sum *s, double v)
{
    double t = s->sum + v;
    s->comp += fabs(s->sum) >= fabs(v) ? (s->sum - t) + v : (v - t) + s->sum;
    s->sum = t;
    s->abs_sum += fabs(v);
    s->plain += v;
}

fr_dalpha_sum fr_dalpha_exact(const float *dy, const float *x, size_t outer, size_t channels,
                              size_t inner, size_t c)
{
    fr_dalpha_sum s = {0, 0, 0, 0};
    for (size_t o = 0; o < outer; o++) {
        size_t base = (o * channels + c) * inner;
        for (size_t i = 0; i < inner; i++)
            if (!(x[base + i] > 0.0f))
                fr_dalpha_add(&s, (double)(x[base + i] * dy[base + i]));
    }
    return s;
}

int fr_dalpha_ok(float got, fr_dalpha_sum e)
{
    if (isnan(e.plain))
        return isnan(got);
    if (isinf(e.plain))
        return got == (float)e.plain;
    double exact = e.sum + e.comp;
    double tol = 1e-5 * e.abs_sum + 0x1p-149;
    if (isinf(got)) /* a finite sum may still round past FLT_MAX */
        return (got > 0) == (exact > 0) && fabs(exact) + tol >= 0x1.ffffffp127;
    return fabs((double)got - exact) <= tol;
}

int fr_test_save_isa(void **state)
{
    static fastrelu_isa saved;
    saved = fastrelu_get_isa();
    *state = &saved;
    return 0;
}

int fr_test_restore_isa(void **state)
{
    return fastrelu_set_isa(*(fastrelu_isa *)*state) == FASTRELU_OK ? 0 : -1;
}
