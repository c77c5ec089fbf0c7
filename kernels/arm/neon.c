/* The neon kernel table: the shared bodies over the neon shim. Only the table is exported. */
#include "../simd/neon.h"

#define FR_ISA neon
#define FR_ISA_ENUM FASTRELU_ISA_NEON
#include "../body/all.h"
