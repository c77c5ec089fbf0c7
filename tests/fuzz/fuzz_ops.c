/*
 * fuzz_ops: a libFuzzer differential fuzzer over every kernel of the registry
 * (FR_KERNEL_LIST in src/internal.h). Each input decodes into one call: the
 * op and direction, its scalars, the sizes, each array's misalignment, in-place
 * aliasing, argument faults, and the input floats as raw bits (so NaN, ±inf,
 * subnormals and ±0 all occur).
 *
 * When docs/semantics.md's argument rules accept the call, it runs through the
 * public API on every ISA this CPU and build support (fastrelu_set_isa), and
 * on each table's streaming twin directly. Every result is compared with the
 * scalar reference: bit for bit (any NaN matches any NaN), ELU within the
 * registry's ulp bound (fr_elu_fwd_ok, fr_elu_bwd_ok), PReLU's dalpha within
 * 1e-5 of the sum of |terms|. The reference itself is compared with the
 * formulas of docs/semantics.md. When the rules reject the call, the status
 * the rules give (worked out here from the pointers and values, in the
 * documented order) must come back and no array may change.
 *
 * A disagreement prints the op, ISA, index and values and aborts, which
 * libFuzzer reports as a crash. Each array is its own exact-size heap block,
 * so AddressSanitizer catches any access past its end. Misalignment comes from
 * a prefix in the block, ASan-poisoned in whole 8-byte granules; a write to
 * the float that a granule cannot cover is caught by a canary.
 *
 * Input format (bytes past the end of a short input read as 0; little endian;
 * tests/fuzz/make_corpus.py writes the seeds):
 *   0       op: index into FR_KERNEL_LIST, modulo its length
 *   1       bits 0-1 aliasing: 1 out == x, 2 out == dy, else separate;
 *           bits 2-3 prelu_bwd outputs: 1 no dx, 2 no dalpha, else both;
 *           bit 4 PReLU layout: 0 NHWC (inner = 1), 1 NCHW
 *   2-3     n: bit 15 set: low 15 bits mod 1025, else mod 97 (elementwise ops)
 *   4-6     PReLU dims d0 d1 d2. NHWC: channels d0 % 72, outer d1 % 40.
 *           NCHW: channels d0 % 9, outer d1 % 4, inner d2 % 72
 *   7-10    alpha, or lo for clip (float bits)
 *   11-14   hi for clip (float bits)
 *   15      bits 0-1 nonzero: make the scalars valid (a non-finite value loses
 *           bit 30 of its bits, lo > hi are swapped); bit 2 then also hi = lo
 *   16-18   misalignment in floats, 4 bits per array: dy, x, alpha, out, dalpha
 *   19      fault: below 160 none; else g = byte - 160: bit 0 a NULL array,
 *           bit 1 an output overlapping another array, bit 2 a size past the
 *           address space; g >> 3 picks the array or the pair
 *   20      fault parameter: the overlap offset, or the oversized variant
 *   21-     values (float bits): alpha[0..channels), then x[i] and dy[i]
 *           interleaved; past the end, a PRNG seeded by bytes 0-20 carries on
 *           with special values (for clip: values at and next to lo and hi)
 */
#define _POSIX_C_SOURCE 200809L /* posix_memalign */

#include "util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#define FZ_POISON(p, n) __asan_poison_memory_region((p), (n))
#define FZ_UNPOISON(p, n) __asan_unpoison_memory_region((p), (n))
#endif
#endif
#ifndef FZ_POISON
#define FZ_POISON(p, n) ((void)(p), (void)(n))
#define FZ_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_HEADER_BYTES 21
#define FZ_MAX_N 1024   /* 16 vectors of 16 lanes, four times over */
#define FZ_SHORT_N 97   /* every tail of a 16-lane, 4-way unrolled loop, and more */
#define FZ_NO_FAULT 160 /* fault bytes below this leave the call alone */
#define FZ_CANARY 0x7fa11a5eu

/* ---- reading the input -------------------------------------------------- */

typedef struct fz_reader {
    const uint8_t *p;
    size_t left;
} fz_reader;

static unsigned fz_u8(fz_reader *r)
{
    if (r->left == 0)
        return 0;
    r->left--;
    return *r->p++;
}

static uint32_t fz_u32(fz_reader *r)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)fz_u8(r) << (8 * i);
    return v;
}

/* FNV-1a: the PRNG's seed, so that the same input always gives the same values. */
static uint64_t fz_hash(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3u;
    return h;
}

/* ---- the registry as data ----------------------------------------------- */

/*
 * The documented result of one element (docs/semantics.md), written apart from
 * kernels/reference.c so that a slip in the reference shows too. For PReLU, a
 * is the element's alpha[c]. ELU's definition is the double-precision
 * expression rounded once, which is what the docs say the reference computes.
 */
