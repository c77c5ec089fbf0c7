/*
 * PReLU: Leaky ReLU with alpha[c] for element (o, c, i) at (o * channels + c) * inner + i.
 * Needs leaky_relu.h. Shapes whose alphas repeat within 3 or 4 vectors run
 * flat (fr_flat_step); otherwise two layouts: inner == 1 (NHWC) runs across
 * channels with a vector of alphas; inner > 1 (NCHW) runs along each (o, c)
 * row with one alpha.
 *
 * NCHW rows are often short (a 4x4 map is one AVX-512 vector), and a loop per
 * row then spends more on its own setup and branches than on the row. The
 * forward takes rows shorter than FR_SHORT_ROW FR_ROWS channels at a time, one
 * vector of each row per step: as many vectors in flight as FR_UNROLL gives a
 * long row. (The backward's are below, fr_prelu_bwd_short.)
 */
#include <string.h>

#define FR_ROWS 4
#define FR_SHORT_ROW (8 * FR_LANES)

/*
 * NHWC rows of up to FR_NHWC_NARROW vectors keep a register a vector (its
 * alphas, or backward its float run): FR_BY_VECTORS(v, CALL) runs CALL(V)
 * with the constant V = v, 1 <= v <= FR_NHWC_NARROW, one copy for each.
 */
#define FR_NHWC_NARROW 8
#define FR_BY_VECTORS(v, CALL)                                                                 \
    switch (v) {                                                                               \
    case 1: CALL(1); break;                                                                    \
    case 2: CALL(2); break;                                                                    \
    case 3: CALL(3); break;                                                                    \
    case 4: CALL(4); break;                                                                    \
    case 5: CALL(5); break;                                                                    \
    case 6: CALL(6); break;                                                                    \
    case 7: CALL(7); break;                                                                    \
    default: CALL(8); break;                                                                   \
    }

/* The vectors of an NHWC row of `channels` floats, and in *m the floats of the last. */
FR_INLINE size_t fr_row_vectors(size_t channels, size_t *m)
{
    size_t vectors = (channels + FR_LANES - 1) / FR_LANES;
    *m = channels - (vectors - 1) * FR_LANES;
    return vectors;
}

/*
 * Whether every alpha is negative or in (0, 1]. Then (x > 0) ? x : x * alpha
 * is max_ab(x, x * alpha) for every x (fr_leaky_max_v says why): two ops where
 * the select takes three, and five on SSE2. fastrelu-bench's prelu_f32 on
 * SSE2 at 16Ki (Zen 3) went from 2665 to 1594 ns with them.
 */
FR_INLINE int fr_prelu_maxes(const float *alpha, size_t channels)
{
    fr_vec one = fr_set1(1.0f), zero = fr_set1(0.0f), ok = one;
    size_t c = 0;
    for (; c + FR_LANES <= channels; c += FR_LANES) {
        fr_vec a = fr_loadu(alpha + c);
        ok = fr_select(fr_le(a, one), fr_select(fr_eq(a, zero), zero, ok), zero);
    }
    int all = fr_all(fr_eq(ok, one));
    for (; c < channels; c++)
        all &= alpha[c] <= 1.0f && alpha[c] != 0.0f;
    return all;
}

/* (x > 0) ? x : x * a; maxes as fr_prelu_maxes found. */
FR_INLINE fr_vec fr_prelu_v(fr_vec x, fr_vec a, int maxes)
{
    if (!maxes)
        return fr_leaky_v(x, a);
    x = fr_in_reg(x);
    return fr_max_ab(x, fr_mul(x, a));
}

FR_INLINE fr_vec fr_prelu_nhwc_v(fr_vec alpha, fr_vec x, fr_params p)
{
    (void)p;
    return fr_leaky_v(x, alpha);
}

FR_INLINE fr_vec fr_prelu_nhwc_max_v(fr_vec alpha, fr_vec x, fr_params p)
{
    (void)p;
    return fr_prelu_v(x, alpha, 1);
}

/* Vector i (or the last m < FR_LANES floats) of row j of a block of rows inner floats apart. */
#define FR_ROW(p, j) ((p) + (j) * inner + i)
#define FR_BLOCK_FWD(V)                                                                        \
    do {                                                                                       \
        fr_vec v0 = V(FR_ROW(x, 0)), v1 = V(FR_ROW(x, 1));                                     \
        fr_vec v2 = V(FR_ROW(x, 2)), v3 = V(FR_ROW(x, 3));                                     \
        FR_PUT_ROW(FR_ROW(y, 0), fr_prelu_v(v0, a0, maxes));                                   \
        FR_PUT_ROW(FR_ROW(y, 1), fr_prelu_v(v1, a1, maxes));                                   \
        FR_PUT_ROW(FR_ROW(y, 2), fr_prelu_v(v2, a2, maxes));                                   \
        FR_PUT_ROW(FR_ROW(y, 3), fr_prelu_v(v3, a3, maxes));                                   \
    } while (0)

/* FR_ROWS short rows of channels alpha[0..3]. */
FR_INLINE void fr_prelu_block_fwd(const float *x, const float *alpha, float *y, size_t inner,
                                  int maxes)
{
    fr_vec a0 = fr_set1(alpha[0]), a1 = fr_set1(alpha[1]);
    fr_vec a2 = fr_set1(alpha[2]), a3 = fr_set1(alpha[3]);
    size_t i = 0;
#define FR_PUT_ROW(p, v) fr_storeu(p, v)
    for (; i + FR_LANES <= inner; i += FR_LANES)
        FR_BLOCK_FWD(fr_loadu);
#undef FR_PUT_ROW
    if (i < inner) {
        size_t m = inner - i;
#define FR_LOAD_PART(p) fr_load_part(p, m)
#define FR_PUT_ROW(p, v) fr_store_part(p, v, m)
        FR_BLOCK_FWD(FR_LOAD_PART);
#undef FR_PUT_ROW
#undef FR_LOAD_PART
    }
}
#undef FR_BLOCK_FWD
#undef FR_ROW

#ifdef FR_PICK_ROWS
/*
 * NCHW rows of other lengths below FR_PICK_ROWS (AVX-512: 3x3, 5x5, 7x7
 * maps; AVX2: rows shorter than 2 vectors): FR_LANES rows at once, which
 * together are inner whole vectors.
 * Lane l of vector v is float p = FR_LANES * v + l of the block, in row
 * p / inner, found in float as (p + 0.5) / inner (p < 2048: it stays
 * 0.5 / inner away from an integer, far above its rounding); fr_pick then
 * takes that row's alpha from the block's FR_LANES alphas. Four rows at a
 * time, each row ending in a masked store, 64 channels of 7x7 took 231 ns
 * through the API, and 139 this way. AVX2's version (VPERMPS over 8 alphas)
 * was slower than its rows at 7x7 and 6x6 on Zen 3, so it takes only rows
 * of one vector and a tail, which by rows cost two partial loads and stores
 * a row: fastrelu-bench prelu_3x3_f32/avx2 at 1Ki (1 x 64 x 3x3) took 89 ns
 * by rows and 57 this way on Zen 5 (min of 5 in alternation).
 */
static const float fr_lane_mid[16] = {0.5f, 1.5f, 2.5f, 3.5f, 4.5f, 5.5f, 6.5f, 7.5f,
                                      8.5f, 9.5f, 10.5f, 11.5f, 12.5f, 13.5f, 14.5f, 15.5f};

FR_INLINE void fr_prelu_lanes_fwd(const float *x, const float *alpha, float *y, size_t inner,
                                  int stream, int maxes)
{
    fr_vec a = fr_loadu(alpha), inv = fr_set1(1.0f / (float)inner);
    fr_vec p0 = fr_loadu(fr_lane_mid), step = fr_set1((float)(4 * FR_LANES));
    fr_vec p1 = fr_add(p0, fr_set1((float)FR_LANES));
    fr_vec p2 = fr_add(p1, fr_set1((float)FR_LANES)), p3 = fr_add(p2, fr_set1((float)FR_LANES));
    size_t v = 0;
#define FR_LANES_STEP(j, p)                                                                    \
    fr_put_upto(y + (v + (j)) * FR_LANES,                                                      \
                fr_prelu_v(fr_loadu(x + (v + (j)) * FR_LANES), fr_pick(a, fr_mul(p, inv)),     \
                           maxes),                                                             \
                FR_LANES, stream)
    for (; v + 4 <= inner; v += 4) {
        FR_LANES_STEP(0, p0);
        FR_LANES_STEP(1, p1);
        FR_LANES_STEP(2, p2);
        FR_LANES_STEP(3, p3);
        p0 = fr_add(p0, step), p1 = fr_add(p1, step), p2 = fr_add(p2, step), p3 = fr_add(p3, step);
    }
    for (; v < inner; v++, p0 = p1, p1 = p2, p2 = p3)
        FR_LANES_STEP(0, p0);
#undef FR_LANES_STEP
}

/* Every o's blocks of FR_LANES channels; returns how many channels they cover. */
static size_t fr_prelu_fwd_lanes(const float *x, const float *alpha, float *y, size_t outer,
                                 size_t channels, size_t inner, int stream, int maxes)
{
    size_t done = channels / FR_LANES * FR_LANES;
    for (size_t o = 0; o < outer; o++)
        for (size_t c = 0; c < done; c += FR_LANES) {
            size_t base = (o * channels + c) * inner;
            fr_prelu_lanes_fwd(x + base, alpha + c, y + base, inner, stream, maxes);
        }
    return done;
}
#endif

/*
 * Element k of the flat array has alpha[(k / inner) % channels]: a pattern
 * that repeats every channels*inner floats. When whole periods fill 4 (or 3)
 * vectors, the call runs flat, that many vectors a step with their alphas in
 * registers, whatever the shape: small NHWC rows (one channel, RGB, 64
 * channels of AVX-512) and tiny NCHW maps. Row by row, a row of one to a few
 * floats cost a partial load and store each: fastrelu-bench's prelu_nhwc4
 * (4 channels) took 4549 ns at 16Ki that way on AVX-512, and 874 flat.
 *
 * fr_flat_step gives the vectors per step, 0 when neither fits.
 */
FR_INLINE int fr_pow2(size_t v) { return v && (v & (v - 1)) == 0; }

/* 4 vectors (a power of two) hold whole periods of powers of two, 3 vectors those of 3 * 2^j.
 * Tested without a division: a modulo put two 64-bit divisions on every call's path. */
FR_INLINE size_t fr_flat_step(size_t period)
{
    if (period <= 4 * FR_LANES && fr_pow2(period))
        return 4;
    return period <= 3 * FR_LANES && period % 3 == 0 && fr_pow2(period / 3) ? 3 : 0;
}

/* Whether a flat period (as fr_flat_step takes) divides one vector: then every vector holds the
 * same positions. */
FR_INLINE int fr_flat_in_vector(size_t period) { return period <= FR_LANES && fr_pow2(period); }

/* The channels of vector j of an NHWC row (0 past its end). */
FR_INLINE size_t fr_lanes_of(size_t channels, size_t j)
{
    size_t c = j * FR_LANES;
    return c >= channels ? 0 : channels - c < FR_LANES ? channels - c : FR_LANES;
}

/* The channel after c, wrapping at channels. */
FR_INLINE size_t fr_next_channel(size_t c, size_t channels)
{
    return c + 1 == channels ? 0 : c + 1;
}

/*
 * The channel of each flat position from 0 to len - 1, (k / inner) % channels,
 * to f(k, channel) in order.
 */
#define FR_FLAT_CHANNELS(len, channels, inner, f)                                                 \
    do {                                                                                       \
        size_t c_ = 0, i_ = 0;                                                                 \
        for (size_t k_ = 0; k_ < (len); k_++) {                                                \
            f(k_, c_);                                                                         \
            if (++i_ == (inner)) {                                                             \
                i_ = 0;                                                                        \
                c_ = fr_next_channel(c_, (channels));                                          \
            }                                                                                  \
        }                                                                                      \
    } while (0)

/*
 * The flat alphas: a[j] for vector j of each step after a head of h floats,
 * and the head's own. NHWC rows of whole vectors load them from alpha; other
 * shapes spell the pattern out in pat first, one vector of it when the period
 * divides a vector (then a[0..3] are the same).
 */
typedef struct fr_flat_alpha {
    fr_vec a[4], head;
} fr_flat_alpha;

/* Vector j's alpha for rows of whole vectors: counted, not divided, since
 * (j * FR_LANES / inner) % channels put up to eight 64-bit divisions on the call's path. */
FR_INLINE fr_flat_alpha fr_whole_row_alphas(const float *alpha, size_t channels, size_t inner)
{
    fr_flat_alpha f;
    size_t per_row = inner / FR_LANES, c = 0, v = 0;
#pragma GCC unroll 4
    for (size_t j = 0; j < 4; j++) {
        f.a[j] = fr_set1(alpha[c]);
        if (++v == per_row) {
            v = 0;
            c = fr_next_channel(c, channels);
        }
    }
    f.head = f.a[0];
    return f;
}

