/*
 * Loop drivers shared by every kernel body. An ISA file includes its shim
 * (simd/<isa>.h), defines FR_ISA, then includes the bodies; each op is then
 * written once as a per-vector function that the drivers inline.
 */
#ifndef FR_BODY_COMMON_H
#define FR_BODY_COMMON_H

#include <stdint.h>

#include "../../src/internal.h"

#define FR_NAME(op, dir) FR_KERNEL_NAME(op, dir, FR_ISA)
#define FR_NAME_NT(op, dir) FR_KERNEL_NAME_NT(op, dir, FR_ISA)

/*
 * A body defines fr_<op>_<dir>(<the registry signature's parameters>, int stream)
 * once; these turn it into the table's kernel and, where the ISA has streaming
 * stores, its non-temporal twin.
 */
#define FR_BODY(op, dir) fr_##op##_##dir
#define FR_KERNEL(op, dir, sig, ulp)                                                           \
    static void FR_NAME(op, dir)(FR_PARAMS_##sig) { FR_BODY(op, dir)(FR_ARGS_##sig, 0); }
#define FR_KERNEL_NT(op, dir, sig, ulp)                                                        \
    static void FR_NAME_NT(op, dir)(FR_PARAMS_##sig) { FR_BODY(op, dir)(FR_ARGS_##sig, 1); }

/*
 * A large path, kept out of line so that its stack arrays are not in every
 * call's frame. Left to it, GCC inlined such static functions in some builds
 * and not in others: prelu_3x3_backward_f32/sse2 at 16Ki (28 x 64 x 3x3)
 * took 4.6 us with the spelled path out of line and 5.6 inlined.
 */
#define FR_OUT_OF_LINE static __attribute__((noinline))

/*
 * An out-of-line path that takes stream, in two copies with stream fixed:
 * name##_st (0) and name##_nt (1), made from the FR_INLINE body name##_in
 * (params, then int stream); FR_STREAMS(name, stream) picks one. GCC used to
 * make such copies itself (IPA-CP clones) and stopped when the file grew:
 * with PReLU's forward in two copies (fr_prelu_maxes), SSE2's
 * prelu_backward_f32 at 256Ki went from 70.7 to 81.4 us (Zen 3).
 */
#define FR_UNPAREN(...) __VA_ARGS__
#define FR_OUT_OF_LINE_STREAMS(name, params, args)                                             \
    FR_OUT_OF_LINE __attribute__((unused)) void name##_st params                               \
    {                                                                                          \
        name##_in(FR_UNPAREN args, 0);                                                         \
    }                                                                                          \
    FR_OUT_OF_LINE __attribute__((unused)) void name##_nt params                               \
    {                                                                                          \
        name##_in(FR_UNPAREN args, 1);                                                         \
    }
#define FR_STREAMS(name, stream) ((stream) ? name##_nt : name##_st)

/* Four independent vectors per iteration keep the load and store ports busy. */
#define FR_UNROLL 4

/* The op's scalar parameters, broadcast once per call. */
typedef struct fr_params {
    fr_vec a, b;
} fr_params;

typedef fr_vec (*fr_op1)(fr_vec x, fr_params p);
typedef fr_vec (*fr_op2)(fr_vec u, fr_vec x, fr_params p);

/*
 * With stream set, whole vectors go out through non-temporal stores, which
 * need aligned addresses: a partial head brings y to a vector boundary first.
 * A y that is not even float-aligned keeps ordinary stores.
 */
FR_INLINE size_t fr_stream_head(const float *y, size_t n)
{
    uintptr_t a = (uintptr_t)y;
    size_t lanes_off = (size_t)(a / sizeof(float)) % FR_LANES;
    size_t head = lanes_off ? FR_LANES - lanes_off : 0;
    return head < n ? head : n;
}

FR_INLINE void fr_put(float *p, fr_vec v, int stream)
{
    if (stream)
        fr_stream(p, v);
    else
        fr_storeu(p, v);
}

/* m <= FR_LANES floats at p (none: zeros), the rest of the vector zero. */
FR_INLINE fr_vec fr_load_upto(const float *p, size_t m)
{
    return m == FR_LANES ? fr_loadu(p) : m ? fr_load_part(p, m) : fr_set1(0.0f);
}

/*
 * m <= FR_LANES floats of v to p. With stream, a whole vector at a
 * vector-aligned address goes out through a non-temporal store; the caller
 * fences.
 */
FR_INLINE void fr_put_upto(float *p, fr_vec v, size_t m, int stream)
{
    if (m < FR_LANES)
        fr_store_part(p, v, m);
    else if (stream && (uintptr_t)p % (FR_LANES * sizeof(float)) == 0)
        fr_stream(p, v);
    else
        fr_storeu(p, v);
}

/*
 * ELU backward's streaming calls (larger than the caches) also prefetch their
 * inputs FR_PREFETCH floats ahead (fetch, below), a line at a time: one
 * unrolled step's lines. On Zen 3, fastrelu-bench, min of 5 in alternation,
 * without and with them 2 KB ahead: elu_backward_f32/avx2 3.06 -> 1.65 ms at
 * 4Mi, 49.1 -> 28.4 ms at 64Mi; /sse2 6.79 -> 5.25 and 113 -> 82 ms. With
 * every op prefetching, the piecewise ones lost from DRAM (relu_f32/avx2 at
 * 64Mi 16.3 -> 18.2 ms, relu_backward_f32 25.0 -> 28.8; 8 KB ahead 15.9 ->
 * 20.2 and 23.9 -> 29.0), so they leave it to the hardware. ELU forward
 * neither prefetches nor streams (elu.h says why).
 */
#define FR_PREFETCH 512

FR_INLINE void fr_prefetch_step(const float *p)
{
    for (size_t k = 0; k < FR_UNROLL * FR_LANES; k += 64 / sizeof(float))
        __builtin_prefetch(p + FR_PREFETCH + k);
}

/*
 * A streaming call (arrays beyond the caches) takes its arrays in equal
 * parts, in lockstep, a vector from each part a step, when each part would
 * be at least FR_STREAM_PART_MIN floats: y from a vector-aligned start,
 * each part whole vectors. It returns how many floats it did. From DRAM,
 * one thread ran faster with more streams per array than with one stream
 * four vectors deep (Zen 5, AVX-512, 64Mi floats through the API, one
 * process per library in turn, five rounds, medians in ms): relu forward
 * 15.6-16.5 with one stream, 14.5-14.9 with one vector a step, 13.1-13.7
 * with 2 parts, 12.7-14.3 with 4, 13.7-14.1 with 8; relu backward (three
 * streams a part) 18.3-18.7, 17.2-17.8 with 2 parts, 17.8-19.9 with 1 or 3,
 * 18.8-21.3 with 4. Short parts lose: PReLU rows in 4 parts (NCHW, 64Mi
 * floats in all, three rounds) took 14.0-15.2 -> 11.8-12.4 ms with parts of
 * 1 MiB to 64 KiB, 12.4-15.1 -> 13.9-14.3 with parts of 16 KiB, 14.6-15.5
 * -> 17.5-17.8 with 3 KiB, and NHWC rows of 2048 channels, each row in 2
 * parts, 15.2-15.5 -> 19.1-19.7 (prelu.h takes such rows in ranges of
 * rows instead: fr_prelu_rows_parts).
 */
#define FR_STREAM_PARTS1 4
#define FR_STREAM_PARTS2 2
#define FR_STREAM_PART_MIN 16384

FR_INLINE size_t fr_map1_parts(const float *x, float *y, size_t n, fr_params p, fr_op1 op)
{
    size_t q = n / (FR_STREAM_PARTS1 * FR_LANES) * FR_LANES;
    for (size_t i = 0; i < q; i += FR_LANES) {
        fr_vec v[FR_STREAM_PARTS1];
        for (int k = 0; k < FR_STREAM_PARTS1; k++)
            v[k] = fr_loadu(x + k * q + i);
        for (int k = 0; k < FR_STREAM_PARTS1; k++)
            fr_stream(y + k * q + i, op(v[k], p));
    }
    return FR_STREAM_PARTS1 * q;
}

/* fr_map1_parts for two inputs; fetch prefetches each part's inputs (FR_PREFETCH). */
FR_INLINE size_t fr_map2_parts(const float *u, const float *x, float *y, size_t n, fr_params p,
                               fr_op2 op, int fetch)
{
    size_t q = n / (FR_STREAM_PARTS2 * FR_LANES) * FR_LANES;
    for (size_t i = 0; i < q; i += FR_LANES) {
        fr_vec v[FR_STREAM_PARTS2];
        if (fetch && i % (64 / sizeof(float)) == 0)
            for (int k = 0; k < FR_STREAM_PARTS2; k++) {
                __builtin_prefetch(u + k * q + i + FR_PREFETCH);
                __builtin_prefetch(x + k * q + i + FR_PREFETCH);
            }
        for (int k = 0; k < FR_STREAM_PARTS2; k++)
            v[k] = op(fr_loadu(u + k * q + i), fr_loadu(x + k * q + i), p);
        for (int k = 0; k < FR_STREAM_PARTS2; k++)
            fr_stream(y + k * q + i, v[k]);
    }
    return FR_STREAM_PARTS2 * q;
}

/*
 * y[i] = op(x[i]). y == x is allowed: each block is loaded before it is stored.
 * The _part form leaves out the closing fence, for callers that stream
 * several pieces and fence once.
 */
FR_INLINE void fr_map1_part(const float *x, float *y, size_t n, fr_params p, fr_op1 op,
                            int stream)
{
    size_t i = 0;
    stream = stream && (uintptr_t)y % sizeof(float) == 0;
    if (stream && (i = fr_stream_head(y, n)) > 0)
        fr_store_part(y, op(fr_load_part(x, i), p), i);
    if (stream && n - i >= FR_STREAM_PARTS1 * FR_STREAM_PART_MIN)
        i += fr_map1_parts(x + i, y + i, n - i, p, op);
    for (; i + FR_UNROLL * FR_LANES <= n; i += FR_UNROLL * FR_LANES) {
        fr_vec v0 = fr_loadu(x + i);
        fr_vec v1 = fr_loadu(x + i + FR_LANES);
        fr_vec v2 = fr_loadu(x + i + 2 * FR_LANES);
        fr_vec v3 = fr_loadu(x + i + 3 * FR_LANES);
        fr_put(y + i, op(v0, p), stream);
        fr_put(y + i + FR_LANES, op(v1, p), stream);
        fr_put(y + i + 2 * FR_LANES, op(v2, p), stream);
        fr_put(y + i + 3 * FR_LANES, op(v3, p), stream);
    }
    for (; i + FR_LANES <= n; i += FR_LANES)
        fr_put(y + i, op(fr_loadu(x + i), p), stream);
    if (i < n)
        fr_store_part(y + i, op(fr_load_part(x + i, n - i), p), n - i);
}

/* fr_map1_part and the fence. */
FR_INLINE void fr_map1(const float *x, float *y, size_t n, fr_params p, fr_op1 op, int stream)
{
    fr_map1_part(x, y, n, p, op, stream);
    if (stream)
        fr_stream_fence();
}

/* y[i] = op(u[i], x[i]). y may equal u or x. The _part form leaves out the fence. */
FR_INLINE void fr_map2_part(const float *u, const float *x, float *y, size_t n, fr_params p,
                            fr_op2 op, int stream, int fetch)
{
    size_t i = 0;
    stream = stream && (uintptr_t)y % sizeof(float) == 0;
    if (stream && (i = fr_stream_head(y, n)) > 0)
        fr_store_part(y, op(fr_load_part(u, i), fr_load_part(x, i), p), i);
    for (; i + FR_UNROLL * FR_LANES <= n; i += FR_UNROLL * FR_LANES) {
        if (fetch) {
            fr_prefetch_step(u + i);
            fr_prefetch_step(x + i);
        }
        fr_vec r0 = op(fr_loadu(u + i), fr_loadu(x + i), p);
        fr_vec r1 = op(fr_loadu(u + i + FR_LANES), fr_loadu(x + i + FR_LANES), p);
        fr_vec r2 = op(fr_loadu(u + i + 2 * FR_LANES), fr_loadu(x + i + 2 * FR_LANES), p);
        fr_vec r3 = op(fr_loadu(u + i + 3 * FR_LANES), fr_loadu(x + i + 3 * FR_LANES), p);
        fr_put(y + i, r0, stream);
        fr_put(y + i + FR_LANES, r1, stream);
        fr_put(y + i + 2 * FR_LANES, r2, stream);
        fr_put(y + i + 3 * FR_LANES, r3, stream);
    }
    for (; i + FR_LANES <= n; i += FR_LANES)
        fr_put(y + i, op(fr_loadu(u + i), fr_loadu(x + i), p), stream);
    if (i < n) {
        size_t r = n - i;
        fr_store_part(y + i, op(fr_load_part(u + i, r), fr_load_part(x + i, r), p), r);
    }
}

/*
 * fr_map2_part and the fence; streaming, in parts (fr_map2_parts) when long
 * enough. Only here: fr_map2_part's other callers are PReLU's NHWC rows,
 * whose u is the row of alphas, read again for every row.
 */
FR_INLINE void fr_map2_as(const float *u, const float *x, float *y, size_t n, fr_params p,
                          fr_op2 op, int stream, int fetch)
{
    if (stream && (uintptr_t)y % sizeof(float) == 0 &&
        n >= FR_STREAM_PARTS2 * FR_STREAM_PART_MIN + FR_LANES) {
        size_t i = fr_stream_head(y, n);
        fr_map2_part(u, x, y, i, p, op, 0, 0);
        i += fr_map2_parts(u + i, x + i, y + i, n - i, p, op, fetch);
        u += i;
        x += i;
        y += i;
        n -= i;
    }
    fr_map2_part(u, x, y, n, p, op, stream, stream && fetch);
    if (stream)
        fr_stream_fence();
}

FR_INLINE void fr_map2(const float *u, const float *x, float *y, size_t n, fr_params p, fr_op2 op,
                       int stream)
{
    fr_map2_as(u, x, y, n, p, op, stream, 0);
}

FR_INLINE fr_params fr_params1(float a) { return (fr_params){fr_set1(a), fr_set1(a)}; }
FR_INLINE fr_params fr_params2(float a, float b) { return (fr_params){fr_set1(a), fr_set1(b)}; }

#endif
