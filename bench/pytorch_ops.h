// PyTorch's ATen ops on the ops it shares with libfastrelu, forward and
// backward, as pytorch/<op>/<n>, on one thread. Built only when libtorch is found.
#ifndef FASTRELU_BENCH_PYTORCH_OPS_H
#define FASTRELU_BENCH_PYTORCH_OPS_H

#include <cstddef>

namespace frb
{
namespace pytorch
{

// Limits ATen to one thread and records that in the JSON context.
void setup();
// Registers pytorch/<op>/<n> when ATen has a function for op.
void register_benchmark(size_t op, size_t n);

} // namespace pytorch
} // namespace frb

#endif // FASTRELU_BENCH_PYTORCH_OPS_H