FR_INLINE fr_flat_alpha fr_flat_alpha_of(const float *alpha, size_t channels, size_t inner,
                                         size_t h)
{
    fr_flat_alpha f;
    if (h == 0 && inner == 1 && channels % FR_LANES == 0) {
#pragma GCC unroll 4
        for (size_t j = 0, c = 0; j < 4; j++, c = c + FR_LANES == channels ? 0 : c + FR_LANES)
            f.a[j] = fr_loadu(alpha + c);
        f.head = f.a[0];
        return f;
    }
    if (h == 0 && inner == 1 && fr_flat_in_vector(channels)) { /* alpha repeats in a vector */
        f.head = f.a[0] = f.a[1] = f.a[2] = f.a[3] = fr_repeat(alpha, channels);
        return f;
    }
    if (h == 0 && inner % FR_LANES == 0) /* rows of whole vectors: one channel a vector */
        return fr_whole_row_alphas(alpha, channels, inner);
    size_t apart = fr_flat_in_vector(channels * inner) ? 0 : FR_LANES;
    float pat[5 * FR_LANES];
#define FR_PAT(k, c) pat[k] = alpha[c]
    FR_FLAT_CHANNELS(h + 3 * apart + FR_LANES, channels, inner, FR_PAT);
#undef FR_PAT
#pragma GCC unroll 4
    for (size_t j = 0; j < 4; j++)
        f.a[j] = fr_loadu(pat + h + j * apart);
    f.head = fr_loadu(pat);
    return f;
}

/* From k, whole steps of Q vectors with alphas a0..a(Q-1); returns where they stop. */
FR_INLINE size_t fr_prelu_flat_steps(const float *x, float *y, size_t k, size_t n, fr_flat_alpha f,
                                     size_t Q, int stream, int maxes)
{
    fr_vec a0 = f.a[0], a1 = f.a[1], a2 = f.a[2], a3 = f.a[3];
    for (; k + Q * FR_LANES <= n; k += Q * FR_LANES) {
        fr_vec v0 = fr_loadu(x + k), v1 = fr_loadu(x + k + FR_LANES);
        fr_vec v2 = fr_loadu(x + k + 2 * FR_LANES);
        fr_put(y + k, fr_prelu_v(v0, a0, maxes), stream);
        fr_put(y + k + FR_LANES, fr_prelu_v(v1, a1, maxes), stream);
        fr_put(y + k + 2 * FR_LANES, fr_prelu_v(v2, a2, maxes), stream);
        if (Q == 4)
            fr_put(y + k + 3 * FR_LANES, fr_prelu_v(fr_loadu(x + k + 3 * FR_LANES), a3, maxes),
                   stream);
    }
    return k;
}

/*
 * fr_prelu_flat_steps for a streaming call, in parts as fr_map1_parts goes
 * (common.h), each part whole steps so that it starts its alphas at a0; a
 * step takes Q vectors from each part. Returns where it stops.
 */
FR_INLINE size_t fr_prelu_flat_parts(const float *x, float *y, size_t k, size_t n,
                                     fr_flat_alpha f, size_t Q, int maxes)
{
    size_t step = Q * FR_LANES;
    if (n - k < FR_STREAM_PARTS1 * FR_STREAM_PART_MIN)
        return k;
    size_t q = (n - k) / (FR_STREAM_PARTS1 * step) * step;
    fr_vec a0 = f.a[0], a1 = f.a[1], a2 = f.a[2], a3 = f.a[3];
    for (size_t i = k; i < k + q; i += step)
        for (size_t p = 0; p < FR_STREAM_PARTS1; p++) {
            const float *xp = x + p * q + i;
            float *yp = y + p * q + i;
            fr_stream(yp, fr_prelu_v(fr_loadu(xp), a0, maxes));
            fr_stream(yp + FR_LANES, fr_prelu_v(fr_loadu(xp + FR_LANES), a1, maxes));
            fr_stream(yp + 2 * FR_LANES, fr_prelu_v(fr_loadu(xp + 2 * FR_LANES), a2, maxes));
            if (Q == 4)
                fr_stream(yp + 3 * FR_LANES, fr_prelu_v(fr_loadu(xp + 3 * FR_LANES), a3, maxes));
        }
    return k + FR_STREAM_PARTS1 * q;
}

FR_INLINE void fr_prelu_fwd_flat(const float *x, const float *alpha, float *y, size_t n,
                                 size_t channels, size_t inner, size_t q, int stream, int maxes)
{
    stream = stream && (uintptr_t)y % sizeof(float) == 0;
    size_t h = stream ? fr_stream_head(y, n) : 0;
    fr_flat_alpha f = fr_flat_alpha_of(alpha, channels, inner, h);
    if (h)
        fr_store_part(y, fr_prelu_v(fr_load_part(x, h), f.head, maxes), h);
    size_t k = h;
    if (stream)
        k = q == 4 ? fr_prelu_flat_parts(x, y, k, n, f, 4, maxes)
                   : fr_prelu_flat_parts(x, y, k, n, f, 3, maxes);
    k = q == 4 ? fr_prelu_flat_steps(x, y, k, n, f, 4, stream, maxes)
               : fr_prelu_flat_steps(x, y, k, n, f, 3, stream, maxes);
    /* Fewer than q vectors are left, and they start a period as a step does. Unrolled, so that
     * f stays in registers (indexed by a variable, it went through the stack). */
#pragma GCC unroll 4
    for (size_t j = 0; j < 4; j++) {
        size_t m = fr_lanes_of(n - k, j), at = k + j * FR_LANES;
        if (m)
            fr_put_upto(y + at, fr_prelu_v(fr_load_upto(x + at, m), f.a[j], maxes), m, stream);
    }
}

/*
 * Whether NCHW rows may stream their output: only when every vector of every
 * row is whole and aligned (fr_rows_whole: rows of whole vectors from an
 * aligned start, as NHWC rows and spread-alpha rows need too), or
 * on AVX-512 when short rows go FR_LANES at a time (whole vectors together).
 * Otherwise each row streams its aligned vectors and stores the rest, lines
 * get some of each, and the write-combining buffers go out part-filled. On
 * Zen 3 through the API: 1337 x 64 x 7x7 backward on SSE2 took 8.8 ms
 * streamed and 2.0 not, its forward 20.3 and 1.45; 334 x 64 x 14x14 on AVX2
 * 4.0 and 1.6 backward, 3.0 and 1.24 forward. Rows of whole vectors gain
 * from streaming: 84 x 64 x 28x28 on AVX2 1.28 and 1.68 ms backward.
 */
FR_INLINE int fr_rows_whole(const float *out, size_t len)
{
    return len % FR_LANES == 0 && (uintptr_t)out % (FR_LANES * sizeof(float)) == 0;
}

FR_INLINE int fr_prelu_rows_stream(const float *out, size_t inner)
{
#ifdef FR_PICK_ROWS
    if (inner < FR_PICK_ROWS)
        return 1;
#endif
    return fr_rows_whole(out, inner);
}

/*
 * NCHW rows shorter than a vector, of a power-of-two length: a vector holds
 * FR_LANES / inner whole rows, and one load of their alphas, spread by
 * fr_expand, serves it. Four rows at a time, each row a partial load and
 * store of its own, 256 channels of 2x2 took 225 ns through the API on
 * AVX-512 (leaky_relu on as many floats: 25).
 */
/* One alpha: the whole array is a single row. */
FR_INLINE void fr_one_row_if_one_channel(size_t channels, size_t *outer, size_t *inner)
{
    if (channels == 1) {
        *inner *= *outer;
        *outer = 1;
    }
}

/* FR_LANES / inner for a power of two inner <= FR_LANES, without a 64-bit division. */
FR_INLINE size_t fr_rows_a_vector(size_t inner) { return FR_LANES >> __builtin_ctzll(inner); }

/* The alphas of a group of rows (fewer than FR_LANES / inner: the last, partial group). */
FR_INLINE fr_vec fr_group_alpha(const float *alpha, size_t rows, size_t inner)
{
    if (inner == FR_LANES)
        return fr_set1(*alpha);
    return fr_expand(rows * inner == FR_LANES ? fr_repeat(alpha, rows) : fr_load_part(alpha, rows),
                     inner);
}

/*
 * From 4 o's, rows of at most FR_EXPAND_ROW floats have their alphas spread
 * once into a buffer, and each o then runs as an NHWC row of that many
 * channels. Through the API on Zen 3, min of 5, ns, each vector's alphas
 * spread in the loop against the buffer: AVX2, N x 64 x 2x2, 132 and 114 at
 * N = 4, 2197 and 1638 at N = 64, 1.22 and 0.85 ms at N = 16384; 1024 x 32
 * x 2 10307 and 5917; SSE2 N x 64 x 2, 130 and 121 at N = 4, 1679 and 945
 * at N = 64. At N = 2 the buffer lost (79 against 91 with 64 x 2x2).
 */
#define FR_EXPAND_ROW 1024

/*
 * Streaming, rows of `row` floats that each run against the same row of
 * alphas u, every row whole aligned vectors (fr_rows_whole): the rows in
 * FR_STREAM_PARTS1 ranges in lockstep, the same vector of a row from each
 * range a step (fr_map1_parts, common.h), when each range is at least
 * FR_STREAM_PART_MIN floats. Returns the rows it did.
 */
FR_INLINE size_t fr_prelu_rows_parts(const float *u, const float *x, float *y, size_t outer,
                                     size_t row, int maxes)
{
    size_t q = outer / FR_STREAM_PARTS1, span = q * row;
    if (span < FR_STREAM_PART_MIN)
        return 0;
    for (size_t at = 0; at < span; at += row)
        for (size_t j = 0; j < row; j += FR_LANES) {
            fr_vec a = fr_loadu(u + j), v[FR_STREAM_PARTS1];
            for (size_t k = 0; k < FR_STREAM_PARTS1; k++)
                v[k] = fr_prelu_v(fr_loadu(x + k * span + at + j), a, maxes);
            for (size_t k = 0; k < FR_STREAM_PARTS1; k++)
                fr_stream(y + k * span + at + j, v[k]);
        }
    return FR_STREAM_PARTS1 * q;
}

FR_INLINE void fr_prelu_fwd_expand(const float *x, const float *alpha, float *y, size_t outer,
                                   size_t channels, size_t inner, int stream, int maxes)
{
    size_t g = fr_rows_a_vector(inner), row = channels * inner;
    if (outer >= 4 && row <= FR_EXPAND_ROW) {
        float a[FR_EXPAND_ROW + FR_LANES];
        for (size_t c = 0; c < channels; c += g)
            fr_storeu(a + c * inner, fr_group_alpha(alpha + c, channels - c < g ? channels - c : g,
                                                    inner));
        stream = stream && fr_rows_whole(y, row);
        for (size_t o = stream ? fr_prelu_rows_parts(a, x, y, outer, row, maxes) : 0; o < outer;
             o++)
            fr_map2_part(a, x + o * row, y + o * row, row, fr_params1(0.0f),
                         maxes ? fr_prelu_nhwc_max_v : fr_prelu_nhwc_v, stream, 0);
        return;
    }
#define FR_EXPAND_STEP(j)                                                                      \
    fr_put_upto(yo + (c + (j) * g) * inner,                                                    \
                fr_prelu_v(fr_loadu(xo + (c + (j) * g) * inner),                               \
                           fr_group_alpha(alpha + c + (j) * g, g, inner), maxes),              \
                FR_LANES, stream)
    for (size_t o = 0; o < outer; o++) {
        const float *xo = x + o * channels * inner;
        float *yo = y + o * channels * inner;
        size_t c = 0;
        for (; c + 4 * g <= channels; c += 4 * g) {
            FR_EXPAND_STEP(0);
            FR_EXPAND_STEP(1);
            FR_EXPAND_STEP(2);
            FR_EXPAND_STEP(3);
        }
        for (; c + g <= channels; c += g)
            FR_EXPAND_STEP(0);
        if (c < channels) {
            size_t m = (channels - c) * inner;
            fr_vec a = fr_group_alpha(alpha + c, channels - c, inner);
            fr_store_part(yo + c * inner, fr_prelu_v(fr_load_part(xo + c * inner, m), a, maxes),
                          m);
        }
    }
#undef FR_EXPAND_STEP
}

/*
 * NCHW rows of other lengths below FR_SHORT_ROW (3x3, 5x5, 7x7 maps): the
 * call runs flat with the alphas spelled out. Each row's alpha is stored
 * over its floats in a stack buffer (a vector at a time, the next row
 * overwriting the overhang), and one loop then takes x and the alphas a
 * vector each. The alphas repeat every channels * inner floats: when the
 * buffer holds a whole number of those periods that is also whole vectors
 * (fr_spell_span), it is spelled once and serves every tile. Otherwise (on
 * ISAs whose partial loads and stores go through the stack, stack_tail.h)
 * each tile spells its own. Through the API on SSE2, spelling each tile,
 * 32 channels of 3x3 took 293 ns row by row and 110 spelled; 64 of 5x5,
 * 666 and 486; 64 of 7x7 did not move. Spelled once, fastrelu-bench's
 * prelu_3x3_f32 (28 x 64 x 3x3) at 16Ki went from 5518 to 2900 ns on SSE2,
 * and on AVX2 from 2364 by rows to 1055.
 */
