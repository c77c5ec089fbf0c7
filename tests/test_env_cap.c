/*
 * FASTRELU_ISA at load time. ctest runs this once per cap value (see
 * tests/CMakeLists.txt); the ISA chosen by the library's constructor is read
 * in main() before anything else can change it.
 */
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "util.h"

static fastrelu_isa isa_at_startup;


/*
 * The best supported rung at or below the cap. A cap that is not a rung of
 * this architecture's ladder (unknown, empty, or another architecture's ISA)
 * caps nothing.
 */
static fastrelu_isa expected_isa(const char *cap)
{
    size_t start = 0;
    for (size_t i = 0; cap && i < fr_test_ladder_len; i++)
        if (strcmp(cap, fastrelu_isa_name(fr_test_ladder[i])) == 0)
            start = i;
    for (size_t i = start; i < fr_test_ladder_len; i++)
        if (fastrelu_isa_supported(fr_test_ladder[i]))
            return fr_test_ladder[i];
    return FASTRELU_ISA_SCALAR;
}

static void test_cap_applied_at_load(void **state)
{
    (void)state;
    const char *cap = getenv("FASTRELU_ISA");
    print_message("FASTRELU_ISA=%s: library chose %s, best here is %s\n", cap ? cap : "(unset)",
                  fastrelu_isa_name(isa_at_startup), fastrelu_isa_name(fastrelu_best_isa()));
    assert_int_equal(isa_at_startup, fr_select(fr_cpu_detect(), cap)->isa);
    assert_int_equal(isa_at_startup, expected_isa(cap));
    assert_true(fastrelu_isa_supported(isa_at_startup));
}

/* The cap limits the load-time choice only, not what the process may select later. */
static void test_cap_does_not_limit_set_isa(void **state)
{
    (void)state;
    fastrelu_isa best = fastrelu_best_isa();
    assert_int_equal(best, expected_isa(NULL));
    assert_int_equal(fastrelu_set_isa(best), FASTRELU_OK);
    assert_int_equal(fastrelu_get_isa(), best);
    assert_int_equal(fastrelu_set_isa(isa_at_startup), FASTRELU_OK);
}

int main(void)
{
    isa_at_startup = fastrelu_get_isa();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cap_applied_at_load),
        cmocka_unit_test(test_cap_does_not_limit_set_isa),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
