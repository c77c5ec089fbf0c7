// XNNPACK's operators on the forward ops it shares with libfastrelu, as
// xnnpack/<op>/<n>, on one thread. Built only when XNNPACK is found.
#ifndef FASTRELU_BENCH_XNNPACK_OPS_H
#define FASTRELU_BENCH_XNNPACK_OPS_H

#include <cstddef>

namespace frb
{
namespace xnnpack
{

// Initializes XNNPACK and records in the JSON context how it runs.
void setup();
// Registers xnnpack/<op>/<n> when XNNPACK has an operator for op.
void register_benchmark(size_t op, size_t n);

} // namespace xnnpack
} // namespace frb

#endif // FASTRELU_BENCH_XNNPACK_OPS_H