#define FR_SPELL_TILE 4096

/* The floats of whole periods and whole vectors, at least FR_SPELL_TILE / 16, that the
 * buffer holds once spelled; 0 if none fit. */
FR_INLINE size_t fr_spell_span(size_t period)
{
    if (period == 0)
        return 0;
    size_t shift = (size_t)__builtin_ctzll(FR_LANES), tz = (size_t)__builtin_ctzll(period);
    size_t span = period << (shift - (tz < shift ? tz : shift)); /* lcm(period, FR_LANES) */
    if (span > FR_SPELL_TILE)
        return 0;
    return span * ((FR_SPELL_TILE / 16 + span - 1) / span);
}

/*
 * Whether NCHW rows of `inner` floats run spelled, forward or backward;
 * `fits` says whether one spelling serves every o (and, backward, whether
 * each o is then walked in memory order). NEON, whose row tails go through
 * the stack, always spells them. SSE2 spells them when they fit and there
 * are o's enough to outweigh the spelling: on AVX2 through the API, by rows
 * against spelled, N x 64 x 3x3 forward took 71 and 132 ns at N = 1, 189
 * and 187 at N = 3, 4560 and 1812 at N = 64; 64 channels of 7x7 at N = 4
 * 998 and 1323, at N = 16 3467 and 2919; of 5x5 at N = 16 2145 and 1514.
 * At 1Ki (N = 1) SSE2's prelu_3x3_f32 took 126 ns by rows and 216 spelled,
 * its backward 246 and 432.
 *
 * With fr_pick, rows go FR_LANES at a time instead (fr_prelu_fwd_lanes,
 * fr_prelu_bwd_lanes): AVX-512's forward always; AVX2's for rows shorter
 * than FR_PICK_ROWS, spelled from 6 o's (fastrelu-bench prelu_3x3_f32/avx2,
 * N x 64 x 3x3, spelled against 8 rows at a time: N = 4 218 and 186 ns,
 * N = 6 267 and 267, N = 10 391 and 431), its longer rows as SSE2's.
 * Backward, FR_LANES rows at a time beat spelled but for rows so short that
 * several end in each vector, and then only with o's enough. Blocks of rows
 * against spelled, channels x inner through the API (ns, min of 7-15 runs
 * in alternation, Zen 5):
 *
 *   AVX-512   64 x 3: N = 1 116, 140; N = 4 184, 179; N = 8 449, 260
 *             64 x 7: N = 4 244, 279; N = 8 492, 440; N = 16 1015, 902
 *             64 x 9: N = 8 577, 710; N = 28 1735, 1660; N = 455 45733, 48328
 *   AVX2      64 x 3: N = 1 163, 209; N = 2 204, 229; N = 4 300, 271
 *             64 x 5: N = 1 127, 157; N = 3 296, 235
 *             64 x 9: N = 8 706, 712; N = 28 2277, 2214; N = 455 48249, 44813
 *             16 x 49: N = 16 1469, 1591; 32 x 25: N = 64 6636, 6860
 *
 * AVX2's rows of 2 vectors or more went by rows before; against 8 at a
 * time, 64 channels of 5x5 through the API took 1042 and 792 ns at N = 4,
 * 4599 and 3175 at N = 16; 16 channels of 7x7 1615 and 1471 at N = 16;
 * fastrelu-bench prelu_7x7_backward_f32/avx2 (64 channels) the same, 1929
 * and 1903 at 16Ki, 7715 and 7545 at 64Ki.
 */
FR_INLINE int fr_prelu_spells(size_t outer, size_t inner, int fits, int forward)
{
    if (inner >= FR_SHORT_ROW || inner % FR_LANES == 0)
        return 0;
#if defined(FR_STACK_TAIL)
    return (void)outer, (void)fits, (void)forward, 1;
#elif FR_LANES == 16 /* AVX-512: its forward takes every short row FR_LANES at a time */
    return !forward && fits && inner < 8 && outer >= 8;
#else
#ifdef FR_PICK_ROWS /* AVX2 */
    if (!forward)
        return fits && inner < FR_PICK_ROWS && outer >= 3;
    if (inner < FR_PICK_ROWS)
        return fits && outer >= 6;
#endif
    return (void)forward, fits && outer * FR_LANES >= 2 * inner;
#endif
}

/* From row c with left floats to go: its alphas and the next rows' over len floats at buf. */
FR_INLINE void fr_spell_alphas(float *buf, size_t len, const float *alpha, size_t channels,
                               size_t inner, size_t *c, size_t *left)
{
    for (size_t j = 0;;) {
        fr_vec a = fr_set1(alpha[*c]);
        size_t end = j + *left;
        for (; j < end && j < len; j += FR_LANES)
            fr_storeu(buf + j, a);
        if (end > len) {
            *left = end - len;
            return;
        }
        j = end;
        *c = fr_next_channel(*c, channels);
        *left = inner;
        if (j == len)
            return;
    }
}

FR_OUT_OF_LINE void fr_prelu_fwd_spelled(const float *x, const float *alpha, float *y, size_t n,
                                         size_t channels, size_t inner, int stream, int maxes)
{
    float buf[FR_SPELL_TILE + FR_LANES];
    size_t span = fr_spell_span(channels * inner), tile = span ? span : FR_SPELL_TILE;
    size_t c = 0, left = inner;
    if (span)
        fr_spell_alphas(buf, n < span ? n : span, alpha, channels, inner, &c, &left);
    for (size_t k = 0; k < n; k += tile) {
        size_t len = n - k < tile ? n - k : tile, i = 0;
        if (!span)
            fr_spell_alphas(buf, len, alpha, channels, inner, &c, &left);
        for (; i + FR_LANES <= len; i += FR_LANES)
            fr_put_upto(y + k + i, fr_prelu_v(fr_loadu(x + k + i), fr_loadu(buf + i), maxes),
                        FR_LANES, stream);
        if (i < len)
            fr_store_part(y + k + i,
                          fr_prelu_v(fr_load_part(x + k + i, len - i), fr_loadu(buf + i), maxes),
                          len - i);
    }
}

/*
 * NHWC rows of V vectors (the last of m floats), V <= FR_NHWC_NARROW, with
 * their alphas in registers. fastrelu-bench prelu_nhwc_f32/avx2 (64
 * channels), min of 3 in alternation on Zen 3, against fr_map2_part row by
 * row (which loads the alphas beside x): 1Ki 86 -> 69 ns, 16Ki 1514 -> 1455,
 * 4Mi 1.04 -> 0.85 ms, 64Mi 21.4 -> 17.9 ms.
 */
FR_INLINE void fr_prelu_fwd_nhwc_vectors(const float *x, const float *alpha, float *y,
                                         size_t outer, size_t channels, size_t m, int stream,
                                         int maxes, size_t V)
{
    fr_vec a[FR_NHWC_NARROW];
#pragma GCC unroll 8
    for (size_t j = 0; j < V; j++)
        a[j] = fr_load_upto(alpha + j * FR_LANES, j + 1 < V ? FR_LANES : m);
    for (size_t o = 0; o < outer; o++) {
        const float *xo = x + o * channels;
        float *yo = y + o * channels;
#pragma GCC unroll 8
        for (size_t j = 0; j < V; j++) {
            size_t mj = j + 1 < V ? FR_LANES : m;
            fr_put_upto(yo + j * FR_LANES,
                        fr_prelu_v(fr_load_upto(xo + j * FR_LANES, mj), a[j], maxes), mj, stream);
        }
    }
}

FR_INLINE void fr_prelu_fwd_nhwc_narrow(const float *x, const float *alpha, float *y, size_t outer,
                                        size_t channels, int stream, int maxes)
{
    size_t m, vectors = fr_row_vectors(channels, &m);
    if (vectors == 0)
        return; /* no channels */
#define FR_NHWC_FWD(V) fr_prelu_fwd_nhwc_vectors(x, alpha, y, outer, channels, m, stream, maxes, V)
    FR_BY_VECTORS(vectors, FR_NHWC_FWD)
#undef FR_NHWC_FWD
}

/* NCHW rows one (o, c) at a time, short ones FR_ROWS at a time. */
FR_INLINE void fr_prelu_fwd_rows(FR_PARAMS_prelu_fwd, int stream, int maxes)
{
    size_t c0 = 0; /* channels done */
#ifdef FR_PICK_ROWS
    if (inner < FR_PICK_ROWS && inner % FR_LANES)
        c0 = fr_prelu_fwd_lanes(x, alpha, y, outer, channels, inner, stream, maxes);
#endif
    for (size_t o = 0; o < outer; o++) {
        size_t c = c0;
        if (inner < FR_SHORT_ROW)
            for (; c + FR_ROWS <= channels; c += FR_ROWS) {
                size_t base = (o * channels + c) * inner;
                fr_prelu_block_fwd(x + base, alpha + c, y + base, inner, maxes);
            }
        for (; c < channels; c++) {
            size_t base = (o * channels + c) * inner;
            fr_map1_part(x + base, y + base, inner, fr_params1(alpha[c]),
                         maxes ? fr_leaky_max_v : fr_leaky_relu_fwd_v, stream);
        }
    }
}

/*
 * With stream, the flat path, NHWC rows, NCHW rows when fr_prelu_rows_stream
 * allows it and AVX-512's blocks of FR_LANES rows go out through non-temporal
 * stores (each aligns its head, or streams only vectors that are aligned) and
 * the call fences once; blocks of four short rows keep ordinary stores.
 */
FR_INLINE void fr_prelu_fwd_as(FR_PARAMS_prelu_fwd, int stream, int maxes)
{
    fr_one_row_if_one_channel(channels, &outer, &inner);
    size_t q = fr_flat_step(channels * inner);
    if (q) {
        fr_prelu_fwd_flat(x, alpha, y, outer * channels * inner, channels, inner, q, stream,
                          maxes);
    } else if (inner == 1 && channels <= FR_NHWC_NARROW * FR_LANES) {
        if (stream && fr_rows_whole(y, channels))
            fr_prelu_fwd_nhwc_narrow(x, alpha, y, outer, channels, 1, maxes);
        else
            fr_prelu_fwd_nhwc_narrow(x, alpha, y, outer, channels, 0, maxes);
    } else if (inner == 1) {
        size_t o = stream && fr_rows_whole(y, channels)
                       ? fr_prelu_rows_parts(alpha, x, y, outer, channels, maxes)
                       : 0;
        for (; o < outer; o++)
            fr_map2_part(alpha, x + o * channels, y + o * channels, channels, fr_params1(0.0f),
                         maxes ? fr_prelu_nhwc_max_v : fr_prelu_nhwc_v, stream, 0);
    } else if (inner < FR_LANES && fr_pow2(inner)) {
        fr_prelu_fwd_expand(x, alpha, y, outer, channels, inner, stream, maxes);
    } else if (fr_prelu_spells(outer, inner, fr_spell_span(channels * inner) != 0, 1)) {
        fr_prelu_fwd_spelled(x, alpha, y, outer * channels * inner, channels, inner, stream,
                             maxes);
    } else if (stream && fr_prelu_rows_stream(y, inner)) {
        fr_prelu_fwd_rows(FR_ARGS_prelu_fwd, 1, maxes);
    } else {
        fr_prelu_fwd_rows(FR_ARGS_prelu_fwd, 0, maxes);
    }
    if (stream)
        fr_stream_fence();
}

/* Two copies of the paths above, so that each loop has its op fixed. */
FR_INLINE void fr_prelu_fwd(FR_PARAMS_prelu_fwd, int stream)
{
    if (fr_prelu_maxes(alpha, channels))
        fr_prelu_fwd_as(FR_ARGS_prelu_fwd, stream, 1);
    else
        fr_prelu_fwd_as(FR_ARGS_prelu_fwd, stream, 0);
}

/*
 * dalpha's terms (x > 0 ? 0 : x*dy) are float products, as in the reference,
 * summed in double lanes (fr_dacc): 2^24 terms per channel would lose all
 * accuracy in float. Widening every vector of terms to double, though, cost
 * more than the rest of a step on AVX-512 (VCVTPS2PD: 8 of them per 64 floats
 * took 2.6-2.9 ns in a /tmp loop, 8 float adds 0.6). So each lane first adds
 * a run of at most FR_RUN terms in float (a vector a step), and the run goes
 * into the double lanes as one: a float partial of FR_RUN terms is off by at
 * most 7 * 2^-24 of their magnitudes' sum. (The spelled rows run the same
 * way, a position's terms down at most FR_RUN o's, and so do NHWC rows of
 * more than FR_NHWC_NARROW vectors, a channel's terms down FR_RUN rows.)
 *
 * A run can overflow where the double sum does not (terms of 2^127 that
 * cancel); dalpha then comes out infinite or NaN, and fr_prelu_dalpha_exact
 * sums that channel again in double (see fr_prelu_bwd for calls in place).
 */
