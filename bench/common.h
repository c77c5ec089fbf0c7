// What the benchmark files share: names, the buffers of the size being
// measured, the memcpy baseline and the counters every benchmark reports.
#ifndef FASTRELU_BENCH_COMMON_H
#define FASTRELU_BENCH_COMMON_H

#include <benchmark/benchmark.h>

#include <cstddef>
#include <functional>
#include <string>

#include "harness.h"

namespace frb
{

// "<first>/<second>/<n>": relu_f32/avx512/1024, onednn/relu_f32/1024.
std::string bench_name(const std::string &first, const std::string &second, size_t n);
// "memcpy/<m>" copies m floats, a footprint of 8m bytes: the forward ops' at n = m,
// the backward ops' at n = 2m/3.
std::string memcpy_name(size_t footprint);

// The buffers are sized once for the largest n given here.
void reserve_buffers(size_t n);
// The buffers set to n elements. NULL when out of memory.
frb_data *data_for(size_t n);
void release_buffers();

// Call overhead: fastrelu_relu_f32 at these n, named overhead/relu_f32/<n>.
extern const size_t overhead_sizes[2];
std::string overhead_name(size_t n);
void bench_overhead(benchmark::State &st, size_t n);

// The ceilings of a forward op of n floats (ceiling.c): ceiling/store/<n> writes n
// floats, ceiling/load/<n> reads 2n, ceiling/stream/<n> copies n with non-temporal
// stores (x86 only), ceiling/elu/<n> runs ELU forward's op mix on n floats without its
// dependency chains (only on CPUs with FMA). have_ceiling says which this CPU has. All
// report bytes/s as 8n bytes per loop, the forward op's traffic, so they read against
// its GB/s directly.
extern const char *const ceiling_kinds[4]; // "store", "load", "stream", "elu"
std::string ceiling_name(const char *kind, size_t n);
bool have_ceiling(const char *kind);
void bench_ceiling(benchmark::State &st, const char *kind, size_t n);

// The clock behind Google Benchmark's rates: this thread's CPU time, or wall-clock
// time once use_wall_clock() is called (calls that run on several threads).
double thread_seconds();
void use_wall_clock();
bool wall_clock();

// Runs the benchmark loop and returns its thread CPU time, which the roofline
// needs: its counter is a plain ratio, computed here rather than by Google
// Benchmark, which would print it as a rate ("/s").
template <class Body> double timed_loop(benchmark::State &st, Body body)
{
    double start = thread_seconds();
    for (auto _ : st)
        body();
    return thread_seconds() - start;
}

// The memcpy benchmark over `footprint` bytes read plus written.
void bench_memcpy(benchmark::State &st, size_t footprint);
// bytes/s, elements/s and roofline for `seconds` of op on n elements.
void report_rates(benchmark::State &st, size_t op, size_t n, double seconds);

// Registers <library>/<op>/<n>, which runs bench(state, op, n).
void register_library(const char *library, size_t op, size_t n,
                      void (*bench)(benchmark::State &, size_t, size_t));

// Another library's run of op at size n is checked once (Google Benchmark calls a
// benchmark function again for longer runs): check() the first time, then nullptr.
const char *check_once(const char *library, size_t op, size_t n,
                       const std::function<const char *()> &check);

// Marks the benchmark failed; main then exits nonzero.
void fail(benchmark::State &st, const char *why);
int failures();

} // namespace frb

#endif // FASTRELU_BENCH_COMMON_H
