/*
 * A tiny program built against an installed libfastrelu: it must find the
 * header, link, load the installed library and get its version and a result.
 */
#include <fastrelu.h>
#include <stdio.h>
#include <string.h>

#ifndef EXPECTED_VERSION
#error "build with -DEXPECTED_VERSION=\"MAJOR.MINOR.PATCH\""
#endif

int main(void)
{
    char header_version[32];
    snprintf(header_version, sizeof header_version, "%d.%d.%d", FASTRELU_VERSION_MAJOR,
             FASTRELU_VERSION_MINOR, FASTRELU_VERSION_PATCH);
    /* The installed header, the library loaded and the project must agree. */
    if (strcmp(fastrelu_version(), EXPECTED_VERSION) != 0 ||
        strcmp(header_version, EXPECTED_VERSION) != 0) {
        fprintf(stderr, "consumer: library %s, header %s, expected %s\n", fastrelu_version(),
                header_version, EXPECTED_VERSION);
        return 1;
    }
    const float x[3] = {-2.0f, 0.5f, 3.0f};
    float y[3];
    fastrelu_status s = fastrelu_relu_f32(x, y, 3);
    if (s != FASTRELU_OK || y[0] != 0.0f || y[1] != 0.5f || y[2] != 3.0f) {
        fprintf(stderr, "consumer: relu failed: %s\n", fastrelu_status_string(s));
        return 1;
    }
    printf("consumer ok: libfastrelu %s on %s\n", fastrelu_version(),
           fastrelu_isa_name(fastrelu_get_isa()));
    return 0;
}