#define FR_RUN 8 /* a row shorter than FR_SHORT_ROW fits one run */

/* Where a float run of at most `run` steps that starts at step i of n ends. */
FR_INLINE size_t fr_run_end(size_t i, size_t n, size_t run) { return n - i > run ? i + run : n; }

/* m <= FR_LANES floats at i: write dx (unless NULL; as fr_put_upto) and return the m terms. */
FR_INLINE fr_vec fr_prelu_bwd_terms(const float *dy, const float *x, float *dx, size_t i,
                                    fr_vec alpha, size_t m, int stream)
{
    fr_vec g = fr_load_upto(dy + i, m);
    fr_vec v = fr_load_upto(x + i, m);
    if (dx)
        fr_put_upto(dx + i, fr_leaky_grad_v(g, v, alpha), m, stream);
    /* Lanes past m hold x = dy = 0, which add 0. */
    return fr_zero_if(fr_gt(v, fr_set1(0.0f)), fr_mul(v, g));
}

/* As fr_prelu_bwd_terms, the terms added to acc in double. */
FR_INLINE fr_dacc fr_prelu_bwd_step(const float *dy, const float *x, float *dx, size_t i,
                                    fr_vec alpha, size_t m, fr_dacc acc, int stream)
{
    return fr_dacc_add(acc, fr_prelu_bwd_terms(dy, x, dx, i, alpha, m, stream));
}

/*
 * A row into acc, four float runs in flight, each of at most `run` vectors
 * (chunks of run * FR_UNROLL vectors; a shorter last one takes its single
 * vectors and partial tail into different runs).
 */
FR_INLINE fr_dacc fr_prelu_row_bwd(const float *dy, const float *x, float *dx, fr_vec a,
                                   size_t inner, fr_dacc acc, size_t run, int stream)
{
    const size_t chunk = run * FR_UNROLL * FR_LANES;
    size_t i = 0;
    while (i < inner) {
        size_t end = inner - i > chunk ? i + chunk : inner;
        fr_vec r0 = fr_set1(0.0f), r1 = r0, r2 = r0, r3 = r0;
        for (; i + FR_UNROLL * FR_LANES <= end; i += FR_UNROLL * FR_LANES) {
            r0 = fr_add(r0, fr_prelu_bwd_terms(dy, x, dx, i, a, FR_LANES, stream));
            r1 = fr_add(r1, fr_prelu_bwd_terms(dy, x, dx, i + FR_LANES, a, FR_LANES, stream));
            r2 = fr_add(r2, fr_prelu_bwd_terms(dy, x, dx, i + 2 * FR_LANES, a, FR_LANES, stream));
            r3 = fr_add(r3, fr_prelu_bwd_terms(dy, x, dx, i + 3 * FR_LANES, a, FR_LANES, stream));
        }
        if (i + FR_LANES <= end) {
            r1 = fr_add(r1, fr_prelu_bwd_terms(dy, x, dx, i, a, FR_LANES, stream));
            i += FR_LANES;
        }
        if (i + FR_LANES <= end) {
            r2 = fr_add(r2, fr_prelu_bwd_terms(dy, x, dx, i, a, FR_LANES, stream));
            i += FR_LANES;
        }
        if (i + FR_LANES <= end) {
            r3 = fr_add(r3, fr_prelu_bwd_terms(dy, x, dx, i, a, FR_LANES, stream));
            i += FR_LANES;
        }
        if (i < end) {
            r0 = fr_add(r0, fr_prelu_bwd_terms(dy, x, dx, i, a, end - i, stream));
            i = end;
        }
        acc = fr_dacc_add(fr_dacc_add(acc, r0), r1);
        acc = fr_dacc_add(fr_dacc_add(acc, r2), r3);
    }
    return acc;
}

/* A group's lanes to out, or (add) added to those there. */
FR_INLINE void fr_put_lanes(double *out, fr_dacc acc, int add)
{
    if (!add) {
        fr_dacc_store(out, acc);
        return;
    }
    fr_dacc_store(out, fr_dacc_merge(fr_dacc_load(out), acc));
}

/* One row shorter than FR_SHORT_ROW (at most FR_RUN vectors): its terms in one float run. */
FR_INLINE fr_vec fr_prelu_short_row_bwd(const float *dy, const float *x, float *dx, fr_vec a,
                                        size_t inner, int stream)
{
    fr_vec run = fr_set1(0.0f);
    size_t i = 0;
    for (; i + FR_LANES <= inner; i += FR_LANES)
        run = fr_add(run, fr_prelu_bwd_terms(dy, x, dx, i, a, FR_LANES, stream));
    if (i < inner)
        run = fr_add(run, fr_prelu_bwd_terms(dy, x, dx, i, a, inner - i, stream));
    return run;
}

/*
 * FR_ROWS such rows inner floats apart, a vector of each per step: their runs
 * (the groups that fr_prelu_lane_rows_bwd does not take).
 */
FR_INLINE void fr_prelu_rows4_bwd(const float *dy, const float *x, float *dx,
                                  const float *alpha, size_t inner, fr_vec *runs, int stream)
{
    fr_vec a0 = fr_set1(alpha[0]), a1 = fr_set1(alpha[1]);
    fr_vec a2 = fr_set1(alpha[2]), a3 = fr_set1(alpha[3]);
    fr_vec r0 = fr_set1(0.0f), r1 = r0, r2 = r0, r3 = r0;
    size_t i = 0;
#define FR_ROWS4_STEP(m)                                                                       \
    do {                                                                                       \
        r0 = fr_add(r0, fr_prelu_bwd_terms(dy, x, dx, i, a0, m, stream));                      \
        r1 = fr_add(r1, fr_prelu_bwd_terms(dy, x, dx, inner + i, a1, m, stream));              \
        r2 = fr_add(r2, fr_prelu_bwd_terms(dy, x, dx, 2 * inner + i, a2, m, stream));          \
        r3 = fr_add(r3, fr_prelu_bwd_terms(dy, x, dx, 3 * inner + i, a3, m, stream));          \
    } while (0)
    for (; i + FR_LANES <= inner; i += FR_LANES)
        FR_ROWS4_STEP(FR_LANES);
    if (i < inner)
        FR_ROWS4_STEP(inner - i);
#undef FR_ROWS4_STEP
    runs[0] = r0, runs[1] = r1, runs[2] = r2, runs[3] = r3;
}

/* FR_LANES rows of one o (or the `rows` left), inner floats apart: their runs (zeros past rows). */
FR_INLINE void fr_prelu_short_rows_bwd(const float *dy, const float *x, float *dx,
                                       const float *alpha, size_t inner, size_t rows,
                                       fr_vec *runs, int stream)
{
    size_t j = 0;
    rows = rows < FR_LANES ? rows : FR_LANES;
    for (; j + FR_ROWS <= rows; j += FR_ROWS)
        fr_prelu_rows4_bwd(dy + j * inner, x + j * inner, dx ? dx + j * inner : NULL, alpha + j,
                           inner, runs + j, stream);
    for (; j < rows; j++)
        runs[j] = fr_prelu_short_row_bwd(dy + j * inner, x + j * inner,
                                         dx ? dx + j * inner : NULL, fr_set1(alpha[j]), inner,
                                         stream);
    for (; j < FR_LANES; j++)
        runs[j] = fr_set1(0.0f);
}

/* FR_LANES runs' rows added across their lanes, to out by fr_put_lanes. */
FR_INLINE void fr_put_row_sums(const fr_vec *runs, double *out, int add)
{
    fr_put_lanes(out, fr_dacc_add(fr_dacc_zero(), fr_row_sums(runs)), add);
}

/*
 * Rows of v whole vectors, v a constant at each call: the rows unrolled with no loop of
 * their own. (Rows of 2 vectors through fr_prelu_short_row_bwd ran a loop of two steps a
 * row: fastrelu-bench prelu_backward_f32/avx2 at 1Ki, 1 x 64 x 16, took 285 ns against 197
 * this way on Zen 3, min of 7 in alternation.)
 */
FR_INLINE void fr_prelu_lane_rows_v(const float *dy, const float *x, const float *alpha,
                                    float *dx, fr_vec *runs, size_t v, int stream)
{
#pragma GCC unroll 16
    for (size_t j = 0; j < FR_LANES; j++) {
        fr_vec a = fr_set1(alpha[j]);
        fr_vec run = fr_prelu_bwd_terms(dy, x, dx, j * v * FR_LANES, a, FR_LANES, stream);
        for (size_t k = 1; k < v; k++)
            run = fr_add(run, fr_prelu_bwd_terms(dy, x, dx, (j * v + k) * FR_LANES, a,
                                                 FR_LANES, stream));
        runs[j] = run;
    }
}

/*
 * A whole group of FR_LANES rows on AVX2 and AVX-512, or of one-vector rows
 * on any ISA: each row's run made in turn, the rows unrolled so that the runs
 * stay in registers until fr_row_sums. (Through fr_prelu_rows4_bwd into an
 * array, the runs went through the stack. Through the API, pinned, min of
 * 21, ns: AVX-512 1 x 64 x 16 144 -> 100, 32 x 64 x 16 3973 -> 2592,
 * 4 x 64 x 64 1585 -> 1300; AVX2 1 x 64 x 16 227 -> 142, 1 x 20 x 49 242 ->
 * 140. SSE2's rows of two vectors took 5% longer row by row: 1 x 64 x 8 175
 * -> 184.)
 */
FR_INLINE void fr_prelu_lane_rows_bwd(const float *dy, const float *x, const float *alpha,
                                      float *dx, fr_vec *runs, size_t inner, int stream)
{
    if (inner == FR_LANES) {
        fr_prelu_lane_rows_v(dy, x, alpha, dx, runs, 1, stream);
        return;
    }
    if (inner == 2 * FR_LANES) {
        fr_prelu_lane_rows_v(dy, x, alpha, dx, runs, 2, stream);
        return;
    }
#pragma GCC unroll 16
    for (size_t j = 0; j < FR_LANES; j++)
        runs[j] = fr_prelu_short_row_bwd(dy + j * inner, x + j * inner,
                                         dx ? dx + j * inner : NULL, fr_set1(alpha[j]), inner,
                                         stream);
}

/* The rows of one group at base; unless dalpha is NULL, their sums to out by fr_put_lanes. */
FR_INLINE void fr_prelu_short_group_bwd(const float *dy, const float *x, const float *alpha,
                                        float *dx, const float *dalpha, double *out, size_t base,
                                        size_t inner, size_t rows, int add, int stream)
{
    fr_vec runs[FR_LANES];
    if (rows >= FR_LANES && (FR_LANES > FR_ROWS || inner == FR_LANES)) {
        fr_prelu_lane_rows_bwd(dy + base, x + base, alpha, dx ? dx + base : NULL, runs, inner,
                               stream);
        if (dalpha)
            fr_put_row_sums(runs, out, add);
        return;
    }
    fr_vec part[FR_LANES]; /* not runs: indexed at run time, it would keep runs in memory too */
    fr_prelu_short_rows_bwd(dy + base, x + base, dx ? dx + base : NULL, alpha, inner, rows, part,
                            stream);
    if (dalpha)
        fr_put_row_sums(part, out, add);
}

/*
 * Channels a pass of the short rows' paths (their double sums: 8 KB of
 * stack). With 256, C = 512 read each o's rows in two passes, and from DRAM
 * (512 x 512 x 4x4 through the API) took 1.61 ms on AVX-512, 2.24 on AVX2
 * and 2.47 on SSE2; with 1024, 1.01, 1.08 and 1.25 (leaky_relu_backward on
 * as many floats: 0.85-1.07).
 */
#define FR_ROW_LANES 1024

#ifdef FR_PICK_ROWS
/*
 * AVX2 and AVX-512, rows shorter than FR_SHORT_ROW that are not whole
 * vectors and not spelled (3x3, 5x5 and 7x7 maps; powers of two go through
 * fr_prelu_bwd_expand, fr_prelu_spells says which spell): as the
 * forward's fr_prelu_lanes_fwd, FR_LANES rows at once (a block: inner whole
 * vectors), each lane's alpha from fr_pick. Row by row, each of a 7x7 map's
 * vectors straddles two cache lines (in a /tmp loop, rows of 49 floats took
 * 2.5 times as long as rows of 48), and each row ends in a masked tail: a
 * 3x3 map's rows are one masked vector each. Each row's terms make one
 * float run, lane by lane as they come (at most FR_RUN a lane), stored when
 * the row ends (a vector may end several); fr_row_sums then adds a block's
 * FR_LANES runs across their lanes, as in fr_prelu_bwd_short_with. Blocks
 * go two or four in lockstep (fr_prelu_bwd_lanes), so that each run's chain
 * of adds has other work beside it.
 */
#define FR_LANE_BLOCKS 4 /* at most, in lockstep */

typedef struct {
    size_t base; /* the block's first float */
    size_t c;    /* its first channel */
} fr_lane_block;

