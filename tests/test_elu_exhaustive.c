/*
 * Opt-in (ctest -L exhaustive): ELU forward and backward on all 2^32 float
 * bit patterns, alpha = 1 and dy = 1, on every ISA the CPU runs, against
 * alpha * expm1(x) and dy * (alpha * exp(x)) evaluated in double and rounded
 * once. The rules are fr_elu_fwd_ok and fr_elu_bwd_ok (util.h).
 *
 * The double-precision reference is computed once per block and shared by
 * the ISAs, so the run costs about one libm expm1 and exp per float.
 */
#include "util.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

#define FR_BLOCK ((size_t)1 << 16)
#define FR_ELU_FWD_ULP 2
#define FR_ELU_BWD_ULP 3

typedef struct fr_result {
    uint64_t max_fwd_ulp, max_bwd_ulp; /* bwd: where alpha * exp(x) >= FLT_MIN */
    uint64_t fwd_failed, bwd_failed;
    uint32_t first_fwd_bits, first_bwd_bits;
} fr_result;

typedef struct fr_block {
    float x[FR_BLOCK], dy[FR_BLOCK], ref_y[FR_BLOCK], ref_dx[FR_BLOCK], y[FR_BLOCK];
    unsigned char normal_t[FR_BLOCK]; /* alpha * exp(x) >= FLT_MIN */
} fr_block;

static void fr_block_fill(fr_block *b, uint32_t base, float alpha)
{
    for (size_t i = 0; i < FR_BLOCK; i++) {
        float x = fr_from_bits(base + (uint32_t)i);
        double t = (double)alpha * exp((double)x);
        b->x[i] = x;
        b->dy[i] = 1.0f;
        b->ref_y[i] = x > 0.0f ? x : (float)((double)alpha * expm1((double)x));
        b->ref_dx[i] = x > 0.0f ? 1.0f : (float)t;
        b->normal_t[i] = fabs(t) >= FLT_MIN;
    }
}

static uint64_t fr_max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

static void fr_block_check(const fr_kernels *t, fr_block *b, float alpha, fr_result *r)
{
    t->elu_fwd(b->x, b->y, FR_BLOCK, alpha);
    for (size_t i = 0; i < FR_BLOCK; i++) {
        if (!fr_elu_fwd_ok(b->ref_y[i], b->y[i], b->x[i], FR_ELU_FWD_ULP) && !r->fwd_failed++)
            r->first_fwd_bits = fr_to_bits(b->x[i]);
        if (!isnan(b->x[i]))
            r->max_fwd_ulp = fr_max_u64(r->max_fwd_ulp, fr_ulp_distance(b->ref_y[i], b->y[i]));
    }
    t->elu_bwd(b->dy, b->x, b->y, FR_BLOCK, alpha);
    for (size_t i = 0; i < FR_BLOCK; i++) {
        if (!fr_elu_bwd_ok(b->ref_dx[i], b->y[i], 1.0f, b->x[i], alpha, FR_ELU_BWD_ULP) &&
            !r->bwd_failed++)
            r->first_bwd_bits = fr_to_bits(b->x[i]);
        if (b->normal_t[i])
            r->max_bwd_ulp = fr_max_u64(r->max_bwd_ulp, fr_ulp_distance(b->ref_dx[i], b->y[i]));
    }
}

static void fr_report(const fr_kernels *t, const fr_result *r)
{
    const char *name = fr_test_isa_name((int)t->isa);
    print_message("%s: elu fwd max %llu ulp, bwd max %llu ulp (alpha 1, dy 1, all 2^32 x)\n", name,
                  (unsigned long long)r->max_fwd_ulp, (unsigned long long)r->max_bwd_ulp);
    if (r->fwd_failed)
        print_message("%s: elu fwd out of bounds for %llu x, first 0x%08x\n", name,
                      (unsigned long long)r->fwd_failed, r->first_fwd_bits);
    if (r->bwd_failed)
        print_message("%s: elu bwd out of bounds for %llu x, first 0x%08x\n", name,
                      (unsigned long long)r->bwd_failed, r->first_bwd_bits);
}

static void fr_test_exhaustive(void **state)
{
    (void)state;
    const fr_kernels *tables[FR_TEST_NUM_ISAS];
    fr_result results[FR_TEST_NUM_ISAS] = {{0}};
    int count = fr_runnable_tables(tables);
    fr_block *b = malloc(sizeof *b);
    assert_non_null(b);
    const float alpha = 1.0f;
    uint64_t patterns = (uint64_t)1 << 32;
    for (uint64_t base = 0; base < patterns; base += FR_BLOCK) {
        fr_block_fill(b, (uint32_t)base, alpha);
        for (int i = 0; i < count; i++)
            fr_block_check(tables[i], b, alpha, &results[i]);
    }
    free(b);
    int failed = 0;
    for (int i = 0; i < count; i++) {
        fr_report(tables[i], &results[i]);
        failed |= results[i].fwd_failed || results[i].bwd_failed;
    }
    assert_false(failed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fr_test_exhaustive),
    };
    return cmocka_run_group_tests_name("elu exhaustive", tests, NULL, NULL);
}
