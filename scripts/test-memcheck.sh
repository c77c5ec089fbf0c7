#!/usr/bin/env bash
# Runs the test suite under valgrind's memcheck (`ctest -T memcheck`): a read of
# uninitialised memory, an invalid read or write, a bad free or a definite leak
# fails the test that caused it. The valgrind options live in CMakeLists.txt,
# next to include(CTest), so `ctest -T memcheck` in any gcc build dir does the same.
#
# AVX-512: valgrind 3.19 cannot run it, and says so to the program. Its virtual
# CPU reports no AVX-512 in CPUID and only the x87/SSE/AVX state in XCR0, so the
# library selects AVX2 by itself and the tests report AVX-512 as skipped. No
# FASTRELU_ISA cap is needed, and a cap would not be enough anyway:
# fastrelu_set_isa and the kernel tests reach every ISA the CPU reports,
# whatever the cap. The AVX-512 kernels' memory accesses are checked by ASan
# (scripts/test-sanitize.sh), which runs on the real CPU.
#
# FASTRELU_TEST_QUICK=1 trims the sweeps, as valgrind runs the kernels some 50
# times slower. Left out: the install test (its work is cmake and the compiler,
# not our code) and the exhaustive ELU sweep.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --checks
cmake -S . -B build-memcheck -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DFASTRELU_BUILD_BENCH=OFF -DMEMORYCHECK_COMMAND="$(command -v valgrind)" >/dev/null
cmake --build build-memcheck -j"$(nproc)"
valgrind -q build-memcheck/examples/fastrelu_example | grep ISA # what valgrind's CPU offers

log=build-memcheck/memcheck.log
status=0
FASTRELU_TEST_QUICK=1 ctest --test-dir build-memcheck -T memcheck --output-on-failure \
    -j"$(nproc)" -LE 'exhaustive|install' 2>&1 | tee "$log" || status=$?

# valgrind's --error-exitcode fails the test itself; this also catches any
# defect ctest found in valgrind's logs that did not, so one cannot slip by.
defects=$(sed -n '/^Memory checking results:/,$p' "$log" | grep -E ' - [0-9]+$' || true)
if [[ -n "$defects" ]]; then
    echo "memcheck defects (logs in build-memcheck/Testing/Temporary/MemoryChecker.*.log):"
    echo "$defects"
    status=1
fi
grep -E '^[0-9]+% tests passed' "$log" || status=1
exit "$status"
