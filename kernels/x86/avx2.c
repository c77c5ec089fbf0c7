/* The avx2 kernel table: the shared bodies over the avx2 shim. Only the table is exported. */
#include "../simd/avx2.h"

#define FR_ISA avx2
#define FR_ISA_ENUM FASTRELU_ISA_AVX2
#include "../body/all.h"