/* Block k of FR_ROW_LANES channels' chunk from c0: o = k / per_o, per_o blocks an o. */
FR_INLINE fr_lane_block fr_lane_block_of(size_t k, size_t per_o, size_t c0, size_t channels,
                                         size_t inner)
{
    size_t o = k / per_o, c = c0 + k % per_o * FR_LANES;
    return (fr_lane_block){(o * channels + c) * inner, c};
}

/*
 * fr_prelu_bwd_terms for a whole vector, with the terms zeroed by a select:
 * AVX-512's fr_zero_if is a KNOTW and a masked move, and the step has two
 * of them in flight.
 */
FR_INLINE fr_vec fr_prelu_lane_terms(const float *dy, const float *x, float *dx, size_t i,
                                     fr_vec alpha, int stream)
{
    fr_vec g = fr_loadu(dy + i), v = fr_loadu(x + i);
    fr_mask pos = fr_gt(v, fr_set1(0.0f));
    if (dx)
        fr_put_upto(dx + i, fr_leaky_grad_v(g, v, alpha), FR_LANES, stream);
    return fr_select(pos, fr_set1(0.0f), fr_mul(v, g));
}
/* Block k's terms of its vector at i, dx written. */
#define FR_LANE_TERMS(k, a)                                                                    \
    fr_prelu_lane_terms(dy, x, dx, b[k].base + i, fr_pick(a, idx), stream)

/*
 * Blocks b[0..n) in lockstep, each row's terms into its run in runs[0]
 * (FR_LANES vectors). When the blocks are `alike` (the same channels), all
 * their terms go there, added; otherwise n is 2, and b[1]'s go into runs[1].
 */
FR_INLINE void fr_prelu_lane_blocks_bwd(const float *dy, const float *x, const float *alpha,
                                        float *dx, fr_vec (*runs)[FR_LANES], size_t n,
                                        int alike, const fr_lane_block *b, size_t inner,
                                        int stream)
{
    fr_vec a0 = fr_loadu(alpha + b[0].c), a1 = alike ? a0 : fr_loadu(alpha + b[1].c);
    fr_vec r0 = fr_set1(0.0f), r1 = r0;
    fr_vec inv = fr_set1(1.0f / (float)inner), p = fr_loadu(fr_lane_mid);
    size_t row = 0, end = inner; /* the row being summed, and the float after it */
    for (size_t i = 0; i < inner * FR_LANES; i += FR_LANES, p = fr_add(p, fr_set1(FR_LANES))) {
        fr_vec idx = fr_mul(p, inv);
        fr_vec t0 = FR_LANE_TERMS(0, a0), t1 = FR_LANE_TERMS(1, a1);
        if (alike) {
            t0 = fr_add(t0, t1);
            for (size_t k = 2; k < n; k++)
                t0 = fr_add(t0, FR_LANE_TERMS(k, a0));
        }
        for (; end <= i + FR_LANES; row++, end += inner) { /* the rows that end in this vector */
            fr_mask cur = fr_lanes_below(end - i); /* its lanes; the rows' before are zeroed */
            runs[0][row] = fr_select(cur, fr_add(r0, t0), r0), t0 = fr_zero_if(cur, t0);
            r0 = fr_set1(0.0f);
            if (!alike) {
                runs[1][row] = fr_select(cur, fr_add(r1, t1), r1), t1 = fr_zero_if(cur, t1);
                r1 = r0;
            }
        }
        r0 = fr_add(r0, t0);
        if (!alike)
            r1 = fr_add(r1, t1);
    }
}
#undef FR_LANE_TERMS

/*
 * Of the `count` blocks from `first`, n * h: blocks k, k + h, ..., k + (n - 1)
 * * h in lockstep for each k from first to first + h, their row sums added
 * to sums (unless NULL) at their channels from c0. With `alike`, h is the
 * most whole o's that fit, so the n blocks are the same channels; otherwise
 * n is 2 and h is half the count. Returns the blocks done. (Each row end's
 * lanes as an integer mask, where two compares against a broadcast end made
 * them, and the blocks stepped, where each took a DIV: fastrelu-bench's
 * prelu_3x3_backward_f32/avx512 at 16Ki 1770 -> 1626 ns, prelu_7x7 1344 ->
 * 1289, Zen 5, min of 9 in alternation.)
 */
FR_INLINE size_t fr_prelu_lane_group_bwd(const float *dy, const float *x, const float *alpha,
                                         float *dx, double *sums, size_t c0, size_t per_o,
                                         size_t first, size_t count, size_t n, int alike,
                                         size_t channels, size_t inner, int stream)
{
    fr_vec runs[2][FR_LANES];
    size_t h = alike ? count / n / per_o * per_o : count / n;
    if (h == 0)
        return 0;
    fr_lane_block b[FR_LANE_BLOCKS]; /* stepped, not divided (a DIV a block) */
    for (size_t m = 0; m < n; m++)
        b[m] = fr_lane_block_of(first + m * h, per_o, c0, channels, inner);
    for (size_t k = first; k < first + h; k++) {
        fr_prelu_lane_blocks_bwd(dy, x, alpha, dx, runs, n, alike, b, inner, stream);
        if (sums)
            fr_put_row_sums(runs[0], sums + (b[0].c - c0), 1);
        if (sums && !alike)
            fr_put_row_sums(runs[1], sums + (b[1].c - c0), 1);
        for (size_t m = 0; m < n; m++) {
            b[m].base += FR_LANES * inner, b[m].c += FR_LANES;
            if (b[m].c == c0 + per_o * FR_LANES) /* past its o's last block: the next o's first */
                b[m].base += (channels - per_o * FR_LANES) * inner, b[m].c = c0;
        }
    }
    return n * h;
}

/*
 * Every o's blocks of FR_LANES channels, FR_ROW_LANES channels at a time.
 * The o's go four or two at a time, one from each quarter or half of them,
 * each quarter or half in memory order. (Paired with the next block in
 * memory instead, each stream jumped a block ahead every 49 lines, and
 * 1337 x 64 x 7x7 from DRAM took 1.60 ms against 0.92.) Their blocks of the
 * same channels go in lockstep, with their terms added before they go into
 * one set of runs, so a row's runs go across their lanes once for n blocks.
 * A lane of a run then takes n * (inner / FR_LANES, rounded up) terms, at
 * most FR_RUN: four o's at once for rows of up to 2 vectors, two up to 4.
 * For 28 x 64 x 3x3 maps, blocks of two channels (k, k + half) took 3.1 us
 * and the same channels four at a time 1.9; fr_row_sums and fr_put_lanes
 * had been a third of the time. (Runs kept for each block of channels from
 * one o to the next instead took 2.0 us, but 7281 x 64 x 3x3 from DRAM
 * 1.35 ms against 0.93 with each pair's runs summed at once.) The blocks
 * left (an odd o's, or all of them for rows of more than 4 vectors) go two
 * at a time, one from each half, and an odd block row by row (a block alone
 * in this form took 1 x 20 x 7x7 from 145 to 165-180 ns). Returns how many
 * channels they cover. For calls of at least 2 blocks.
 */
FR_INLINE size_t fr_prelu_bwd_lanes(const float *dy, const float *x, const float *alpha,
                                    float *dx, float *dalpha, size_t outer, size_t channels,
                                    size_t inner, int stream)
{
    size_t done = channels / FR_LANES * FR_LANES;
    size_t most = FR_RUN / ((inner + FR_LANES - 1) / FR_LANES); /* o's at once */
    double sums[FR_ROW_LANES];
    for (size_t c0 = 0; c0 < done; c0 += FR_ROW_LANES) {
        size_t end = done - c0 < FR_ROW_LANES ? done : c0 + FR_ROW_LANES;
        size_t per_o = (end - c0) / FR_LANES, count = outer * per_o, k = 0;
        double *out = dalpha ? sums : NULL;
        for (size_t c = c0; c < end; c++)
            sums[c - c0] = 0.0;
#define FR_LANE_GROUP(n, alike)                                                                \
    (k += fr_prelu_lane_group_bwd(dy, x, alpha, dx, out, c0, per_o, k, count - k, n, alike,    \
                                  channels, inner, stream))
        if (most >= 4)
            FR_LANE_GROUP(4, 1);
        if (most >= 2)
            FR_LANE_GROUP(2, 1);
        FR_LANE_GROUP(2, 0);
#undef FR_LANE_GROUP
        if (k < count) {
            fr_lane_block last = fr_lane_block_of(k, per_o, c0, channels, inner);
            fr_prelu_short_group_bwd(dy, x, alpha + last.c, dx, dalpha, sums + (last.c - c0),
                                     last.base, inner, FR_LANES, 1, stream);
        }
        for (size_t c = c0; dalpha && c < end; c++)
            dalpha[c] = (float)sums[c - c0];
    }
    return done;
}
#endif

/*
 * Rows shorter than FR_SHORT_ROW, FR_ROW_LANES channels at a time, each o's
 * rows of them in memory order. Each row's terms make one float run, and
 * fr_row_sums adds FR_LANES rows' runs across their lanes in float at once:
 * each row's float sum then holds at most FR_RUN * FR_LANES terms, added
 * FR_RUN in a row and then pairwise (off by at most (FR_RUN - 1 +
 * log2 FR_LANES) * 2^-24 of their magnitudes' sum: 11 * 2^-24 on AVX-512).
 * Those sums go down the o's in double, one lane per channel. (Blocks of four
 * channels walked down every o, in double a vector at a time, took 1 x 64
 * rows of 16 floats 184 ns through the API on AVX-512, and 138 this way.)
 */
FR_INLINE void fr_prelu_bwd_short_with(const float *dy, const float *x, const float *alpha,
                                       float *dx, float *dalpha, size_t outer, size_t channels,
                                       size_t inner, int stream)
{
    size_t first = 0; /* channels done */
#ifdef FR_PICK_ROWS
    if (inner % FR_LANES && outer * (channels / FR_LANES) >= 2)
        first = fr_prelu_bwd_lanes(dy, x, alpha, dx, dalpha, outer, channels, inner, stream);
#endif
    double sums[FR_ROW_LANES];
    for (size_t c0 = first; c0 < channels; c0 += FR_ROW_LANES) {
        size_t end = channels - c0 < FR_ROW_LANES ? channels : c0 + FR_ROW_LANES;
        for (size_t o = 0; o < outer; o++)
            for (size_t c = c0; c < end; c += FR_LANES)
                fr_prelu_short_group_bwd(dy, x, alpha + c, dx, dalpha, sums + (c - c0),
                                         (o * channels + c) * inner, inner, end - c, o > 0,
                                         stream);
        for (size_t c = c0; dalpha && c < end; c++)
            dalpha[c] = (float)sums[c - c0];
    }
}

/* The loops for each of: no dx, dx, streamed dx (a test of dx and stream in every step
 * cost about a third of the time of rows of one vector). */
FR_INLINE void fr_prelu_bwd_short(const float *dy, const float *x, const float *alpha,
                                  float *dx, float *dalpha, size_t outer, size_t channels,
                                  size_t inner, int stream)
{
    if (!dx)
        fr_prelu_bwd_short_with(dy, x, alpha, NULL, dalpha, outer, channels, inner, 0);
    else if (stream)
        fr_prelu_bwd_short_with(dy, x, alpha, dx, dalpha, outer, channels, inner, 1);
    else
        fr_prelu_bwd_short_with(dy, x, alpha, dx, dalpha, outer, channels, inner, 0);
}

/*
 * In place, rows shorter than FR_SHORT_ROW go in double a vector at a time
 * (see fr_prelu_bwd), FR_ROWS channels at a time: row j of every o into acc<j>.
 */
