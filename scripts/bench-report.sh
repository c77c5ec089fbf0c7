#!/usr/bin/env bash
# Reproduces the tables of docs/performance.md on this machine: fastrelu-bench
# --summary for each x86 ISA (capped with FASTRELU_ISA), with one and two
# threads, plus the clock estimate those tables are read against. Each figure
# is the median of 3 repetitions: this VM's neighbours move single runs.
#   scripts/bench-report.sh [build-dir] [out-dir]     (defaults: build, bench-report)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=${2:-bench-report}
bench=$build/bench/fastrelu-bench
[[ -x $bench ]] || { echo "bench-report: build fastrelu-bench first ($bench)" >&2; exit 1; }
mkdir -p "$out"

# A chain of dependent integer adds runs at one per cycle: adds per ns = GHz.
cat >"$out/clock.c" <<'C'
#include <stdio.h>
#include <time.h>
int main(void)
{
    for (int rep = 0; rep < 5; rep++) {
        long n = 100000000, x = 0;
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        __asm__ volatile("1: add $1, %0\n add $1, %0\n add $1, %0\n add $1, %0\n dec %1\n jnz 1b"
                         : "+r"(x), "+r"(n));
        clock_gettime(CLOCK_MONOTONIC, &b);
        double s = (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec);
        printf("%.2f GHz\n", 4e8 / s / 1e9);
    }
    return 0;
}
C
cc -O1 "$out/clock.c" -o "$out/clock"
"$out/clock" | tee "$out/clock.txt"

# One-thread runs stay on the last CPU: unpinned, the same 1Ki call read about
# 140 or 205 ns by turns on the Zen 5 VM.
pin=()
if command -v taskset >/dev/null; then
    pin=(taskset -c "$(($(nproc) - 1))")
fi

# oneDNN, XNNPACK and PyTorch pick their own kernels whatever FASTRELU_ISA says:
# their rows run once, with the best ISA's table.
others=()
for isa in avx512 avx2 sse2; do
    if FASTRELU_ISA=$isa "$bench" --summary --sizes=1 2>/dev/null | grep -q "ISA in use $isa"; then
        FASTRELU_ISA=$isa "${pin[@]}" "$bench" --summary --benchmark_repetitions=3 "${others[@]}" \
            2>/dev/null | tee "$out/summary-$isa.txt"
        others=("--benchmark_filter=-^(onednn|xnnpack|pytorch)/")
    fi
done
"$bench" --summary --threads=2 --sizes=256Ki,4Mi,64Mi --benchmark_repetitions=3 "${others[@]}" \
    2>/dev/null | tee "$out/summary-2threads.txt"
echo "bench-report: tables in $out/"