static float fz_doc_relu_fwd(float dy, float x, float a, float b)
{
    (void)dy, (void)a, (void)b;
    return (x < 0.0f) ? 0.0f : x;
}
static float fz_doc_relu_bwd(float dy, float x, float a, float b)
{
    (void)a, (void)b;
    return (x <= 0.0f) ? 0.0f : dy;
}
static float fz_doc_leaky_relu_fwd(float dy, float x, float a, float b)
{
    (void)dy, (void)b;
    return (x > 0.0f) ? x : x * a;
}
static float fz_doc_leaky_relu_bwd(float dy, float x, float a, float b)
{
    (void)b;
    return (x > 0.0f) ? dy : dy * a;
}
static float fz_doc_prelu_fwd(float dy, float x, float a, float b)
{
    return fz_doc_leaky_relu_fwd(dy, x, a, b);
}
static float fz_doc_prelu_bwd(float dy, float x, float a, float b)
{
    return fz_doc_leaky_relu_bwd(dy, x, a, b);
}
static float fz_doc_elu_fwd(float dy, float x, float a, float b)
{
    (void)dy, (void)b;
    return (x > 0.0f) ? x : (float)((double)a * expm1((double)x));
}
static float fz_doc_elu_bwd(float dy, float x, float a, float b)
{
    (void)b;
    return (x > 0.0f) ? dy : (float)((double)dy * ((double)a * exp((double)x)));
}
static float fz_doc_clip_fwd(float dy, float x, float a, float b)
{
    (void)dy;
    return (x < a) ? a : (x > b) ? b : x;
}
static float fz_doc_clip_bwd(float dy, float x, float a, float b)
{
    return (x <= a || x >= b) ? 0.0f : dy;
}

typedef struct fz_op {
    const char *name; /* "<op>_<dir>" */
    fr_sig sig;
    unsigned ulp; /* the registry's bound: 0 is bit for bit */
    int backward;
    size_t id; /* FR_OP_<op>_<dir>: how fr_test_call reaches it */
    float (*doc)(float dy, float x, float a, float b);
} fz_op;

