/*
 * Prints every slot of every kernel table this build has, and of its streaming
 * twin (named nt_<isa>), one line each:
 *     <isa> <op>_<dir> <address minus the address of fr_kernels_scalar>
 * tests/table_symbols.sh looks each address up in this program's symbol
 * table: the offset survives PIE relocation, raw addresses do not.
 * Only pointers are read, so any CPU can run it.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

#include "dispatch.h"
#include "util.h"

/* Named by the ISA asked for, not t->isa: the name check must not trust the table. */
static void print_table(const fr_kernels *t, const char *prefix, fastrelu_isa isa)
{
    const intptr_t base = (intptr_t)&fr_kernels_scalar;
#define PRINT_SLOT(op, dir, sig, ulp)                                                              \
    printf("%s%s %s %" PRIdPTR "\n", prefix, fastrelu_isa_name(isa), #op "_" #dir,                 \
           (intptr_t)t->op##_##dir - base);
    FR_KERNEL_LIST(PRINT_SLOT)
#undef PRINT_SLOT
}

int main(void)
{
    for (int isa = 0; isa < FR_TEST_NUM_ISAS; isa++) {
        const fr_kernels *t = fr_table_for(fr_test_cpu_all, isa);
        if (t)
            print_table(t, "", (fastrelu_isa)isa);
        if (t && t->stream != t)
            print_table(t->stream, "nt_", (fastrelu_isa)isa);
    }
    return ferror(stdout) ? 1 : 0;
}
