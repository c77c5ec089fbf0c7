/* The avx512 kernel table: the shared bodies over the avx512 shim. Only the table is exported. */
#include "../simd/avx512.h"

#define FR_ISA avx512
#define FR_ISA_ENUM FASTRELU_ISA_AVX512
#include "../body/all.h"
