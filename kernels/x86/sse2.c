/* The sse2 kernel table: the shared bodies over the sse2 shim. Only the table is exported. */
#include "../simd/sse2.h"

#define FR_ISA sse2
#define FR_ISA_ENUM FASTRELU_ISA_SSE2
#include "../body/all.h"
