// fastrelu-bench --summary: collects the runs instead of printing them, then
// prints one table, op x size, for the ISA in use.
#ifndef FASTRELU_BENCH_SUMMARY_H
#define FASTRELU_BENCH_SUMMARY_H

#include <benchmark/benchmark.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "fastrelu.h"

namespace frb
{
namespace summary
{

struct Plan {
    std::vector<size_t> sizes;
    fastrelu_isa active;            // the load-time choice: the best ISA, capped by FASTRELU_ISA
    std::vector<std::string> peers; // the other libraries registered too: "onednn", "xnnpack"
    std::string min_time;           // as given to Google Benchmark, for the header
    std::string cpu;
};

// A display reporter that prints progress to stderr and the table at the end.
std::unique_ptr<benchmark::BenchmarkReporter> make_reporter(const Plan &plan);

} // namespace summary
} // namespace frb

#endif // FASTRELU_BENCH_SUMMARY_H
