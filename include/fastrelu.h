/*
 * libfastrelu: ReLU-family activations and their gradients on float arrays.
 *
 * Every function validates its arguments and returns a status; nothing is
 * printed and nothing aborts. Results are defined by the scalar reference
 * (docs/semantics.md): piecewise-linear ops are bit-identical on every ISA,
 * ELU is within the ulp bounds stated there.
 *
 * Arrays need no alignment. In-place calls are allowed where an output equals
 * an input exactly (y == x; dx == dy or dx == x); any other overlap between an
 * output and an input is FASTRELU_ERR_OVERLAP. Safe to call from many threads.
 */
#ifndef FASTRELU_H
#define FASTRELU_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(FASTRELU_STATIC_DEFINE)
#define FASTRELU_API
#elif defined(FASTRELU_BUILDING)
#define FASTRELU_API __attribute__((visibility("default")))
#else
#define FASTRELU_API
#endif

#define FASTRELU_VERSION_MAJOR 0
#define FASTRELU_VERSION_MINOR 1
#define FASTRELU_VERSION_PATCH 0

typedef enum fastrelu_status {
    FASTRELU_OK = 0,
    FASTRELU_ERR_NULL_POINTER,
    FASTRELU_ERR_INVALID_ARGUMENT,
    FASTRELU_ERR_OVERLAP,
    FASTRELU_ERR_SIZE_OVERFLOW,
    FASTRELU_ERR_UNSUPPORTED_ISA
} fastrelu_status;

typedef enum fastrelu_isa {
    FASTRELU_ISA_SCALAR = 0,
    FASTRELU_ISA_SSE2 = 1,
    FASTRELU_ISA_AVX2 = 2,   /* AVX2 + FMA */
    FASTRELU_ISA_AVX512 = 3, /* AVX-512 F, BW, DQ, VL */
    FASTRELU_ISA_NEON = 4
} fastrelu_isa;

/* ---- dispatch and introspection ---------------------------------------- */

/* The kernel set in use now. */
FASTRELU_API fastrelu_isa fastrelu_get_isa(void);
/* Process-wide switch; FASTRELU_ERR_UNSUPPORTED_ISA if this CPU or build lacks it. */
FASTRELU_API fastrelu_status fastrelu_set_isa(fastrelu_isa isa);
/* Nonzero when this build has kernels for isa and this CPU and OS can run them. */
FASTRELU_API int fastrelu_isa_supported(fastrelu_isa isa);
/* The best ISA this CPU supports, ignoring FASTRELU_ISA and fastrelu_set_isa. */
FASTRELU_API fastrelu_isa fastrelu_best_isa(void);
/* "scalar", "sse2", "avx2", "avx512", "neon"; "unknown" for other values. */
FASTRELU_API const char *fastrelu_isa_name(fastrelu_isa isa);
FASTRELU_API const char *fastrelu_status_string(fastrelu_status status);
/* "MAJOR.MINOR.PATCH" of the library actually loaded. */
FASTRELU_API const char *fastrelu_version(void);

/* ---- threads ------------------------------------------------------------- */

/*
 * The most threads one call may use (process-wide; default 1). Calls large
 * enough to gain split their arrays into cache-line-aligned chunks, run on
 * OpenMP's thread pool; results are bit-identical to one thread's (PReLU's
 * dalpha stays within its documented bound). FASTRELU_ERR_INVALID_ARGUMENT
 * when n < 1; a build without OpenMP accepts any n >= 1 and uses one thread.
 */
FASTRELU_API fastrelu_status fastrelu_set_num_threads(int n);
FASTRELU_API int fastrelu_get_num_threads(void);

/* ---- ReLU: y = (x < 0) ? +0 : x;  dx = (x <= 0) ? +0 : dy ---------------- */

FASTRELU_API fastrelu_status fastrelu_relu_f32(const float *x, float *y, size_t n);
/* x may be relu's input or its output: both give the same dx. */
FASTRELU_API fastrelu_status fastrelu_relu_backward_f32(const float *dy, const float *x, float *dx,
                                                        size_t n);

/* ---- Leaky ReLU: y = (x > 0) ? x : x * alpha;  dx = (x > 0) ? dy : dy * alpha */

FASTRELU_API fastrelu_status fastrelu_leaky_relu_f32(const float *x, float *y, size_t n,
                                                     float alpha);
FASTRELU_API fastrelu_status fastrelu_leaky_relu_backward_f32(const float *dy, const float *x,
                                                              float *dx, size_t n, float alpha);

/* ---- PReLU: Leaky ReLU with one alpha per channel -----------------------
 * Element (o, c, i) is at index (o * channels + c) * inner + i.
 * NCHW: outer = N, channels = C, inner = H*W.  NHWC: outer = N*H*W, inner = 1.
 * Backward: dalpha[c] = sum over (o, i) of ((x > 0) ? 0 : x * dy), overwritten.
 * dx or dalpha may be NULL to skip that output, but not both. */
FASTRELU_API fastrelu_status fastrelu_prelu_f32(const float *x, const float *alpha, float *y,
                                                size_t outer, size_t channels, size_t inner);
FASTRELU_API fastrelu_status fastrelu_prelu_backward_f32(const float *dy, const float *x,
                                                         const float *alpha, float *dx,
                                                         float *dalpha, size_t outer,
                                                         size_t channels, size_t inner);

/* ---- ELU: y = (x > 0) ? x : alpha * expm1(x)  (within 2 ulp) ------------
 * dx = (x > 0) ? dy : dy * (alpha * exp(x))  (within 3 ulp; see docs/semantics.md) */
FASTRELU_API fastrelu_status fastrelu_elu_f32(const float *x, float *y, size_t n, float alpha);
FASTRELU_API fastrelu_status fastrelu_elu_backward_f32(const float *dy, const float *x, float *dx,
                                                       size_t n, float alpha);

/* ---- clipped ReLU / hardtanh: y = (x < lo) ? lo : (x > hi) ? hi : x ------
 * relu6 is clip(x, 0, 6).  dx = (x <= lo || x >= hi) ? +0 : dy */
FASTRELU_API fastrelu_status fastrelu_clip_f32(const float *x, float *y, size_t n, float lo,
                                               float hi);
FASTRELU_API fastrelu_status fastrelu_clip_backward_f32(const float *dy, const float *x, float *dx,
                                                        size_t n, float lo, float hi);

#ifdef __cplusplus
}
#endif

#endif /* FASTRELU_H */