static void fr_prelu_block_bwd(const float *dy, const float *x, const float *alpha, float *dx,
                               float *dalpha, size_t outer, size_t channels, size_t inner)
{
    fr_vec a0 = fr_set1(alpha[0]), a1 = fr_set1(alpha[1]);
    fr_vec a2 = fr_set1(alpha[2]), a3 = fr_set1(alpha[3]);
    fr_dacc acc0 = fr_dacc_zero(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    /* m floats at `at` in each of the block's four rows. */
#define FR_BLOCK_STEP(at, m)                                                                   \
    do {                                                                                       \
        acc0 = fr_prelu_bwd_step(dy, x, dx, (at), a0, m, acc0, 0);                             \
        acc1 = fr_prelu_bwd_step(dy, x, dx, (at) + inner, a1, m, acc1, 0);                     \
        acc2 = fr_prelu_bwd_step(dy, x, dx, (at) + 2 * inner, a2, m, acc2, 0);                 \
        acc3 = fr_prelu_bwd_step(dy, x, dx, (at) + 3 * inner, a3, m, acc3, 0);                 \
    } while (0)
    for (size_t o = 0; o < outer; o++) {
        size_t off = o * channels * inner, i = 0;
        for (; i + FR_LANES <= inner; i += FR_LANES)
            FR_BLOCK_STEP(off + i, FR_LANES);
        if (i < inner)
            FR_BLOCK_STEP(off + i, inner - i);
    }
#undef FR_BLOCK_STEP
    if (dalpha)
        fr_dacc_sum4(acc0, acc1, acc2, acc3, dalpha); /* one reduction for four channels */
}

/*
 * Rows of FR_SHORT_ROW floats or more, in memory order: FR_ROWS_CHANNELS
 * channels at a time, each o's rows of them in turn, each channel's sums in
 * its own fr_dacc, so that each channel adds its rows in the same order as
 * when it went down every o before. That way each channel read its o's rows
 * a row apart, and from DRAM it ran at a third to a half of this: through
 * the API, 1337 x 64 x 7x7 on SSE2 3.68 -> 1.29 ms, 85 x 256 x 14x14 SSE2
 * 2.86 -> 1.25, AVX2 1.92 -> 0.98, AVX-512 2.00 -> 1.33 (1.06 with 256
 * channels at a time, a 32 KB array), 16 x 64 x 32x32 AVX-512 139 -> 130
 * us. With one o there is nothing to keep, and no array: through it,
 * fastrelu-bench's prelu_backward_f32/avx512 at 16Ki (1 x 64 x 256) took
 * 1559-1601 ns against 1311-1380 without. (Shorter rows come here in place
 * only, and take the blocks above first.) Out of line, so that the array
 * stays out of the kernel's frame (inlined, AVX-512's grew from 12 to 20 KB).
 */
#define FR_ROWS_CHANNELS (16384 / sizeof(fr_dacc)) /* 16 KB of sums */

/* Channels [c, channels) of fr_prelu_bwd_rows, outer > 1. */
FR_INLINE void fr_prelu_bwd_rows_in_order(const float *dy, const float *x, const float *alpha,
                                          float *dx, float *dalpha, size_t outer,
                                          size_t channels, size_t inner, size_t c, size_t run,
                                          int stream)
{
    fr_dacc acc[FR_ROWS_CHANNELS];
    for (size_t c0 = c; c0 < channels; c0 += FR_ROWS_CHANNELS) {
        size_t end = channels - c0 < FR_ROWS_CHANNELS ? channels : c0 + FR_ROWS_CHANNELS;
        for (size_t k = c0; k < end; k++)
            acc[k - c0] = fr_dacc_zero();
        for (size_t o = 0; o < outer; o++)
            for (size_t k = c0; k < end; k++) {
                size_t base = (o * channels + k) * inner;
                acc[k - c0] = fr_prelu_row_bwd(dy + base, x + base, dx ? dx + base : NULL,
                                               fr_set1(alpha[k]), inner, acc[k - c0], run,
                                               stream);
            }
        for (size_t k = c0; dalpha && k < end; k++)
            dalpha[k] = (float)fr_dacc_sum(acc[k - c0]);
    }
}

FR_INLINE void fr_prelu_bwd_rows_in(const float *dy, const float *x, const float *alpha,
                                   float *dx, float *dalpha, size_t outer, size_t channels,
                                   size_t inner, size_t run, int stream)
{
    size_t c = 0;
    if (inner < FR_SHORT_ROW)
        for (; c + FR_ROWS <= channels; c += FR_ROWS) {
            size_t base = c * inner;
            fr_prelu_block_bwd(dy + base, x + base, alpha + c, dx ? dx + base : NULL,
                               dalpha ? dalpha + c : NULL, outer, channels, inner);
        }
    if (outer > 1) {
        fr_prelu_bwd_rows_in_order(dy, x, alpha, dx, dalpha, outer, channels, inner, c, run,
                                   stream);
        return;
    }
    for (; c < channels; c++) {
        size_t base = c * inner;
        fr_dacc sum = fr_prelu_row_bwd(dy + base, x + base, dx ? dx + base : NULL,
                                       fr_set1(alpha[c]), inner, fr_dacc_zero(), run, stream);
        /* Pairwise across the lanes: a chain of FR_LANES dependent adds per channel was the
         * bottleneck of short rows. */
        if (dalpha)
            dalpha[c] = (float)fr_dacc_sum(sum);
    }
}
FR_OUT_OF_LINE_STREAMS(fr_prelu_bwd_rows,
                       (const float *dy, const float *x, const float *alpha, float *dx,
                        float *dalpha, size_t outer, size_t channels, size_t inner, size_t run),
                       (dy, x, alpha, dx, dalpha, outer, channels, inner, run))

#define FR_ALPHA_TILE 1024 /* fr_prelu_bwd_spelled's floats a tile */

/* sums[r] += the inner floats of row r, one by one; four rows in flight, each its own chain. */
FR_INLINE void fr_add_rows(double *sums, const float *terms, size_t rows, size_t inner)
{
    size_t r = 0;
    for (; r + 4 <= rows; r += 4) {
        const float *t = terms + r * inner;
        double s0 = sums[r], s1 = sums[r + 1], s2 = sums[r + 2], s3 = sums[r + 3];
        for (size_t i = 0; i < inner; i++) {
            s0 += (double)t[i];
            s1 += (double)t[inner + i];
            s2 += (double)t[2 * inner + i];
            s3 += (double)t[3 * inner + i];
        }
        sums[r] = s0, sums[r + 1] = s1, sums[r + 2] = s2, sums[r + 3] = s3;
    }
    for (; r < rows; r++)
        for (size_t i = 0; i < inner; i++)
            sums[r] += (double)terms[r * inner + i];
}

/* m <= FR_LANES floats at base + i: dx (unless NULL), and the terms added to runs at i (put
 * there when `first`). */
FR_INLINE void fr_prelu_spelled_bwd_step(const float *dy, const float *x, float *dx,
                                         const float *abuf, float *runs, size_t base, size_t i,
                                         size_t m, int first, int stream)
{
    fr_vec t = fr_prelu_bwd_terms(dy, x, dx, base + i, fr_loadu(abuf + i), m, stream);
    fr_storeu(runs + i, first ? t : fr_add(fr_loadu(runs + i), t));
}

/* An o's len floats at base, as fr_prelu_spelled_bwd_step. */
FR_INLINE void fr_prelu_spelled_bwd_o(const float *dy, const float *x, float *dx,
                                      const float *abuf, float *runs, size_t base, size_t len,
                                      int first, int stream)
{
    size_t i = 0;
    for (; i + FR_LANES <= len; i += FR_LANES)
        fr_prelu_spelled_bwd_step(dy, x, dx, abuf, runs, base, i, FR_LANES, first, stream);
    if (i < len)
        fr_prelu_spelled_bwd_step(dy, x, dx, abuf, runs, base, i, len - i, first, stream);
}

/*
 * The backward of the shapes of fr_prelu_fwd_spelled: a block of channels at
 * a time, FR_ALPHA_TILE / inner rows, whose alphas are spelled out once. For
 * every o the block's rows then run flat: dx, and dalpha's terms added into
 * a tile of float runs, one a position, `run` o's a run. Each row then adds
 * its positions' runs in double one by one. (Adding each o's terms so, as
 * the reference does, SSE2 took fastrelu-bench's prelu_3x3_backward_f32,
 * 28 x 64 x 3x3, 8285 ns, and 5851 this way.)
 */
FR_INLINE void fr_prelu_bwd_spelled_in(const float *dy, const float *x, const float *alpha,
                                       float *dx, float *dalpha, size_t outer,
                                       size_t channels, size_t inner, size_t run, int stream)
{
    float abuf[FR_ALPHA_TILE + FR_LANES], runs[FR_ALPHA_TILE + FR_LANES];
    double sums[FR_ALPHA_TILE / 2]; /* inner >= 2 here */
    size_t rows = FR_ALPHA_TILE / inner;
    for (size_t c0 = 0; c0 < channels; c0 += rows) {
        size_t cb = channels - c0 < rows ? channels - c0 : rows, len = cb * inner;
        size_t c = c0, left = inner;
        fr_spell_alphas(abuf, len, alpha, channels, inner, &c, &left);
        for (size_t r = 0; r < cb; r++)
            sums[r] = 0.0;
        for (size_t o0 = 0; o0 < outer; o0 += run) {
            size_t o1 = outer - o0 < run ? outer : o0 + run;
            fr_prelu_spelled_bwd_o(dy, x, dx, abuf, runs, (o0 * channels + c0) * inner, len, 1,
                                   stream);
            for (size_t o = o0 + 1; o < o1; o++)
                fr_prelu_spelled_bwd_o(dy, x, dx, abuf, runs, (o * channels + c0) * inner, len, 0,
                                       stream);
            if (dalpha)
                fr_add_rows(sums, runs, cb, inner);
        }
        if (dalpha)
            for (size_t r = 0; r < cb; r++)
                dalpha[c0 + r] = (float)sums[r];
    }
}
FR_OUT_OF_LINE_STREAMS(fr_prelu_bwd_spelled,
                       (const float *dy, const float *x, const float *alpha, float *dx,
                        float *dalpha, size_t outer, size_t channels, size_t inner, size_t run),
                       (dy, x, alpha, dx, dalpha, outer, channels, inner, run))

/*
 * NCHW rows of 2, 4 or 8 floats (fewer than a vector, a power of two), as in
 * the forward's fr_prelu_fwd_expand, and rows of one vector when there are
 * several o (whose blocks of four rows below walk every o in strides: SSE2's
 * prelu_2x2_backward_f32 ran at 4 GB/s at 64Mi): a vector holds FR_LANES /
 * inner rows, and each group of rows sums its terms down every o in one
 * fr_dacc. The groups' lanes wait on the stack, FR_EXPAND_GROUPS at a time,
 * and one loop per inner (which the compiler vectorises) adds each row's
 * lanes. Four rows at a time, with a four-channel reduction each, 256
 * channels of 2x2 took 848 ns through the API on AVX-512
 * (leaky_relu_backward on as many floats: 34); with the lanes added row by
 * row in scalar code, 1014.
 */
#define FR_EXPAND_GROUPS 64

FR_INLINE fr_dacc fr_prelu_bwd_group(const float *dy, const float *x, const float *alpha,
                                     float *dx, size_t outer, size_t stride, size_t inner,
                                     size_t rows, size_t run, int stream)
{
    size_t m = rows * inner;
    fr_vec a = fr_group_alpha(alpha, rows, inner);
    fr_dacc acc = fr_dacc_zero();
    for (size_t o = 0; o < outer;) {
        fr_vec r = fr_set1(0.0f);
        for (size_t end = fr_run_end(o, outer, run); o < end; o++)
            r = fr_add(r, fr_prelu_bwd_terms(dy, x, dx, o * stride, a, m, stream));
        acc = fr_dacc_add(acc, r);
    }
    return acc;
}

/* Four whole groups from channel c, their sums to s[0..3]. */
FR_INLINE void fr_prelu_bwd_groups4(const float *dy, const float *x, const float *alpha,
                                    float *dx, size_t outer, size_t channels, size_t inner,
                                    size_t c, size_t g, fr_dacc *s, size_t run, int stream)
{
    fr_vec a0 = fr_group_alpha(alpha + c, g, inner);
    fr_vec a1 = fr_group_alpha(alpha + c + g, g, inner);
    fr_vec a2 = fr_group_alpha(alpha + c + 2 * g, g, inner);
    fr_vec a3 = fr_group_alpha(alpha + c + 3 * g, g, inner);
    fr_dacc s0 = fr_dacc_zero(), s1 = s0, s2 = s0, s3 = s0;
    for (size_t o = 0, at = c * inner; o < outer;) {
        fr_vec r0 = fr_set1(0.0f), r1 = r0, r2 = r0, r3 = r0;
        for (size_t end = fr_run_end(o, outer, run); o < end; o++, at += channels * inner) {
            r0 = fr_add(r0, fr_prelu_bwd_terms(dy, x, dx, at, a0, FR_LANES, stream));
            r1 = fr_add(r1, fr_prelu_bwd_terms(dy, x, dx, at + FR_LANES, a1, FR_LANES, stream));
            r2 = fr_add(r2, fr_prelu_bwd_terms(dy, x, dx, at + 2 * FR_LANES, a2, FR_LANES, stream));
            r3 = fr_add(r3, fr_prelu_bwd_terms(dy, x, dx, at + 3 * FR_LANES, a3, FR_LANES, stream));
        }
        s0 = fr_dacc_add(s0, r0), s1 = fr_dacc_add(s1, r1);
        s2 = fr_dacc_add(s2, r2), s3 = fr_dacc_add(s3, r3);
    }
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
}

/*
 * Sixteen whole groups from channel c, their lanes to (add: into) out: a
 * whole row of 64 channels of 2x2 on AVX-512, read in order down the o's.
 * prelu_2x2_backward_f32 took 1398 ns at 16Ki (64 o's) that way, 2039 four
 * groups at a time (a quarter row a step). With 4 and 16 o's (1Ki, 4Ki) the
 * four do better, so this runs from 64 o's, out of line.
 */
#define FR_GROUPS_MAX 16

FR_INLINE void fr_prelu_bwd_groups16_in(const float *dy, const float *x, const float *alpha,
                                        float *dx, size_t outer, size_t channels,
                                        size_t inner, size_t c, size_t g, double *out,
                                        int add, size_t run, int stream)
{
    enum { G = FR_GROUPS_MAX };
    fr_vec a[G];
    fr_dacc acc[G];
#pragma GCC unroll 16
    for (size_t j = 0; j < G; j++) {
        a[j] = fr_group_alpha(alpha + c + j * g, g, inner);
        acc[j] = fr_dacc_zero();
    }
    for (size_t o = 0, at = c * inner; o < outer;) {
        fr_vec r[G];
#pragma GCC unroll 16
        for (size_t j = 0; j < G; j++)
            r[j] = fr_set1(0.0f);
        for (size_t end = fr_run_end(o, outer, run); o < end; o++, at += channels * inner) {
#pragma GCC unroll 16
            for (size_t j = 0; j < G; j++)
                r[j] = fr_add(r[j], fr_prelu_bwd_terms(dy, x, dx, at + j * FR_LANES, a[j],
                                                       FR_LANES, stream));
        }
#pragma GCC unroll 16
        for (size_t j = 0; j < G; j++)
            acc[j] = fr_dacc_add(acc[j], r[j]);
    }
    for (size_t j = 0; j < G; j++)
        fr_put_lanes(out + j * g * inner, acc[j], add);
}
FR_OUT_OF_LINE_STREAMS(fr_prelu_bwd_groups16,
                       (const float *dy, const float *x, const float *alpha, float *dx,
                        size_t outer, size_t channels, size_t inner, size_t c, size_t g,
                        double *out, int add, size_t run),
                       (dy, x, alpha, dx, outer, channels, inner, c, g, out, add, run))

/* out[r] = the sum of lanes[r*inner .. r*inner + inner), r < rows. */
FR_INLINE void fr_sum_rows(const double *lanes, size_t inner, size_t rows, float *out)
{
#define FR_SUM_ROWS(K)                                                                         \
    for (size_t r = 0; r < rows; r++) {                                                        \
        double sum = 0.0;                                                                      \
        for (size_t i = 0; i < (K); i++)                                                       \
            sum += lanes[r * (K) + i];                                                         \
        out[r] = (float)sum;                                                                   \
    }
    switch (inner) {
    case 2: FR_SUM_ROWS(2) break;
    case 4: FR_SUM_ROWS(4) break;
    case 8: FR_SUM_ROWS(8) break;
    default: FR_SUM_ROWS(FR_LANES) break;
    }
#undef FR_SUM_ROWS
}

/* The lanes of channels [c0, end)'s groups, summed down `outer` rows, to (add: into) out. */
static void fr_prelu_bwd_expand_lanes(const float *dy, const float *x, const float *alpha,
                                      float *dx, size_t outer, size_t channels, size_t inner,
                                      size_t c0, size_t end, double *out, int add, size_t run,
                                      int stream)
{
    size_t g = fr_rows_a_vector(inner), c = c0;
    if (outer >= 64)
        for (; c + FR_GROUPS_MAX * g <= end; c += FR_GROUPS_MAX * g)
            FR_STREAMS(fr_prelu_bwd_groups16, stream)(dy, x, alpha, dx, outer, channels, inner, c,
                                                      g, out + (c - c0) * inner, add, run);
    for (; c + 4 * g <= end; c += 4 * g) { /* four groups in flight */
        fr_dacc s[4];
        fr_prelu_bwd_groups4(dy, x, alpha, dx, outer, channels, inner, c, g, s, run, stream);
#pragma GCC unroll 4
        for (size_t j = 0; j < 4; j++)
            fr_put_lanes(out + (c - c0 + j * g) * inner, s[j], add);
    }
    for (; c < end; c += g) {
        size_t base = c * inner, rows = end - c < g ? end - c : g;
        fr_dacc acc = fr_prelu_bwd_group(dy + base, x + base, alpha + c, dx ? dx + base : NULL,
                                         outer, channels * inner, inner, rows, run, stream);
        fr_put_lanes(out + (c - c0) * inner, acc, add);
    }
}

/*
 * Walking each group down every row reads the arrays a vector per row, a row
 * apart. So the rows go FR_EXPAND_TILE floats at a time (a tile of the three
 * arrays fits L2), each tile's lanes added to the chunk's: fastrelu-bench's
 * prelu_2x2_backward_f32 at 64Mi took 44-49 ms walked whole and 28-30 ms in
 * tiles (8192 floats: 31-33; 65536: 30).
 */
#define FR_EXPAND_TILE 32768

FR_INLINE void fr_prelu_bwd_expand_in(const float *dy, const float *x, const float *alpha,
                                      float *dx, float *dalpha, size_t outer, size_t channels,
                                      size_t inner, size_t run, int stream)
{
    size_t g = fr_rows_a_vector(inner), row = channels * inner;
    size_t tile = row < FR_EXPAND_TILE ? FR_EXPAND_TILE / row : 1; /* rows a tile */
    double lanes[FR_EXPAND_GROUPS * FR_LANES];
    for (size_t c0 = 0; c0 < channels; c0 += FR_EXPAND_GROUPS * g) {
        size_t end = channels - c0 < FR_EXPAND_GROUPS * g ? channels : c0 + FR_EXPAND_GROUPS * g;
        for (size_t o = 0; o < outer; o += tile) {
            size_t rows = outer - o < tile ? outer - o : tile, at = o * row;
            fr_prelu_bwd_expand_lanes(dy + at, x + at, alpha, dx ? dx + at : NULL, rows, channels,
                                      inner, c0, end, lanes, o > 0, run, stream);
        }
        if (dalpha)
            fr_sum_rows(lanes, inner, end - c0, dalpha + c0);
    }
}
FR_OUT_OF_LINE_STREAMS(fr_prelu_bwd_expand,
                       (const float *dy, const float *x, const float *alpha, float *dx,
                        float *dalpha, size_t outer, size_t channels, size_t inner, size_t run),
                       (dy, x, alpha, dx, dalpha, outer, channels, inner, run))

/*
 * inner == 1: rows of `channels` floats, walked in order. (Summing one vector
 * of channels down all the rows first read the arrays a line per row, a row
 * apart: at 16Mi floats that ran at half of relu_backward's speed with 64
 * channels and a quarter with 1000.)
 *
 * Up to FR_NHWC_NARROW vectors of channels, each vector's float run stays in
 * a register (vector j of every row into r[j]) and its double sum in acc[j],
 * one copy of the loop for each number of vectors. Up to 4 vectors before,
 * and more through memory (fr_prelu_bwd_nhwc_row), through the API on Zen 3,
 * min of 5, N x 64 channels on AVX2 took 230 ns at N = 16 and 155 this way,
 * 3203 and 2066 at N = 256, 1.65 and 1.56 ms at N = 65536; 256 x 32 on SSE2
 * 5382 and 2158.
 */

/* Rows of V vectors, the last with m floats; dalpha's sums to lanes[0 .. V * FR_LANES). */
FR_INLINE void fr_prelu_bwd_nhwc_vectors(const float *dy, const float *x, const float *alpha,
                                         float *dx, double *lanes, size_t outer,
                                         size_t channels, size_t m, size_t run, int stream,
                                         size_t V)
{
    fr_vec a[FR_NHWC_NARROW];
    fr_dacc acc[FR_NHWC_NARROW];
#pragma GCC unroll 8
    for (size_t j = 0; j < V; j++) {
        a[j] = fr_load_upto(alpha + j * FR_LANES, j + 1 < V ? FR_LANES : m);
        acc[j] = fr_dacc_zero();
    }
    for (size_t o = 0; o < outer;) {
        fr_vec r[FR_NHWC_NARROW];
#pragma GCC unroll 8
        for (size_t j = 0; j < V; j++)
            r[j] = fr_set1(0.0f);
        for (size_t end = fr_run_end(o, outer, run); o < end; o++) {
#pragma GCC unroll 8
            for (size_t j = 0; j < V; j++)
                r[j] = fr_add(r[j], fr_prelu_bwd_terms(dy, x, dx, o * channels + j * FR_LANES,
                                                       a[j], j + 1 < V ? FR_LANES : m, stream));
        }
#pragma GCC unroll 8
        for (size_t j = 0; j < V; j++)
            acc[j] = fr_dacc_add(acc[j], r[j]);
    }
#pragma GCC unroll 8
    for (size_t j = 0; j < V; j++)
        fr_dacc_store(lanes + j * FR_LANES, acc[j]);
}

static void fr_prelu_bwd_nhwc_narrow(const float *dy, const float *x, const float *alpha,
                                     float *dx, float *dalpha, size_t outer, size_t channels,
                                     size_t run, int stream)
{
    size_t m, vectors = fr_row_vectors(channels, &m);
    double lanes[FR_NHWC_NARROW * FR_LANES];
    if (vectors == 0)
        return; /* no channels */
#define FR_NHWC_BWD(V)                                                                         \
    fr_prelu_bwd_nhwc_vectors(dy, x, alpha, dx, lanes, outer, channels, m, run, stream, V)
    FR_BY_VECTORS(vectors, FR_NHWC_BWD)
#undef FR_NHWC_BWD
    for (size_t c = 0; dalpha && c < channels; c++)
        dalpha[c] = (float)lanes[c];
}

/*
 * More channels go FR_NHWC_TILE at a time (fr_prelu_bwd_nhwc: their sums,
 * runs and alphas take 32 KiB of stack). A row wider than the tile is read in
 * tile-wide pieces, one pass per piece (with 512, rows of 1000 channels ran
 * at half speed from DRAM).
 */
#define FR_NHWC_TILE 2048

/* In place (run 1): one row's tc channels at `at`, each vector's terms into acc[0..tc);
 * alpha is fr_prelu_bwd_nhwc's padded copy. */
FR_INLINE void fr_prelu_bwd_nhwc_row(const float *dy, const float *x, const float *alpha,
                                     float *dx, size_t at, double *acc, size_t tc, int stream)
{
    size_t c = 0;
    for (; c + FR_LANES <= tc; c += FR_LANES)
        fr_dacc_store(acc + c, fr_prelu_bwd_step(dy, x, dx, at + c, fr_loadu(alpha + c),
                                                 FR_LANES, fr_dacc_load(acc + c), stream));
    if (c < tc) /* alpha and acc have room for a whole vector; the terms past tc are 0 */
        fr_dacc_store(acc + c, fr_prelu_bwd_step(dy, x, dx, at + c, fr_loadu(alpha + c), tc - c,
                                                 fr_dacc_load(acc + c), 0));
}

/*
 * Rows of more vectors: each channel's float run in runs[] and its double sum
 * in acc[] on the stack, FR_NHWC_TILE channels at a time, each row's terms
 * added to the runs and the runs to the sums every `run` rows. Through the
 * API on Zen 3, min of 5, against each vector's terms added to the sums as
 * they come (as in place still): AVX2 64 x 128 1553 -> 1196 ns, 8192 x 128
 * 221 -> 189 us, 256 x 256 13.3 -> 11.3 us; SSE2 256 x 64 7735 -> 5385 ns.
 * (Four rows at a time, which loaded and stored the sums once for all four,
 * ran 15% faster in L2 but 35% slower from DRAM, where the rows then no
 * longer streamed in order.)
 */
static void fr_prelu_bwd_nhwc(const float *dy, const float *x, const float *alpha, float *dx,
                              float *dalpha, size_t outer, size_t channels, size_t run,
                              int stream)
{
    if (channels <= FR_NHWC_NARROW * FR_LANES) {
        fr_prelu_bwd_nhwc_narrow(dy, x, alpha, dx, dalpha, outer, channels, run, stream);
        return;
    }
    float a[FR_NHWC_TILE + FR_LANES], runs[FR_NHWC_TILE + FR_LANES];
    double acc[FR_NHWC_TILE + FR_LANES];
    for (size_t c0 = 0; c0 < channels; c0 += FR_NHWC_TILE) {
        size_t tc = channels - c0 < FR_NHWC_TILE ? channels - c0 : FR_NHWC_TILE;
        memset(acc, 0, (tc + FR_LANES) * sizeof acc[0]);
        memcpy(a, alpha + c0, tc * sizeof a[0]); /* with room for a whole last vector */
        memset(a + tc, 0, FR_LANES * sizeof a[0]);
        if (run == 1)
            for (size_t o = 0; o < outer; o++)
                fr_prelu_bwd_nhwc_row(dy, x, a, dx, o * channels + c0, acc, tc, stream);
        else
            for (size_t o = 0; o < outer;) {
                for (size_t end = fr_run_end(o, outer, run), first = 1; o < end; o++, first = 0)
                    fr_prelu_spelled_bwd_o(dy, x, dx, a, runs, o * channels + c0, tc, (int)first,
                                           stream);
                for (size_t c = 0; c < tc; c += FR_LANES)
                    fr_dacc_store(acc + c,
                                  fr_dacc_add(fr_dacc_load(acc + c), fr_loadu(runs + c)));
            }
        for (size_t j = 0; dalpha && j < tc; j++)
            dalpha[c0 + j] = (float)acc[j];
    }
}

/* The flat path's sums: lanes of the head and of each of the 4 step vectors. */
typedef struct fr_flat_sums {
    fr_dacc head, s[4];
} fr_flat_sums;

/* From k, whole steps of Q vectors into sums t; returns where they stop. */
FR_INLINE size_t fr_prelu_bwd_flat_steps(const float *dy, const float *x, float *dx, size_t k,
                                         size_t n, fr_flat_alpha f, fr_flat_sums *t, size_t Q,
                                         size_t run, int stream)
{
    fr_dacc s0 = t->s[0], s1 = t->s[1], s2 = t->s[2], s3 = t->s[3];
    size_t steps = (n - k) / (Q * FR_LANES);
    for (size_t i = 0; i < steps;) {
        fr_vec r0 = fr_set1(0.0f), r1 = r0, r2 = r0, r3 = r0;
        for (size_t end = fr_run_end(i, steps, run); i < end; i++, k += Q * FR_LANES) {
            r0 = fr_add(r0, fr_prelu_bwd_terms(dy, x, dx, k, f.a[0], FR_LANES, stream));
            r1 = fr_add(r1, fr_prelu_bwd_terms(dy, x, dx, k + FR_LANES, f.a[1], FR_LANES, stream));
            r2 = fr_add(r2, fr_prelu_bwd_terms(dy, x, dx, k + 2 * FR_LANES, f.a[2], FR_LANES,
                                               stream));
            if (Q == 4)
                r3 = fr_add(r3, fr_prelu_bwd_terms(dy, x, dx, k + 3 * FR_LANES, f.a[3], FR_LANES,
                                                   stream));
        }
        s0 = fr_dacc_add(s0, r0), s1 = fr_dacc_add(s1, r1);
        s2 = fr_dacc_add(s2, r2), s3 = fr_dacc_add(s3, r3);
    }
    *t = (fr_flat_sums){t->head, {s0, s1, s2, s3}};
    return k;
}

/*
 * dalpha from the flat path's sums. Lane l of step vector j summed the terms
 * of one position in the period (h + j*FR_LANES + l), the head's lane l those
 * of position l. Step vectors a whole period apart are added first: then NHWC
 * rows of whole vectors (with no head) hold channel c's sum in lane c, and
 * other shapes add each position's sum into its channel, in double.
 */
FR_INLINE void fr_flat_dalpha(fr_flat_sums t, size_t h, size_t channels, size_t inner, size_t q,
                              float *dalpha)
{
    size_t period = channels * inner, vectors = q;
    if (period % FR_LANES == 0)
        vectors = period / FR_LANES;
    else if (fr_flat_in_vector(period))
        vectors = 1;
    if (vectors == 1)
        t.s[0] = fr_dacc_merge(fr_dacc_merge(t.s[0], t.s[1]), fr_dacc_merge(t.s[2], t.s[3]));
    if (vectors == 2) {
        t.s[0] = fr_dacc_merge(t.s[0], t.s[2]);
        t.s[1] = fr_dacc_merge(t.s[1], t.s[3]);
    }
    double head[FR_LANES], lanes[5 * FR_LANES], sum[4 * FR_LANES] = {0};
    if (h == 0 && inner == 1 && period % FR_LANES == 0) {
        for (size_t j = 0; j < vectors; j++) {
            fr_dacc_store(head, t.s[j]);
            for (size_t l = 0; l < FR_LANES; l++)
                dalpha[j * FR_LANES + l] = (float)head[l];
        }
        return;
    }
    fr_dacc_store(head, t.head);
    memcpy(lanes, head, h * sizeof lanes[0]);
    for (size_t j = 0; j < vectors; j++)
        fr_dacc_store(lanes + h + j * FR_LANES, t.s[j]);
#define FR_SUM(k, c) sum[c] += lanes[k]
    FR_FLAT_CHANNELS(h + vectors * FR_LANES, channels, inner, FR_SUM);
#undef FR_SUM
    for (size_t c = 0; c < channels; c++)
        dalpha[c] = (float)sum[c];
}

/* The flat path backward: dx as the forward writes y, and the terms summed per position. */
FR_INLINE void fr_prelu_bwd_flat(const float *dy, const float *x, const float *alpha, float *dx,
                                 float *dalpha, size_t n, size_t channels, size_t inner, size_t q,
                                 size_t run, int stream)
{
    stream = stream && dx && (uintptr_t)dx % sizeof(float) == 0;
    size_t h = stream ? fr_stream_head(dx, n) : 0;
    fr_flat_alpha f = fr_flat_alpha_of(alpha, channels, inner, h);
    fr_dacc z = fr_dacc_zero();
    fr_flat_sums t = {z, {z, z, z, z}};
    if (h)
        t.head = fr_prelu_bwd_step(dy, x, dx, 0, f.head, h, t.head, 0);
    size_t k = q == 4 ? fr_prelu_bwd_flat_steps(dy, x, dx, h, n, f, &t, 4, run, stream)
                      : fr_prelu_bwd_flat_steps(dy, x, dx, h, n, f, &t, 3, run, stream);
#pragma GCC unroll 4
    for (size_t j = 0; j < 4; j++) {
        size_t m = fr_lanes_of(n - k, j);
        if (m)
            t.s[j] = fr_prelu_bwd_step(dy, x, dx, k + j * FR_LANES, f.a[j], m, t.s[j], stream);
    }
    if (dalpha)
        fr_flat_dalpha(t, h, channels, inner, q, dalpha);
}

/*
 * dalpha[c] summed again in double, term by term in the reference's order,
 * wherever it came out infinite or NaN: a float run may have overflowed.
 */
static void fr_prelu_dalpha_exact(const float *dy, const float *x, float *dalpha, size_t outer,
                                  size_t channels, size_t inner)
{
    if (FR_ALL_FINITE_NAME(FR_ISA)(dalpha, channels))
        return;
    for (size_t c = 0; c < channels; c++) {
        if (dalpha[c] - dalpha[c] == 0.0f)
            continue;
        double sum = 0.0;
        for (size_t o = 0; o < outer; o++) {
            size_t base = (o * channels + c) * inner;
            for (size_t i = 0; i < inner; i++) {
                float v = x[base + i];
                sum += v > 0.0f ? 0.0 : (double)(v * dy[base + i]);
            }
        }
        dalpha[c] = (float)sum;
    }
}

/* The backward's paths, by shape (after fr_one_row_if_one_channel). */
enum { FR_BWD_FLAT, FR_BWD_NHWC, FR_BWD_EXPAND, FR_BWD_SPELLED, FR_BWD_SHORT, FR_BWD_ROWS };

/*
 * Rows of one vector (4x4 maps on AVX-512) go down the o's through
 * fr_prelu_bwd_expand, but not when a row is a multiple of 4 KB on AVX2 and
 * AVX-512: walking a group down the o's then puts each o's vector in the
 * same L1 set (rows of 4 KB: a tile of 32 o's puts 96 lines of the three
 * arrays in one 12-way set of Zen 5's 48 KB L1). Through the API, N x C x 16
 * on AVX-512, ns: 32 x 64 6971 walked down the o's against 3644 o by o
 * (fr_prelu_bwd_short), 16 x 128 6073 against 3523; with rows of 1 to 3 KB
 * about even or the walk ahead (128 x 16 2285 against 3608). AVX2, 32 x 128
 * x 8: 10078 walked, 6374 spelled out. SSE2, 32 x 256 x 4: 9621 walked,
 * 13194 spelled out, so SSE2 walks (and NEON, not measured).
 */
#define FR_SET_ROW 1024 /* floats: 4 KB */

/*
 * The walk takes a row in passes, FR_GROUPS_MAX vectors a pass (4 below 64
 * o's) down a tile of o's: a row of more than one pass is read a part at a
 * time, a row apart. On AVX2, from a tile (FR_EXPAND_TILE floats) up, that
 * lost on Zen 3 to the spelled rows and, for rows of one vector, to
 * fr_prelu_bwd_short. Through the API, min of 3, N x C x inner: 16384 x 64 x 4
 * 2.97 ms walked against 1.55 spelled, 256 x 64 x 4 16.3 us against 12.2,
 * 1024 x 32 x 2 19.0 against 14.0, 16384 x 32 x 8 2.82 ms against 1.49 o by
 * o (512 x 32 x 8 30.7 us against 33.1 the other way). Rows of exactly one
 * pass keep walking (4096 x 64 x 2: 84 us walked, 92 spelled), as do calls
 * below a tile (64 x 128 x 2: 2680 ns walked, 4632 spelled) and rows too long
 * to spell (o by o, 8 x 512 x 4 took 12.6 us against 3.7). SSE2's walk was
 * the fastest in the same tests (16384 x 64 x 4: 2.10 ms walked, 2.55 o by o).
 */
FR_INLINE int fr_prelu_walk_fits(size_t outer, size_t channels, size_t inner)
{
#if FR_LANES == 8 /* AVX2 */
    size_t row = channels * inner;
    if (row == FR_GROUPS_MAX * FR_LANES || outer * row < FR_EXPAND_TILE)
        return 1; /* one pass, or less than a tile */
    return inner < FR_LANES && row > FR_ALPHA_TILE;
#else
    return (void)outer, (void)channels, (void)inner, 1;
#endif
}

FR_INLINE int fr_prelu_expands(size_t outer, size_t channels, size_t inner)
{
    if (!fr_prelu_walk_fits(outer, channels, inner))
        return 0;
    if (inner < FR_LANES)
        return fr_pow2(inner);
    return inner == FR_LANES && outer > 1 && (FR_LANES < 8 || channels * inner % FR_SET_ROW);
}

FR_INLINE int fr_prelu_bwd_path_of(size_t outer, size_t channels, size_t inner)
{
    if (fr_flat_step(channels * inner))
        return FR_BWD_FLAT;
    if (inner == 1)
        return FR_BWD_NHWC;
    if (fr_prelu_expands(outer, channels, inner))
        return FR_BWD_EXPAND;
    if (fr_prelu_spells(outer, inner, channels * inner <= FR_ALPHA_TILE, 0))
        return FR_BWD_SPELLED;
    return inner < FR_SHORT_ROW ? FR_BWD_SHORT : FR_BWD_ROWS;
}

/*
 * With stream, dx's aligned whole vectors (NCHW rows: as fr_prelu_rows_stream
 * allows) go out through non-temporal stores, and the call fences once.
 *
 * In place (dx == x or dx == dy), x or dy is gone by the time a float run's
 * overflow shows. So the runs are one vector long there (each vector of terms
 * goes into double as it comes, which cannot overflow), and short rows, whose
 * path sums in float by design, take fr_prelu_bwd_rows' four-row blocks in
 * double instead. (Two passes, dalpha first and then dx, took 1 x 64 rows of
 * 256 floats from 1.57 to 2.12 us; short rows one channel at a time down the
 * long rows' loop took 1 x 64 rows of 16 floats from 0.26 to 0.52.)
 */
FR_INLINE void fr_prelu_bwd(FR_PARAMS_prelu_bwd, int stream)
{
    fr_one_row_if_one_channel(channels, &outer, &inner);
    if (outer == 0 || inner == 0) { /* empty sums */
        for (size_t c = 0; dalpha && c < channels; c++)
            dalpha[c] = 0.0f;
        return;
    }
    int path = fr_prelu_bwd_path_of(outer, channels, inner);
    size_t run = dx && (dx == x || dx == dy) ? 1 : FR_RUN;
    switch (path) {
    case FR_BWD_FLAT:
        fr_prelu_bwd_flat(dy, x, alpha, dx, dalpha, outer * channels * inner, channels, inner,
                          fr_flat_step(channels * inner), run, stream);
        break;
    case FR_BWD_NHWC:
        fr_prelu_bwd_nhwc(dy, x, alpha, dx, dalpha, outer, channels, run, stream);
        break;
    case FR_BWD_EXPAND:
        FR_STREAMS(fr_prelu_bwd_expand, stream)(dy, x, alpha, dx, dalpha, outer, channels,
                                                inner, run);
        break;
    case FR_BWD_SPELLED:
        FR_STREAMS(fr_prelu_bwd_spelled, stream)(dy, x, alpha, dx, dalpha, outer, channels,
                                                 inner, run);
        break;
    case FR_BWD_SHORT: /* in place: fr_prelu_bwd_rows' blocks in double */
        if (run > 1) {
            fr_prelu_bwd_short(dy, x, alpha, dx, dalpha, outer, channels, inner,
                               stream && fr_prelu_rows_stream(dx, inner));
            break;
        }
        /* fall through */
    default: {
        int st = stream && fr_prelu_rows_stream(dx, inner);
        FR_STREAMS(fr_prelu_bwd_rows, st)(dy, x, alpha, dx, dalpha, outer, channels, inner, run);
    }
    }
    if (run > 1 && dalpha)
        fr_prelu_dalpha_exact(dy, x, dalpha, outer, channels, inner);
    if (stream)
        fr_stream_fence();
}
