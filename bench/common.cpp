#include "common.h"

#include "ceiling.h"

#include <time.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <tuple>

namespace frb
{
namespace
{

struct DataDeleter {
    void operator()(frb_data *d) const { frb_data_destroy(d); }
};

// Allocated once, for the largest size, and filled once: at 64Mi elements
// the page faults alone take seconds.
size_t largest_n = 0;
std::unique_ptr<frb_data, DataDeleter> data;
std::map<size_t, double> memcpy_rates; // footprint -> bytes/s
int failure_count = 0;

frb_data *buffers(size_t n)
{
    if (!data || data->capacity < n) {
        data.reset(); // free first: the old and the new set need not fit together
        data.reset(frb_data_create(std::max(n, largest_n)));
    }
    return data.get();
}

// A copy of `footprint` bytes read plus written.
struct Copy {
    const void *src;
    void *dst;
    size_t bytes;

    void operator()() const
    {
        std::memcpy(dst, src, bytes);
        benchmark::ClobberMemory();
    }
};

bool copy_for(size_t footprint, Copy &copy)
{
    // footprint / 2 bytes from the inputs to the outputs, 8 bytes per element each.
    frb_data *d = buffers((footprint + 15) / 16);
    if (!d)
        return false;
    frb_copy_buffers(d, &copy.src, &copy.dst);
    copy.bytes = footprint / 2;
    return true;
}

// Used when the filter left out memcpy/<m>: a short measurement of its own,
// in batches, because reading the thread clock costs as much as a small copy.
double measure_memcpy(size_t footprint)
{
    Copy copy;
    if (!copy_for(footprint, copy))
        return 0.0;
    copy();
    for (size_t batch = 1;; batch *= 2) {
        double start = thread_seconds();
        for (size_t i = 0; i < batch; i++)
            copy();
        double elapsed = thread_seconds() - start;
        if (elapsed >= 0.02)
            return static_cast<double>(footprint) * static_cast<double>(batch) / elapsed;
    }
}

double memcpy_rate(size_t footprint)
{
    auto it = memcpy_rates.find(footprint);
    if (it != memcpy_rates.end())
        return it->second;
    return memcpy_rates[footprint] = measure_memcpy(footprint);
}

} // namespace

namespace
{
bool wall = false;
}

void use_wall_clock() { wall = true; }
bool wall_clock() { return wall; }

double thread_seconds()
{
    timespec ts;
    clock_gettime(wall ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

std::string bench_name(const std::string &first, const std::string &second, size_t n)
{
    return first + "/" + second + "/" + std::to_string(n);
}

const size_t overhead_sizes[2] = {0, 16};

std::string overhead_name(size_t n) { return "overhead/relu_f32/" + std::to_string(n); }

void bench_overhead(benchmark::State &st, size_t n)
{
    float x[16], y[16];
    for (size_t i = 0; i < 16; i++)
        x[i] = static_cast<float>(i) - 8.0f;
    for (auto _ : st) {
        benchmark::DoNotOptimize(fastrelu_relu_f32(x, y, n));
        benchmark::ClobberMemory();
    }
}

std::string ceiling_name(const char *kind, size_t n)
{
    return std::string("ceiling/") + kind + "/" + std::to_string(n);
}

const char *const ceiling_kinds[4] = {"store", "load", "stream", "elu"};

static const frb_ceiling &ceiling()
{
    static const frb_ceiling c = frb_ceiling_get();
    return c;
}

bool have_ceiling(const char *kind)
{
    if (std::strcmp(kind, "elu") == 0)
        return ceiling().elu != nullptr;
    if (std::strcmp(kind, "stream") == 0)
        return ceiling().stream != nullptr;
    return true;
}

void bench_ceiling(benchmark::State &st, const char *kind, size_t n)
{
    const frb_ceiling &c = ceiling();
    frb_data *d = data_for(n);
    if (!d)
        return fail(st, "out of memory");
    st.SetLabel(c.width);
    if (std::strcmp(kind, "store") == 0) {
        c.store(d->out, n); // the first pass faults the pages in
        for (auto _ : st) {
            c.store(d->out, n);
            benchmark::ClobberMemory();
        }
    } else if (std::strcmp(kind, "load") == 0) {
        for (auto _ : st)
            benchmark::DoNotOptimize(c.load(d->x, d->out, n));
    } else if (std::strcmp(kind, "stream") == 0) {
        for (auto _ : st) {
            c.stream(d->x, d->out, n);
            benchmark::ClobberMemory();
        }
    } else {
        for (auto _ : st) {
            c.elu(d->x, d->out, n);
            benchmark::ClobberMemory();
        }
    }
    st.SetBytesProcessed(st.iterations() * static_cast<int64_t>(8 * n));
}

std::string memcpy_name(size_t footprint) { return "memcpy/" + std::to_string(footprint / 8); }

void reserve_buffers(size_t n) { largest_n = std::max(largest_n, n); }

frb_data *data_for(size_t n)
{
    frb_data *d = buffers(n);
    if (d && d->n != n)
        frb_data_select(d, n);
    return d;
}

void release_buffers() { data.reset(); }

void bench_memcpy(benchmark::State &st, size_t footprint)
{
    Copy copy;
    if (!copy_for(footprint, copy))
        return fail(st, "out of memory");
    copy(); // the first copy after a while runs cold, up to 2x slower
    double seconds = timed_loop(st, copy);
    auto bytes = static_cast<int64_t>(footprint);
    st.SetBytesProcessed(st.iterations() * bytes);
    if (seconds > 0.0) // the last run of a benchmark is the one reported
        memcpy_rates[footprint] = static_cast<double>(st.iterations() * bytes) / seconds;
}

void report_rates(benchmark::State &st, size_t op, size_t n, double seconds)
{
    double bytes = frb_op_bytes(op, n);
    st.SetBytesProcessed(st.iterations() * static_cast<int64_t>(bytes));
    st.SetItemsProcessed(st.iterations() * static_cast<int64_t>(frb_op_elements(op, n)));
    double baseline = memcpy_rate(frb_footprint(frb_op_is_backward(op), n));
    if (seconds > 0.0 && baseline > 0.0)
        st.counters["roofline"] = bytes * static_cast<double>(st.iterations()) / seconds / baseline;
}

void register_library(const char *library, size_t op, size_t n,
                      void (*bench)(benchmark::State &, size_t, size_t))
{
    benchmark::RegisterBenchmark(bench_name(library, frb_op_name(op), n).c_str(), bench, op, n);
}

const char *check_once(const char *library, size_t op, size_t n,
                       const std::function<const char *()> &check)
{
    static std::set<std::tuple<std::string, size_t, size_t>> checked;
    if (checked.count({library, op, n}) != 0)
        return nullptr;
    const char *err = check();
    if (!err)
        checked.insert({library, op, n});
    return err;
}

void fail(benchmark::State &st, const char *why)
{
    failure_count++;
    st.SkipWithError(why);
}

int failures() { return failure_count; }

} // namespace frb
