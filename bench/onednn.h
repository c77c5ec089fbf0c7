// oneDNN's eltwise primitive on the ops it shares with libfastrelu, as
// onednn/<op>/<n>, on one thread. Built only when oneDNN is found.
#ifndef FASTRELU_BENCH_ONEDNN_H
#define FASTRELU_BENCH_ONEDNN_H

#include <cstddef>

namespace frb
{
namespace onednn
{

// Limits oneDNN to one thread and records its version in the JSON context.
void setup();
// Registers onednn/<op>/<n> when oneDNN has a primitive for op.
void register_benchmark(size_t op, size_t n);

} // namespace onednn
} // namespace frb

#endif // FASTRELU_BENCH_ONEDNN_H
