// fastrelu-bench: registers <op>/<isa>/<n> for every op, ISA and size, the
// memcpy/<m> baselines, the ceiling/{store,load,stream,elu}/<n> rows and the
// onednn/<op>/<n>, xnnpack/<op>/<n> and pytorch/<op>/<n> rows, then hands over to
// Google Benchmark. The timed calls live in harness.c.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuinfo_x86.h>
#elif defined(__aarch64__)
#include <cpuinfo_aarch64.h>
#endif

#include "common.h"
#include "summary.h"
#ifdef FASTRELU_BENCH_ONEDNN
#include "onednn.h"
#endif
#ifdef FASTRELU_BENCH_XNNPACK
#include "xnnpack_ops.h"
#endif
#ifdef FASTRELU_BENCH_PYTORCH
#include "pytorch_ops.h"
#endif

namespace
{

// The other libraries measured side by side: the name of their rows, their
// setup, and the registration of <name>/<op>/<n> where they have op.
struct Library {
    const char *name;
    void (*setup)();
    void (*register_benchmark)(size_t op, size_t n);
};
const std::vector<Library> libraries = {
#ifdef FASTRELU_BENCH_ONEDNN
    {"onednn", frb::onednn::setup, frb::onednn::register_benchmark},
#endif
#ifdef FASTRELU_BENCH_XNNPACK
    {"xnnpack", frb::xnnpack::setup, frb::xnnpack::register_benchmark},
#endif
#ifdef FASTRELU_BENCH_PYTORCH
    {"pytorch", frb::pytorch::setup, frb::pytorch::register_benchmark},
#endif
};

// L1, L2, L3 and DRAM on most desktop and server CPUs.
const std::vector<size_t> default_sizes = {size_t(1) << 10, size_t(1) << 14, size_t(1) << 18,
                                           size_t(1) << 22, size_t(1) << 26};
const char summary_min_time[] = "0.05";

const char usage[] =
    "fastrelu-bench [--summary] [--sizes=N,N,...] [--threads=N] [--benchmark_...]\n"
    "  --summary        one table: GB/s of the ISA in use, speedup over scalar, roofline\n"
    "                   per op and size (min_time 0.05 s unless --benchmark_min_time is given)\n"
    "  --sizes=LIST     element counts, e.g. 1024,16Ki,4Mi (default 1Ki,16Ki,256Ki,4Mi,64Mi)\n"
    "  --threads=N      fastrelu_set_num_threads(N) for the libfastrelu rows (default 1;\n"
    "                   memcpy and the other libraries stay on one thread)\n"
    "Benchmarks are named <op>/<isa>/<n>, onednn/<op>/<n>, xnnpack/<op>/<n>,\n"
    "pytorch/<op>/<n>, memcpy/<m> and ceiling/{store,load,stream,elu}/<n> (only storing\n"
    "n floats, only loading 2n, copying n with non-temporal stores, ELU forward's\n"
    "ops without their dependency chains); every --benchmark_* flag below is\n"
    "Google Benchmark's.\n\n";

struct Options {
    std::vector<size_t> sizes = default_sizes;
    bool summary = false;
    std::string min_time; // the --benchmark_min_time value, if given
    int threads = 1;
};

// "4096", "16Ki", "64Mi": a number of floats.
bool parse_size(const std::string &text, size_t &n)
{
    char *end = nullptr;
    unsigned long long v = std::strtoull(text.c_str(), &end, 10);
    std::string unit = end;
    int shift = unit.empty() ? 0 : unit == "Ki" ? 10 : unit == "Mi" ? 20 : unit == "Gi" ? 30 : -1;
    if (end == text.c_str() || shift < 0 || v == 0 || v > (~0ull >> (shift + 4)))
        return false;
    n = static_cast<size_t>(v << shift);
    return true;
}

bool parse_sizes(const std::string &list, std::vector<size_t> &sizes)
{
    sizes.clear();
    size_t start = 0;
    while (start <= list.size()) {
        size_t comma = list.find(',', start);
        if (comma == std::string::npos)
            comma = list.size();
        size_t n;
        if (!parse_size(list.substr(start, comma - start), n))
            return false;
        sizes.push_back(n);
        start = comma + 1;
    }
    return !sizes.empty();
}

// Takes fastrelu-bench's own flags out of args; the rest is Google Benchmark's.
bool take_own_flags(std::vector<char *> &args, Options &o)
{
    std::vector<char *> rest;
    for (char *arg : args) {
        std::string a = arg;
        if (a == "--summary") {
            o.summary = true;
        } else if (a.rfind("--sizes=", 0) == 0) {
            if (!parse_sizes(a.substr(8), o.sizes)) {
                std::fprintf(stderr, "fastrelu-bench: bad --sizes: %s\n", arg);
                return false;
            }
        } else if (a.rfind("--threads=", 0) == 0) {
            char *end = nullptr;
            long t = std::strtol(arg + 10, &end, 10);
            if (*end != '\0' || t < 1 || t > 1024) {
                std::fprintf(stderr, "fastrelu-bench: bad --threads: %s\n", arg);
                return false;
            }
            o.threads = static_cast<int>(t);
        } else {
            if (a.rfind("--benchmark_min_time=", 0) == 0)
                o.min_time = a.substr(21);
            if (a == "--help")
                std::fputs(usage, stdout);
            rest.push_back(arg);
        }
    }
    args = rest;
    return true;
}

std::vector<fastrelu_isa> supported_isas()
{
    std::vector<fastrelu_isa> isas;
    for (int i = FASTRELU_ISA_SCALAR; i <= FASTRELU_ISA_NEON; i++)
        if (fastrelu_isa_supported(static_cast<fastrelu_isa>(i)))
            isas.push_back(static_cast<fastrelu_isa>(i));
    return isas;
}

std::string cpu_brand()
{
#if defined(__x86_64__) || defined(__i386__)
    cpu_features::X86Info info = cpu_features::GetX86Info();
    std::string brand = info.brand_string;
    brand.erase(brand.find_last_not_of(' ') + 1);
    auto uarch = cpu_features::GetX86Microarchitecture(&info);
    if (uarch != cpu_features::X86_UNKNOWN) // cpu_features names CPUs older than itself only
        brand += std::string(" (") + cpu_features::GetX86MicroarchitectureName(uarch) + ")";
    return brand;
#elif defined(__aarch64__)
    cpu_features::Aarch64Info info = cpu_features::GetAarch64Info();
    char text[64];
    std::snprintf(text, sizeof text, "implementer 0x%02x part 0x%03x", info.implementer, info.part);
    return text;
#else
    return "unknown";
#endif
}

void add_context(const std::vector<fastrelu_isa> &isas, fastrelu_isa active)
{
    std::string names;
    for (fastrelu_isa isa : isas)
        names += (names.empty() ? "" : ",") + std::string(fastrelu_isa_name(isa));
    benchmark::AddCustomContext("cpu_brand", cpu_brand());
    benchmark::AddCustomContext("fastrelu_version", fastrelu_version());
    benchmark::AddCustomContext("fastrelu_isas", names);
    benchmark::AddCustomContext("fastrelu_active_isa", fastrelu_isa_name(active));
    benchmark::AddCustomContext("fastrelu_bench_data",
                                "x uniform in [-8,8) with 1/32 zeros, dy uniform in [-1,1); "
                                "leaky alpha 0.01, elu alpha 1, clip [0,6]; "
                                "prelu NCHW N=1 C=gcd(n,64) HW=n/C; prelu_nhwc n/C rows of C; "
                                "prelu_nhwc4 C=gcd(n,4); prelu_2x2 NCHW HW=4 C=gcd(n/4,64); "
                                "prelu_7x7 NCHW HW=49 C=min(n/49,64), on the 49CN<=n floats "
                                "that fit; prelu_3x3 likewise with HW=9");
    benchmark::AddCustomContext("fastrelu_bench_roofline",
                                "bytes/s over the bytes/s of memcpy/<m> on the same footprint "
                                "in this run; m = n for forward ops, 3n/2 for backward ops");
}

void bench_op(benchmark::State &st, size_t op, fastrelu_isa isa, size_t n)
{
    frb_data *d = frb::data_for(n);
    if (!d)
        return frb::fail(st, "out of memory");
    if (const char *err = frb_prepare(d, op, isa))
        return frb::fail(st, err);
    double seconds = frb::timed_loop(st, [d, op] { frb_run(d, op); });
    frb_finish(d, op, isa);
    frb::report_rates(st, op, n, seconds);
}

// One size at a time, memcpy first, so that each op finds its baseline measured.
void register_size(size_t n, const std::vector<fastrelu_isa> &isas, std::set<size_t> &footprints)
{
    for (int backward = 0; backward <= 1; backward++) {
        size_t footprint = frb_footprint(backward, n);
        if (!footprints.insert(footprint).second)
            continue;
        auto *b = benchmark::RegisterBenchmark(frb::memcpy_name(footprint).c_str(),
                                               frb::bench_memcpy, footprint);
        if (frb::wall_clock())
            b->UseRealTime();
    }
    for (const char *kind : frb::ceiling_kinds) {
        if (!frb::have_ceiling(kind))
            continue;
        auto *b = benchmark::RegisterBenchmark(frb::ceiling_name(kind, n).c_str(),
                                               frb::bench_ceiling, kind, n);
        if (frb::wall_clock())
            b->UseRealTime();
    }
    for (size_t op = 0; op < frb_op_count(); op++) {
        if (frb_op_elements(op, n) == 0)
            continue; // prelu_7x7 below 49 floats, prelu_3x3 below 9
        for (fastrelu_isa isa : isas) {
            auto *b = benchmark::RegisterBenchmark(
                frb::bench_name(frb_op_name(op), fastrelu_isa_name(isa), n).c_str(), bench_op, op,
                isa, n);
            if (frb::wall_clock()) // the other threads' work is not on this thread's CPU clock
                b->UseRealTime();
        }
        for (const Library &library : libraries) // right after, while the reference is at hand
            library.register_benchmark(op, n);
    }
}

void run_summary(const Options &o, fastrelu_isa active)
{
    std::vector<std::string> peers(libraries.size());
    std::transform(libraries.begin(), libraries.end(), peers.begin(),
                   [](const Library &library) { return library.name; });
    frb::summary::Plan plan{o.sizes, active, peers,
                            o.min_time.empty() ? summary_min_time : o.min_time, cpu_brand()};
    auto reporter = frb::summary::make_reporter(plan);
    benchmark::RunSpecifiedBenchmarks(reporter.get());
}

} // namespace