#define FZ_BACKWARD_fwd 0
#define FZ_BACKWARD_bwd 1
// clang-format off
#define FZ_OP(op, dir, sig, ulp)                                    \
    {#op "_" #dir, FR_SIG_##sig, ulp, FZ_BACKWARD_##dir,            \
     FR_OP_##op##_##dir, fz_doc_##op##_##dir},
// clang-format on
static const fz_op fz_ops[] = {FR_KERNEL_LIST(FZ_OP)};
#define FZ_NUM_OPS (sizeof fz_ops / sizeof fz_ops[0])

/* ---- arrays and their roles --------------------------------------------- */

typedef enum fz_role { FZ_DY, FZ_X, FZ_ALPHA, FZ_OUT, FZ_DALPHA, FZ_NUM_ROLES } fz_role;

static const char *const fz_role_names[FZ_NUM_ROLES] = {"dy", "x", "alpha", "out", "dalpha"};

#define FZ_BIT(role) (1u << (role))

static unsigned fz_roles_of(fr_sig s)
{
    switch (s) {
    case FR_SIG_unary:
    case FR_SIG_unary_a:
    case FR_SIG_unary_ab:
        return FZ_BIT(FZ_X) | FZ_BIT(FZ_OUT);
    case FR_SIG_prelu_fwd:
        return FZ_BIT(FZ_X) | FZ_BIT(FZ_ALPHA) | FZ_BIT(FZ_OUT);
    case FR_SIG_prelu_bwd:
        return FZ_BIT(FZ_NUM_ROLES) - 1;
    default:
        return FZ_BIT(FZ_DY) | FZ_BIT(FZ_X) | FZ_BIT(FZ_OUT);
    }
}

static int fz_is_prelu(fr_sig s) { return s == FR_SIG_prelu_fwd || s == FR_SIG_prelu_bwd; }
static int fz_has_alpha(fr_sig s) { return s == FR_SIG_unary_a || s == FR_SIG_binary_a; }
static int fz_has_bounds(fr_sig s) { return s == FR_SIG_unary_ab || s == FR_SIG_binary_ab; }
static int fz_per_channel(fz_role r) { return r == FZ_ALPHA || r == FZ_DALPHA; }
static int fz_is_output(fz_role r) { return r == FZ_OUT || r == FZ_DALPHA; }

/* One heap block: `pre` floats of misalignment, then the arrays placed in it. */
typedef struct fz_block {
    void *mem;
    size_t bytes;
    size_t poisoned; /* the prefix bytes ASan guards: whole 8-byte granules */
    size_t pre;
} fz_block;

typedef enum fz_alias { FZ_SEPARATE, FZ_OUT_IS_X, FZ_OUT_IS_DY } fz_alias;
typedef enum fz_outputs { FZ_BOTH, FZ_NO_DX, FZ_NO_DALPHA } fz_outputs;

/* One fuzz input, decoded. */
typedef struct fz_case {
    const fz_op *op;
    unsigned roles; /* FZ_BIT of each array the op takes */
    fz_alias alias;
    fz_outputs outputs;
    int nchw;
    size_t n; /* elements in the arrays; outer * channels * inner for PReLU */
    size_t outer, channels, inner;
    size_t call_n, call_outer; /* the sizes passed; past the address space under that fault */
    float a, b;
    unsigned mis[FZ_NUM_ROLES];
    unsigned fault, fault_arg;
    uint64_t seed;
    float *src[FZ_NUM_ROLES]; /* inputs as decoded; the reference's outputs */
    float *arr[FZ_NUM_ROLES]; /* what the call gets; NULL where absent */
    fz_block blocks[FZ_NUM_ROLES];
    size_t num_blocks;
} fz_case;

static size_t fz_len(const fz_case *k, fz_role r) { return fz_per_channel(r) ? k->channels : k->n; }

/* ---- failure ------------------------------------------------------------ */

static void fz_describe(const fz_case *k)
{
    fprintf(stderr,
            "  call: n=%zu (passed %zu) outer=%zu (passed %zu) channels=%zu inner=%zu %s\n"
            "  a=%a (0x%08x) b=%a (0x%08x) alias=%d outputs=%d fault=%u/%u\n  arrays:",
            k->n, k->call_n, k->outer, k->call_outer, k->channels, k->inner,
            k->nchw ? "NCHW" : "NHWC", (double)k->a, fr_to_bits(k->a), (double)k->b,
            fr_to_bits(k->b), (int)k->alias, (int)k->outputs, k->fault, k->fault_arg);
    for (int r = 0; r < FZ_NUM_ROLES; r++)
        if (k->roles & FZ_BIT(r))
            fprintf(stderr, " %s=%p (+%u floats)", fz_role_names[r], (void *)k->arr[r], k->mis[r]);
    fprintf(stderr, "\n");
}

static void fz_fail(const fz_case *k, const char *isa, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

static void fz_fail(const fz_case *k, const char *isa, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "\nfuzz_ops: MISMATCH %s on %s: ", k->op->name, isa);
    va_start(ap, fmt);
    (void)vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    fz_describe(k);
    abort();
}

static void *fz_alloc(size_t bytes)
{
    void *p = calloc(1, bytes ? bytes : 1);
    if (!p)
        abort();
    return p;
}

/* ---- decoding ----------------------------------------------------------- */

static float fz_finite(float v)
{
    return isfinite(v) ? v : fr_from_bits(fr_to_bits(v) & ~0x40000000u);
}

static void fz_decode_sizes(fz_case *k, unsigned nbits, const unsigned d[3])
{
    if (fz_is_prelu(k->op->sig)) {
        k->channels = k->nchw ? d[0] % 9 : d[0] % 72;
        k->outer = k->nchw ? d[1] % 4 : d[1] % 40;
        k->inner = k->nchw ? d[2] % 72 : 1;
        k->n = k->outer * k->channels * k->inner;
    } else {
        k->n = (nbits & 0x8000) ? (nbits & 0x7fff) % (FZ_MAX_N + 1) : (nbits & 0x7fff) % FZ_SHORT_N;
    }
    k->call_n = k->n;
    k->call_outer = k->outer;
}

static void fz_decode_scalars(fz_case *k, unsigned fix)
{
    if (!(fix & 3))
        return; /* as they came: maybe invalid */
    k->a = fz_finite(k->a);
    k->b = fz_finite(k->b);
    if (fz_has_bounds(k->op->sig)) {
        if (k->a > k->b) {
            float t = k->a;
            k->a = k->b;
            k->b = t;
        }
        if (fix & 4)
            k->b = k->a;
    }
}

static void fz_decode_header(fz_case *k, fz_reader *r, unsigned *fix)
{
    k->op = &fz_ops[fz_u8(r) % FZ_NUM_OPS];
    k->roles = fz_roles_of(k->op->sig);
    unsigned shape = fz_u8(r);
    k->alias = (shape & 3) == 3 ? FZ_SEPARATE : (fz_alias)(shape & 3);
    k->outputs = ((shape >> 2) & 3) == 3 ? FZ_BOTH : (fz_outputs)((shape >> 2) & 3);
    k->nchw = (shape >> 4) & 1;
    unsigned nbits = fz_u8(r);
    nbits |= fz_u8(r) << 8;
    unsigned d[3];
    for (int i = 0; i < 3; i++)
        d[i] = fz_u8(r);
    fz_decode_sizes(k, nbits, d);
    k->a = fr_from_bits(fz_u32(r));
    k->b = fr_from_bits(fz_u32(r));
    *fix = fz_u8(r);
    uint32_t mis = fz_u8(r);
    mis |= (uint32_t)fz_u8(r) << 8;
    mis |= (uint32_t)fz_u8(r) << 16;
    for (int i = 0; i < FZ_NUM_ROLES; i++)
        k->mis[i] = (mis >> (4 * i)) & 15;
    k->fault = fz_u8(r);
    k->fault_arg = fz_u8(r);
}

/* The next value: float bits from the input while they last, then the PRNG's. */
static float fz_next_value(const fz_case *k, fz_reader *r, fr_rng *g)
{
    float v;
    if (r->left >= 4)
        return fr_from_bits(fz_u32(r));
    if (fz_has_bounds(k->op->sig))
        fr_fill_near(g, &v, 1, k->a, k->b);
    else
        fr_fill_special(g, &v, 1);
    return v;
}

static void fz_decode_values(fz_case *k, fz_reader *r, unsigned fix)
{
    fr_rng g = fr_rng_seeded(k->seed);
    for (int role = 0; role < FZ_NUM_ROLES; role++)
        k->src[role] = fz_alloc(fz_len(k, (fz_role)role) * sizeof(float));
    if (k->roles & FZ_BIT(FZ_ALPHA))
        for (size_t c = 0; c < k->channels; c++) {
            float v = fz_next_value(k, r, &g);
            k->src[FZ_ALPHA][c] = (fix & 3) ? fz_finite(v) : v;
        }
    for (size_t i = 0; i < k->n; i++) {
        k->src[FZ_X][i] = fz_next_value(k, r, &g);
        if (k->roles & FZ_BIT(FZ_DY))
            k->src[FZ_DY][i] = fz_next_value(k, r, &g);
    }
}

static void fz_decode(fz_case *k, const uint8_t *data, size_t size)
{
    fz_reader r = {data, size};
    unsigned fix;
    memset(k, 0, sizeof *k);
    k->seed = fz_hash(data, size < FZ_HEADER_BYTES ? size : FZ_HEADER_BYTES);
    fz_decode_header(k, &r, &fix);
    fz_decode_scalars(k, fix);
    fz_decode_values(k, &r, fix);
}

/* ---- placing the arrays ------------------------------------------------- */

/* A block of `floats` floats after a prefix of `pre`; returns where the floats start. */
static float *fz_block_new(fz_case *k, size_t floats, unsigned pre)
{
    fz_block *b = &k->blocks[k->num_blocks++];
    b->bytes = (pre + floats) * sizeof(float);
    b->pre = pre;
    if (posix_memalign(&b->mem, 64, b->bytes ? b->bytes : 1) != 0)
        abort();
    memset(b->mem, 0, b->bytes);
    float *p = (float *)b->mem + pre;
    uint32_t canary = FZ_CANARY;
    if (pre % 2) /* the float before p shares p's granule: ASan cannot guard it */
        memcpy(p - 1, &canary, sizeof canary);
    b->poisoned = pre * sizeof(float) / 8 * 8;
    FZ_POISON(b->mem, b->poisoned);
    return p;
}

static void fz_blocks_free(fz_case *k)
{
    for (size_t i = 0; i < k->num_blocks; i++) {
        FZ_UNPOISON(k->blocks[i].mem, k->blocks[i].poisoned);
        free(k->blocks[i].mem);
    }
    for (int r = 0; r < FZ_NUM_ROLES; r++)
        free(k->src[r]);
}

static unsigned fz_fault_bits(const fz_case *k)
{
    return k->fault < FZ_NO_FAULT ? 0 : (k->fault - FZ_NO_FAULT) & 7;
}
static unsigned fz_fault_pick(const fz_case *k) { return (k->fault - FZ_NO_FAULT) >> 3; }

#define FZ_FAULT_NULL 1u
#define FZ_FAULT_OVERLAP 2u
#define FZ_FAULT_HUGE 4u

/* The roles passed as NULL: prelu_bwd's optional outputs, and the NULL fault's pick. */
static unsigned fz_absent(const fz_case *k)
{
    unsigned absent = 0;
    if (k->op->sig == FR_SIG_prelu_bwd)
        absent |= k->outputs == FZ_NO_DX       ? FZ_BIT(FZ_OUT)
                  : k->outputs == FZ_NO_DALPHA ? FZ_BIT(FZ_DALPHA)
                                               : 0;
    if (fz_fault_bits(k) & FZ_FAULT_NULL)
        absent |= FZ_BIT(fz_fault_pick(k) % FZ_NUM_ROLES) & k->roles;
    return absent;
}

/* The overlap fault's pair: an output and another array of the op. */
static void fz_overlap_pair(const fz_case *k, fz_role *out, fz_role *in)
{
    fz_role pairs[FZ_NUM_ROLES * FZ_NUM_ROLES][2];
    size_t count = 0;
    for (int o = FZ_OUT; o <= FZ_DALPHA; o++)
        for (int i = 0; i < FZ_NUM_ROLES; i++)
            if ((k->roles & FZ_BIT(o)) && (k->roles & FZ_BIT(i)) && i != o &&
                !(o == FZ_OUT && i == FZ_DALPHA)) {
                pairs[count][0] = (fz_role)o;
                pairs[count][1] = (fz_role)i;
                count++;
            }
    size_t pick = fz_fault_pick(k) % count;
    *out = pairs[pick][0];
    *in = pairs[pick][1];
}

/*
 * Output o starts d floats after input i (d < 0: before) in one block, so that
 * they share at least one float; the parameter byte spreads d over that range.
 */
static unsigned fz_place_overlap(fz_case *k, unsigned absent)
{
    fz_role o, i;
    fz_overlap_pair(k, &o, &i);
    size_t lo = fz_len(k, o), li = fz_len(k, i);
    if ((absent & (FZ_BIT(o) | FZ_BIT(i))) || lo == 0 || li == 0)
        return 0;
    long d = (long)(k->fault_arg * (lo + li - 1) / 256) - (long)(lo - 1);
    size_t base_o = d > 0 ? (size_t)d : 0, base_i = d < 0 ? (size_t)-d : 0;
    size_t end_o = base_o + lo, end_i = base_i + li;
    float *p = fz_block_new(k, end_o > end_i ? end_o : end_i, k->mis[i]);
    k->arr[o] = p + base_o;
    k->arr[i] = p + base_i;
    return FZ_BIT(o) | FZ_BIT(i);
}

static void fz_place_own(fz_case *k, fz_role r)
{
    k->arr[r] = fz_block_new(k, fz_len(k, r), k->mis[r]);
}

static void fz_place_out(fz_case *k)
{
    fz_role target = k->alias == FZ_OUT_IS_X ? FZ_X : FZ_DY;
    if (k->alias != FZ_SEPARATE && (k->roles & FZ_BIT(target)) && k->arr[target])
        k->arr[FZ_OUT] = k->arr[target];
    else
        fz_place_own(k, FZ_OUT);
}

static void fz_layout(fz_case *k)
{
    unsigned absent = fz_absent(k);
    unsigned placed = absent | ~k->roles;
    if (fz_fault_bits(k) & FZ_FAULT_OVERLAP)
        placed |= fz_place_overlap(k, absent);
    for (int r = FZ_DY; r <= FZ_ALPHA; r++)
        if (!(placed & FZ_BIT(r)))
            fz_place_own(k, (fz_role)r);
    if (!(placed & FZ_BIT(FZ_OUT)))
        fz_place_out(k);
    if (!(placed & FZ_BIT(FZ_DALPHA)))
        fz_place_own(k, FZ_DALPHA);
}

/* The first array present, for sizes whose end address runs past the address space. */
static uintptr_t fz_some_address(const fz_case *k)
{
    for (int r = 0; r < FZ_NUM_ROLES; r++)
        if (k->arr[r])
            return (uintptr_t)k->arr[r];
    return 4096;
}

/* Elementwise: n floats need more than SIZE_MAX bytes, or end past the address space. */
static size_t fz_huge_n(const fz_case *k, unsigned v)
{
    size_t extra = v / 3;
    switch (v % 3) {
    case 0:
        return SIZE_MAX / sizeof(float) + 1 + extra;
    case 1:
        return (SIZE_MAX - fz_some_address(k)) / sizeof(float) + 1 + extra;
    default:
        return SIZE_MAX - extra;
    }
}

/* PReLU: an outer that makes the product overflow, or only the bytes or the end address. */
static size_t fz_huge_outer(const fz_case *k, unsigned v)
{
    size_t ci = k->channels * k->inner, extra = v / 3;
    if (ci == 0)
        return SIZE_MAX - extra; /* still an empty tensor */
    switch (v % 3) {
    case 0:
        return SIZE_MAX / 2 + 1 + extra; /* overflows unless ci == 1 */
    case 1:
        return (SIZE_MAX - fz_some_address(k)) / sizeof(float) / ci + 1 + extra;
    default:
        return SIZE_MAX / sizeof(float) / ci + 1 + extra;
    }
}

static void fz_apply_huge(fz_case *k)
{
    if (!(fz_fault_bits(k) & FZ_FAULT_HUGE))
        return;
    if (fz_is_prelu(k->op->sig))
        k->call_outer = fz_huge_outer(k, k->fault_arg);
    else
        k->call_n = fz_huge_n(k, k->fault_arg);
}

/* ---- the status the documented argument rules give ---------------------- */

static int fz_span(const float *p, size_t len, uintptr_t *lo, uintptr_t *hi)
{
    size_t bytes;
    *lo = (uintptr_t)p;
    return !__builtin_mul_overflow(len, sizeof(float), &bytes) &&
           !__builtin_add_overflow(*lo, bytes, hi);
}

static size_t fz_call_len(const fz_case *k, fz_role r, size_t n)
{
    return fz_per_channel(r) ? k->channels : n;
}

static int fz_missing(const fz_case *k)
{
    if (k->op->sig == FR_SIG_prelu_bwd && !k->arr[FZ_OUT] && !k->arr[FZ_DALPHA])
        return 1;
    for (int r = 0; r < FZ_NUM_ROLES; r++)
        if ((k->roles & FZ_BIT(r)) && !k->arr[r] &&
            !(k->op->sig == FR_SIG_prelu_bwd && fz_is_output((fz_role)r)))
            return 1;
    return 0;
}

static int fz_too_big(const fz_case *k, size_t n)
{
    uintptr_t lo, hi;
    for (int r = 0; r < FZ_NUM_ROLES; r++)
        if (k->arr[r] && !fz_span(k->arr[r], fz_call_len(k, (fz_role)r, n), &lo, &hi))
            return 1;
    return 0;
}

static int fz_scalars_ok(const fz_case *k)
{
    fr_sig s = k->op->sig;
    if (fz_has_alpha(s))
        return isfinite(k->a);
    if (fz_has_bounds(s))
        return isfinite(k->a) && isfinite(k->b) && k->a <= k->b;
    if (fz_is_prelu(s))
        for (size_t c = 0; c < k->channels; c++)
            if (!isfinite(k->src[FZ_ALPHA][c]))
                return 0;
    return 1;
}

static int fz_intersect(const fz_case *k, fz_role p, fz_role q, size_t n)
{
    uintptr_t plo, phi, qlo, qhi;
    if (!fz_span(k->arr[p], fz_call_len(k, p, n), &plo, &phi) ||
        !fz_span(k->arr[q], fz_call_len(k, q, n), &qlo, &qhi))
        return 1; /* not reached: fz_too_big has ruled such spans out */
    return plo < qhi && qlo < phi;
}

/* Outputs may equal x or dy exactly (in place); any other shared byte is an overlap. */
static int fz_overlapping(const fz_case *k, size_t n)
{
    for (int o = FZ_OUT; o <= FZ_DALPHA; o++)
        for (int r = 0; r < FZ_NUM_ROLES; r++) {
            if (r == o || !k->arr[o] || !k->arr[r] || (o == FZ_OUT && r == FZ_DALPHA))
                continue;
            int in_place = o == FZ_OUT && (r == FZ_X || r == FZ_DY) && k->arr[o] == k->arr[r];
            if (!in_place && fz_intersect(k, (fz_role)o, (fz_role)r, n))
                return 1;
        }
    return 0;
}

/* docs/semantics.md, "Arguments", in its order. */
static fastrelu_status fz_expected(const fz_case *k)
{
    size_t n = k->call_n;
    if (fz_is_prelu(k->op->sig)) {
        if (k->call_outer == 0 || k->channels == 0 || k->inner == 0)
            return FASTRELU_OK;
        if (__builtin_mul_overflow(k->call_outer, k->channels, &n) ||
            __builtin_mul_overflow(n, k->inner, &n))
            return FASTRELU_ERR_SIZE_OVERFLOW;
    } else if (n == 0) {
        return FASTRELU_OK;
    }
    if (fz_missing(k))
        return FASTRELU_ERR_NULL_POINTER;
    if (fz_too_big(k, n))
        return FASTRELU_ERR_SIZE_OVERFLOW;
    if (!fz_scalars_ok(k))
        return FASTRELU_ERR_INVALID_ARGUMENT;
    if (fz_overlapping(k, n))
        return FASTRELU_ERR_OVERLAP;
    return FASTRELU_OK;
}

/* ---- calls -------------------------------------------------------------- */

/* A call on arrays arr[role] with sizes n and outer; the rest from k. */
static fr_op_call fz_call_on(const fz_case *k, float *const *arr, size_t n, size_t outer)
{
    return (fr_op_call){.dy = arr[FZ_DY],
                        .x = arr[FZ_X],
                        .alpha = arr[FZ_ALPHA],
                        .out = arr[FZ_OUT],
                        .dalpha = arr[FZ_DALPHA],
                        .n = n,
                        .outer = outer,
                        .channels = k->channels,
                        .inner = k->inner,
                        .a = k->a,
                        .b = k->b};
}

/* The call under test: its arrays and the sizes passed (past the address space under a fault). */
static fr_op_call fz_call_of(const fz_case *k)
{
    return fz_call_on(k, k->arr, k->call_n, k->call_outer);
}

/* Outputs get a pattern unlike the reference's result first, then the inputs go in,
 * so an output that is an input (in place) holds the input. */
static void fz_load(const fz_case *k)
{
    for (int r = FZ_OUT; r <= FZ_DALPHA; r++)
        if (k->arr[r])
            for (size_t i = 0; i < fz_len(k, (fz_role)r); i++)
                k->arr[r][i] = fr_from_bits(~fr_to_bits(k->src[r][i]));
    for (int r = FZ_DY; r <= FZ_ALPHA; r++)
        if (k->arr[r])
            memcpy(k->arr[r], k->src[r], fz_len(k, (fz_role)r) * sizeof(float));
}

static void fz_check_canaries(const fz_case *k, const char *isa)
{
    for (size_t i = 0; i < k->num_blocks; i++) {
        const fz_block *b = &k->blocks[i];
        uint32_t v;
        if (b->pre % 2 == 0)
            continue;
        memcpy(&v, (float *)b->mem + b->pre - 1, sizeof v);
        if (v != FZ_CANARY)
            fz_fail(k, isa, "wrote the float before an array (block %zu)", i);
    }
}

/* ---- the reference ------------------------------------------------------ */

static float fz_alpha_at(const fz_case *k, size_t i)
{
    return fz_is_prelu(k->op->sig) ? k->src[FZ_ALPHA][(i / k->inner) % k->channels] : k->a;
}

static void fz_check_dalpha(const fz_case *k, const float *dalpha, const char *isa)
{
    for (size_t c = 0; c < k->channels; c++) {
        fr_dalpha_sum s =
            fr_dalpha_exact(k->src[FZ_DY], k->src[FZ_X], k->outer, k->channels, k->inner, c);
        if (!fr_dalpha_ok(dalpha[c], s))
            fz_fail(k, isa, "dalpha[%zu] = %a (0x%08x), exact %a, sum |terms| %a, reference %a", c,
                    (double)dalpha[c], fr_to_bits(dalpha[c]), s.sum + s.comp, s.abs_sum,
                    (double)k->src[FZ_DALPHA][c]);
    }
}

static float fz_dy_at(const fz_case *k, size_t i)
{
    return (k->roles & FZ_BIT(FZ_DY)) ? k->src[FZ_DY][i] : 0.0f;
}

static void fz_fail_elem(const fz_case *k, const char *isa, size_t i, float want, float got,
                         const char *what)
{
    float x = k->src[FZ_X][i], dy = fz_dy_at(k, i), alpha = fz_alpha_at(k, i);
    fz_fail(k, isa,
            "%s at i=%zu\n  x=%a (0x%08x) dy=%a (0x%08x) alpha=%a\n  want %a (0x%08x) got %a "
            "(0x%08x)",
            what, i, (double)x, fr_to_bits(x), (double)dy, fr_to_bits(dy), (double)alpha,
            (double)want, fr_to_bits(want), (double)got, fr_to_bits(got));
}

/* The scalar table on separate copies of the inputs, then each element against the docs. */
static void fz_reference(fz_case *k)
{
    fr_op_call c = fz_call_on(k, k->src, k->n, k->outer);
    fr_test_call_kernel(&fr_kernels_scalar, k->op->id, &c);
    for (size_t i = 0; i < k->n; i++) {
        float doc = k->op->doc(fz_dy_at(k, i), k->src[FZ_X][i], fz_alpha_at(k, i), k->b);
        if (!fr_same_bits(doc, k->src[FZ_OUT][i]))
            fz_fail_elem(k, "reference", i, doc, k->src[FZ_OUT][i],
                         "the reference differs from docs/semantics.md");
    }
    if (k->op->sig == FR_SIG_prelu_bwd)
        fz_check_dalpha(k, k->src[FZ_DALPHA], "reference");
}

/* ---- checking one run --------------------------------------------------- */

static int fz_elem_ok(const fz_case *k, size_t i, float got)
{
    const fz_op *op = k->op;
    float ref = k->src[FZ_OUT][i];
    if (op->ulp == 0)
        return fr_same_bits(ref, got);
    /* The registry's only entries with an ulp bound are ELU's, whose rules util.h holds. */
    if (strncmp(op->name, "elu_", 4) == 0)
        return op->backward
                   ? fr_elu_bwd_ok(ref, got, fz_dy_at(k, i), k->src[FZ_X][i], k->a, op->ulp)
                   : fr_elu_fwd_ok(ref, got, k->src[FZ_X][i], op->ulp);
    return fr_ulp_distance(ref, got) <= op->ulp;
}

/* Inputs that are not also the output must come back untouched. */
static void fz_check_inputs(const fz_case *k, const char *isa)
{
    for (int r = FZ_DY; r <= FZ_ALPHA; r++)
        if (k->arr[r] && k->arr[r] != k->arr[FZ_OUT] &&
            memcmp(k->arr[r], k->src[r], fz_len(k, (fz_role)r) * sizeof(float)) != 0)
            fz_fail(k, isa, "changed its input %s", fz_role_names[r]);
}

static void fz_check_run(const fz_case *k, const char *isa)
{
    if (k->arr[FZ_OUT])
        for (size_t i = 0; i < k->n; i++)
            if (!fz_elem_ok(k, i, k->arr[FZ_OUT][i]))
                fz_fail_elem(k, isa, i, k->src[FZ_OUT][i], k->arr[FZ_OUT][i],
                             "differs from the reference");
    if (k->arr[FZ_DALPHA])
        fz_check_dalpha(k, k->arr[FZ_DALPHA], isa);
    fz_check_inputs(k, isa);
    fz_check_canaries(k, isa);
}

/* ---- the two paths ------------------------------------------------------ */

static fastrelu_isa fz_isas[FR_TEST_NUM_ISAS];
static size_t fz_num_isas;

static void fz_run_api(const fz_case *k, fastrelu_isa isa)
{
    const char *name = fastrelu_isa_name(isa);
    fr_op_call c = fz_call_of(k);
    if (fastrelu_set_isa(isa) != FASTRELU_OK)
        fz_fail(k, name, "fastrelu_set_isa refused an ISA that fastrelu_isa_supported reported");
    fz_load(k);
    fastrelu_status s = fr_test_call(k->op->id, &c);
    if (s != FASTRELU_OK)
        fz_fail(k, name, "returned %s for valid arguments", fastrelu_status_string(s));
    fz_check_run(k, name);
}

/* The streaming twin serves only calls larger than the caches: call it directly. */
static void fz_run_twin(const fz_case *k, fastrelu_isa isa)
{
    const fr_kernels *t = fr_table_for(fr_cpu_get(), (int)isa);
    if (!t || t->stream == t)
        return;
    char name[32];
    snprintf(name, sizeof name, "%s streaming twin", fastrelu_isa_name(isa));
    fr_op_call c = fz_call_of(k);
    fz_load(k);
    fr_test_call_kernel(t->stream, k->op->id, &c);
    fz_check_run(k, name);
}

static void fz_run_valid(fz_case *k)
{
    fz_reference(k);
    for (size_t i = 0; i < fz_num_isas; i++) {
        fz_run_api(k, fz_isas[i]);
        fz_run_twin(k, fz_isas[i]);
    }
}

/* The call must return `want` and leave every byte of every array as it was. */
static void fz_run_rejected(const fz_case *k, fastrelu_status want)
{
    unsigned char *copies[FZ_NUM_ROLES];
    fz_load(k);
    for (size_t i = 0; i < k->num_blocks; i++) {
        const fz_block *b = &k->blocks[i];
        copies[i] = fz_alloc(b->bytes);
        memcpy(copies[i], (unsigned char *)b->mem + b->poisoned, b->bytes - b->poisoned);
    }
    fr_op_call c = fz_call_of(k);
    fastrelu_status got = fr_test_call(k->op->id, &c);
    const char *isa = fastrelu_isa_name(fastrelu_get_isa());
    if (got != want)
        fz_fail(k, isa, "returned %s where docs/semantics.md gives %s", fastrelu_status_string(got),
                fastrelu_status_string(want));
    for (size_t i = 0; i < k->num_blocks; i++) {
        const fz_block *b = &k->blocks[i];
        if (memcmp(copies[i], (unsigned char *)b->mem + b->poisoned, b->bytes - b->poisoned) != 0)
            fz_fail(k, isa, "returned %s but wrote to an array (block %zu)",
                    fastrelu_status_string(got), i);
        free(copies[i]);
    }
}

/* ---- libFuzzer's entry points ------------------------------------------- */

/* The ISAs to compare: every one this build has and this CPU runs. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fprintf(stderr, "fuzz_ops: ISAs compared with the reference:");
    for (int isa = FASTRELU_ISA_SCALAR; isa <= FASTRELU_ISA_NEON; isa++) {
        int ok = fastrelu_isa_supported((fastrelu_isa)isa);
        if ((fastrelu_set_isa((fastrelu_isa)isa) == FASTRELU_OK) != ok) {
            fprintf(stderr, "\nfuzz_ops: fastrelu_set_isa and fastrelu_isa_supported disagree\n");
            abort();
        }
        if (ok)
            fz_isas[fz_num_isas++] = (fastrelu_isa)isa;
        fprintf(stderr, " %s%s", fr_test_isa_name(isa), ok ? "" : " (skipped)");
    }
    fprintf(stderr, "\n");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_case k;
    fz_decode(&k, data, size);
    fz_layout(&k);
    fz_apply_huge(&k);
    fastrelu_status want = fz_expected(&k);
    if (want == FASTRELU_OK && k.n > 0 && k.call_n == k.n && k.call_outer == k.outer)
        fz_run_valid(&k);
    else
        fz_run_rejected(&k, want);
    fz_blocks_free(&k);
    return 0;
}
