#!/usr/bin/env bash
# Runs the test suite built with ThreadSanitizer (clang): a data race in the
# library, be it on the dispatch table, the thread count, or between the
# OpenMP threads that share one call, fails the test that ran into it
# (test_stress and test_threads are the ones that go looking).
#
# OpenMP: clang brings LLVM's libomp, which is not instrumented. Archer
# (libarcher.so, shipped with libomp) tells TSan about OpenMP's barriers and
# joins, so the arrays split across a team are checked, neither flagged nor
# ignored. Archer asks for ignore_noninstrumented_modules=1, which drops the
# accesses made inside uninstrumented libraries (libomp, libc, cmocka) and none
# of ours; without it TSan reports libomp's internal mutexes as races.
#
# TSan in clang 14 instruments accesses of 1 to 16 bytes: it sees the loads and
# stores of the scalar and SSE2 kernels, not the 32- and 64-byte ones of AVX2
# and AVX-512. test_threads and test_stress run every ISA, so the splitting of
# calls is checked through the first two.
#
# The install test is left out: its consumers are built without TSan.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --checks
cmake -S . -B build-tsan -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DFASTRELU_SANITIZE=thread -DFASTRELU_BUILD_BENCH=OFF >/dev/null
cmake --build build-tsan -j"$(nproc)"

# The libomp this build links, and Archer beside it; without them the OpenMP path goes unchecked.
libomp=$(sed -n 's/^OpenMP_omp_LIBRARY:FILEPATH=//p' build-tsan/CMakeCache.txt)
archer=$(dirname "${libomp:-.}")/libarcher.so
if [[ ! -f "$libomp" || ! -f "$archer" ]]; then
    echo "test-tsan: clang found no libomp with Archer (Debian libomp-14-dev)" >&2
    exit 1
fi
export OMP_TOOL_LIBRARIES="$archer" TSAN_OPTIONS=ignore_noninstrumented_modules=1

log=build-tsan/tsan.log
status=0
FASTRELU_TEST_QUICK=1 ctest --test-dir build-tsan --output-on-failure -j"$(nproc)" \
    -LE 'exhaustive|install' 2>&1 | tee "$log" || status=$?
grep -E '^[0-9]+% tests passed' "$log" || status=1
exit "$status"
