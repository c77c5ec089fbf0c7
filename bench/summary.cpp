#include "summary.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <iterator>
#include <map>

#include "common.h"

namespace frb
{
namespace summary
{
namespace
{

struct Result {
    double bytes_per_second = 0.0, roofline = 0.0, ns = 0.0;
    std::string error;
};

double counter(const benchmark::BenchmarkReporter::Run &run, const char *name)
{
    auto it = run.counters.find(name);
    return it == run.counters.end() ? 0.0 : it->second.value;
}

// 1Ki, 64Mi, or the plain number when it is not a whole power-of-two unit.
std::string size_label(size_t n)
{
    if (n >= (1u << 20) && n % (1u << 20) == 0)
        return std::to_string(n >> 20) + "Mi";
    if (n >= (1u << 10) && n % (1u << 10) == 0)
        return std::to_string(n >> 10) + "Ki";
    return std::to_string(n);
}

class Reporter : public benchmark::BenchmarkReporter
{
  public:
    explicit Reporter(const Plan &plan) : plan_(plan), progress_(isatty(STDERR_FILENO)) {}

    bool ReportContext(const Context &) override { return true; }

    // With --benchmark_repetitions, the median stands for the runs.
    void ReportRuns(const std::vector<Run> &runs) override
    {
        for (const Run &run : runs) {
            bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
            if (run.run_type != Run::RT_Iteration && !median)
                continue;
            Result &r = results_[run.run_name.function_name]; // without /real_time
            r.bytes_per_second = counter(run, "bytes_per_second");
            r.roofline = counter(run, "roofline");
            r.ns =
                run.GetAdjustedRealTime() * 1e9 / benchmark::GetTimeUnitMultiplier(run.time_unit);
            r.error = run.error_occurred ? run.error_message : "";
        }
        if (progress_)
            std::fprintf(stderr, "\r%4zu benchmarks done", results_.size());
    }

    void Finalize() override
    {
        if (progress_)
            std::fprintf(stderr, "\r%24s\r", "");
        // A column for each other library that ran (a --benchmark_filter may leave some out).
        std::copy_if(plan_.peers.begin(), plan_.peers.end(), std::back_inserter(peers_),
                     [this](const std::string &peer) { return ran(peer); });
        print_header();
        for (size_t op = 0; op < frb_op_count(); op++)
            for (size_t i = 0; i < plan_.sizes.size(); i++)
                print_row(op, plan_.sizes[i], i == 0);
        print_overhead();
        print_ceilings();
        print_errors();
    }

  private:
    // Whether any <library>/... benchmark reported.
    bool ran(const std::string &library) const
    {
        return std::any_of(results_.begin(), results_.end(), [&library](const auto &result) {
            return result.first.rfind(library + "/", 0) == 0;
        });
    }

    const Result *find(const std::string &name) const
    {
        auto it = results_.find(name);
        return it == results_.end() || !it->second.error.empty() ? nullptr : &it->second;
    }

    void print_header() const
    {
        std::string isa = fastrelu_isa_name(plan_.active);
        std::printf(
            "fastrelu-bench --summary: libfastrelu %s on %s\n"
            "ISA in use %s, %d thread%s (memcpy and the other libraries: one), each benchmark run "
            "for at least %s s.\n"
            "GB/s: 10^9 bytes read + written per second. x scalar: %s over the scalar ISA.\n"
            "roofline: GB/s over memcpy's GB/s on the same footprint, in this run.\n\n",
            fastrelu_version(), plan_.cpu.c_str(), isa.c_str(), fastrelu_get_num_threads(),
            fastrelu_get_num_threads() == 1 ? "" : "s", plan_.min_time.c_str(), isa.c_str());
        std::string gbs = isa + " GB/s";
        std::printf("%-23s %6s %12s %9s %9s", "op", "n", gbs.c_str(), "x scalar", "roofline");
        for (const std::string &peer : peers_)
            std::printf(" %12s", (peer + " GB/s").c_str());
        std::printf("\n");
    }

    void print_row(size_t op, size_t n, bool first) const
    {
        const char *name = frb_op_name(op);
        std::printf("%-23s %6s", first ? name : "", size_label(n).c_str());
        const Result *active = find(bench_name(name, fastrelu_isa_name(plan_.active), n));
        const Result *scalar = find(bench_name(name, "scalar", n));
        print_cell(12, active, active ? active->bytes_per_second * 1e-9 : 0.0, 1);
        bool ratio = active && scalar && scalar->bytes_per_second > 0.0;
        print_cell(9, ratio, ratio ? active->bytes_per_second / scalar->bytes_per_second : 0.0, 1,
                   "x");
        print_cell(9, active && active->roofline > 0.0, active ? active->roofline : 0.0, 2);
        for (const std::string &peer : peers_) {
            const Result *r = find(bench_name(peer, name, n));
            print_cell(12, r, r ? r->bytes_per_second * 1e-9 : 0.0, 1);
        }
        std::printf("\n");
    }

    // A column: the value, or "-" where nothing was measured.
    static void print_cell(int width, bool measured, double value, int decimals,
                           const char *suffix = "")
    {
        if (measured)
            std::printf(" %*.*f%s", width - static_cast<int>(std::strlen(suffix)), decimals, value,
                        suffix);
        else
            std::printf(" %*s", width, "-");
    }

    // What a call costs besides its elements: argument checks and dispatch.
    void print_overhead() const
    {
        std::printf("\ncall overhead (fastrelu_relu_f32, ISA in use, ns per call):");
        for (size_t n : frb::overhead_sizes) {
            const Result *r = find(frb::overhead_name(n));
            std::printf("  n = %zu:", n);
            print_cell(6, r, r ? r->ns : 0.0, 1);
        }
        std::printf("\n");
    }

    // What the memory system allows a forward op, and what ELU's forward's ops allow it.
    void print_ceilings() const
    {
        std::printf(
            "\nceilings of a forward op, GB/s of its 8n bytes: only storing n floats / only "
            "loading 2n\n(the line fills of x and of y read for ownership; binding beyond L1)");
        if (frb::have_ceiling("stream"))
            std::printf(" / copying n with\nnon-temporal stores (a streaming call's, beyond the "
                        "caches)");
        if (frb::have_ceiling("elu"))
            std::printf(
                " / ELU forward's ops\nwithout their dependency chains (ELU's bound in cache)");
        for (size_t n : plan_.sizes) {
            std::printf("\n  %6s:", size_label(n).c_str());
            const char *sep = "";
            for (const char *kind : frb::ceiling_kinds) {
                if (!frb::have_ceiling(kind))
                    continue;
                const Result *r = find(frb::ceiling_name(kind, n));
                std::printf("%s", sep);
                print_cell(8, r, r ? r->bytes_per_second * 1e-9 : 0.0, 1);
                sep = " /";
            }
        }
        std::printf("\n");
    }

    void print_errors() const
    {
        for (const auto &entry : results_)
            if (!entry.second.error.empty())
                std::printf("error: %s: %s\n", entry.first.c_str(), entry.second.error.c_str());
    }

    Plan plan_;
    bool progress_;
    std::map<std::string, Result> results_;
    std::vector<std::string> peers_; // the other libraries with results, in plan_.peers' order
};

} // namespace

std::unique_ptr<benchmark::BenchmarkReporter> make_reporter(const Plan &plan)
{
    return std::make_unique<Reporter>(plan);
}

} // namespace summary
} // namespace frb
