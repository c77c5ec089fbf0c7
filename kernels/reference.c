/*
 * The scalar reference. It defines every result of the library: the SIMD
 * kernels must match it bit for bit, or stay within the ulp bound that the
 * registry in src/internal.h gives.
 *
 * Comparisons are IEEE comparisons, false for NaN; that is what decides where
 * NaN, -0 and +0 go. ELU is evaluated in double and rounded once.
 */
#include <math.h>

#include "../src/internal.h"

#define FR_ISA scalar

static void fr_f32_relu_fwd__scalar(const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = (x[i] < 0.0f) ? 0.0f : x[i];
}

static void fr_f32_relu_bwd__scalar(const float *dy, const float *x, float *dx, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = (x[i] <= 0.0f) ? 0.0f : dy[i];
}

static void fr_f32_leaky_relu_fwd__scalar(const float *x, float *y, size_t n, float alpha)
{
    for (size_t i = 0; i < n; i++)
        y[i] = (x[i] > 0.0f) ? x[i] : x[i] * alpha;
}

static void fr_f32_leaky_relu_bwd__scalar(const float *dy, const float *x, float *dx, size_t n,
                                          float alpha)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = (x[i] > 0.0f) ? dy[i] : dy[i] * alpha;
}

static void fr_f32_prelu_fwd__scalar(const float *x, const float *alpha, float *y, size_t outer,
                                     size_t channels, size_t inner)
{
    for (size_t o = 0; o < outer; o++)
        for (size_t c = 0; c < channels; c++) {
            size_t base = (o * channels + c) * inner;
            fr_f32_leaky_relu_fwd__scalar(x + base, y + base, inner, alpha[c]);
        }
}

/* dalpha is summed in double: 2^24 terms per channel would lose all accuracy in float. */
static void fr_f32_prelu_bwd__scalar(const float *dy, const float *x, const float *alpha,
                                     float *dx, float *dalpha, size_t outer, size_t channels,
                                     size_t inner)
{
    for (size_t c = 0; c < channels; c++) {
        double sum = 0.0;
        for (size_t o = 0; o < outer; o++) {
            size_t base = (o * channels + c) * inner;
            for (size_t i = 0; i < inner; i++) {
                float xv = x[base + i], g = dy[base + i];
                if (!(xv > 0.0f))
                    sum += (double)(xv * g);
            }
            if (dx)
                fr_f32_leaky_relu_bwd__scalar(dy + base, x + base, dx + base, inner, alpha[c]);
        }
        if (dalpha)
            dalpha[c] = (float)sum;
    }
}

static void fr_f32_elu_fwd__scalar(const float *x, float *y, size_t n, float alpha)
{
    for (size_t i = 0; i < n; i++)
        y[i] = (x[i] > 0.0f) ? x[i] : (float)((double)alpha * expm1((double)x[i]));
}

static void fr_f32_elu_bwd__scalar(const float *dy, const float *x, float *dx, size_t n,
                                   float alpha)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = (x[i] > 0.0f) ? dy[i]
                              : (float)((double)dy[i] * ((double)alpha * exp((double)x[i])));
}

static void fr_f32_clip_fwd__scalar(const float *x, float *y, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++)
        y[i] = (x[i] < lo) ? lo : (x[i] > hi) ? hi : x[i];
}

static void fr_f32_clip_bwd__scalar(const float *dy, const float *x, float *dx, size_t n, float lo,
                                    float hi)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = (x[i] <= lo || x[i] >= hi) ? 0.0f : dy[i];
}

static int fr_f32_all_finite__scalar(const float *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(p[i]))
            return 0;
    return 1;
}

FR_DEFINE_TABLE_SOLO(FASTRELU_ISA_SCALAR);
