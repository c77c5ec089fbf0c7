/*
 * A first look at libfastrelu: which kernels run on this machine, then ReLU,
 * its derivative and Leaky ReLU on the textbook inputs.
 *
 * Build against an installed library with:
 *     cc relu_example.c $(pkg-config --cflags --libs fastrelu)
 */
#include <fastrelu.h>
#include <stdio.h>
#include <stdlib.h>

/* Every call returns a status; the library itself never prints or aborts. */
static void check(fastrelu_status status, const char *what)
{
    if (status != FASTRELU_OK) {
        fprintf(stderr, "fastrelu_example: %s failed: %s\n", what, fastrelu_status_string(status));
        exit(EXIT_FAILURE);
    }
}

static void print_array(const char *label, const float *v, size_t n)
{
    printf("%s = (", label);
    for (size_t i = 0; i < n; i++)
        printf(i ? ", %g" : "%g", (double)v[i]);
    printf(")\n");
}

static void print_isas(void)
{
    const fastrelu_isa all[] = {FASTRELU_ISA_SCALAR, FASTRELU_ISA_SSE2, FASTRELU_ISA_AVX2,
                                FASTRELU_ISA_AVX512, FASTRELU_ISA_NEON};
    printf("libfastrelu %s\n", fastrelu_version());
    printf("active ISA: %s\n", fastrelu_isa_name(fastrelu_get_isa()));
    printf("supported ISAs:");
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (fastrelu_isa_supported(all[i]))
            printf(" %s", fastrelu_isa_name(all[i]));
    printf("\n");
}

int main(void)
{
    print_isas();

    /* ReLU: max(0, x). */
    const float x[3] = {-2.0f, 0.5f, 3.0f};
    float y[3];
    check(fastrelu_relu_f32(x, y, 3), "relu");
    print_array("relu(-2, 0.5, 3)", y, 3);

    /* The derivative is the backward pass with an incoming gradient of 1. */
    const float at[3] = {0.8f, -1.0f, 3.2f};
    const float ones[3] = {1.0f, 1.0f, 1.0f};
    float grad[3];
    check(fastrelu_relu_backward_f32(ones, at, grad, 3), "relu_backward");
    print_array("relu'(0.8, -1, 3.2)", grad, 3);

    /* Leaky ReLU lets a small slope through for negative inputs. */
    const float v[5] = {-10.0f, -1.0f, 0.0f, 1.0f, 10.0f};
    float leaky[5];
    check(fastrelu_leaky_relu_f32(v, leaky, 5, 0.01f), "leaky_relu");
    print_array("leaky_relu(-10, -1, 0, 1, 10; alpha = 0.01)", leaky, 5);

    return EXIT_SUCCESS;
}