int main(int argc, char **argv)
{
    std::vector<char *> args(argv, argv + argc);
    Options o;
    if (!take_own_flags(args, o))
        return 2;
    std::string min_time_flag = std::string("--benchmark_min_time=") + summary_min_time;
    if (o.summary && o.min_time.empty())
        args.push_back(min_time_flag.data());
    int n_args = static_cast<int>(args.size());
    benchmark::Initialize(&n_args, args.data());
    if (benchmark::ReportUnrecognizedArguments(n_args, args.data()))
        return 2;

    // Read before any benchmark switches the ISA: the load-time choice, FASTRELU_ISA included.
    fastrelu_isa active = fastrelu_get_isa();
    std::vector<fastrelu_isa> isas = supported_isas();
    if (o.summary) // only what the table shows
        isas = active == FASTRELU_ISA_SCALAR
                   ? std::vector<fastrelu_isa>{active}
                   : std::vector<fastrelu_isa>{FASTRELU_ISA_SCALAR, active};
    add_context(supported_isas(), active);
    fastrelu_set_num_threads(o.threads);
    if (o.threads > 1)
        frb::use_wall_clock();
    benchmark::AddCustomContext("fastrelu_threads", std::to_string(fastrelu_get_num_threads()));
    for (const Library &library : libraries)
        library.setup();
    for (size_t n : frb::overhead_sizes)
        benchmark::RegisterBenchmark(frb::overhead_name(n).c_str(), frb::bench_overhead, n);
    std::set<size_t> footprints;
    for (size_t n : o.sizes) {
        frb::reserve_buffers(n);
        register_size(n, isas, footprints);
    }

    if (o.summary)
        run_summary(o, active);
    else
        benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    frb::release_buffers();
    return frb::failures() ? 1 : 0;
}
