/*
 * Every kernel body and the table that holds them, for the ISA whose shim was
 * included and whose name is FR_ISA (FR_ISA_ENUM is its fastrelu_isa).
 */
#include "common.h"
#include "finite.h"
#include "relu.h"
#include "leaky_relu.h"
#include "prelu.h"
#include "elu.h"
#include "clip.h"

FR_KERNEL_LIST(FR_KERNEL)
#if FR_HAVE_STREAM
FR_KERNEL_LIST(FR_KERNEL_NT)
FR_DEFINE_TABLE(FR_ISA_ENUM);
#else
FR_DEFINE_TABLE_SOLO(FR_ISA_ENUM);
#endif
