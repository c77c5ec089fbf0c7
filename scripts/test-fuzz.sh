#!/usr/bin/env bash
# Builds tests/fuzz/fuzz_ops with clang (libFuzzer, ASan and UBSan in the library
# too) in build-fuzz/ and fuzzes for SECONDS (default 60), starting from a copy
# of the seed corpus tests/fuzz/corpus/. Fails if the fuzzer finds anything: a
# result that differs from the scalar reference beyond docs/semantics.md's
# bounds, a status that breaks the argument rules, a write by a rejected call,
# an out-of-bounds access or undefined behaviour. The reproducer is left in
# build-fuzz/fuzz-artifacts/; run it alone with build-fuzz/tests/fuzz/fuzz_ops FILE.
#   usage: scripts/test-fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
[[ $seconds =~ ^[0-9]+$ && $seconds -gt 0 ]] || { echo "usage: $0 [SECONDS]" >&2; exit 2; }

bash scripts/install-deps.sh --checks
# Only fuzz_ops is built. OpenMP stays out: fuzzed calls are far below the size
# that wakes a second thread, and its runtime is not instrumented.
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DFASTRELU_FUZZ=ON -DFASTRELU_BUILD_TESTS=OFF -DFASTRELU_BUILD_EXAMPLES=OFF \
      -DFASTRELU_BUILD_BENCH=OFF -DFASTRELU_OPENMP=OFF >/dev/null
cmake --build build-fuzz --target fuzz_ops -j"$(nproc)"

# libFuzzer adds what it finds to its first corpus directory: a scratch copy, not the repo's.
corpus=build-fuzz/fuzz-corpus artifacts=build-fuzz/fuzz-artifacts log=build-fuzz/fuzz.log
rm -rf "$corpus" "$artifacts"
mkdir -p "$corpus" "$artifacts"
cp tests/fuzz/corpus/* "$corpus"/

# max_len: the 21-byte header and about a thousand floats; a PRNG fills larger arrays.
set +e
UBSAN_OPTIONS=print_stacktrace=1 build-fuzz/tests/fuzz/fuzz_ops \
    -max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1
rc=$?
set -e

grep -m1 'ISAs compared' "$log" || true
found=$(find "$artifacts" -type f | tr '\n' ' ')
if [[ $rc -ne 0 || -n $found ]]; then
    # The finding itself (fuzz_ops's MISMATCH, or a sanitizer's report), then libFuzzer's summary.
    grep -m1 -A12 -E 'MISMATCH|ERROR: AddressSanitizer|runtime error|ERROR: libFuzzer' "$log" || tail -n 40 "$log"
    grep -E '^(SUMMARY|artifact_prefix)' "$log" || true
    echo "fuzz_ops: FAILED (exit $rc); reproducer(s): ${found:-none}"
    echo "fuzz_ops: rerun one with: build-fuzz/tests/fuzz/fuzz_ops FILE (full log: $log)"
    exit 1
fi
done_line=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -n 1)
runs=$(awk '{print $2}' <<<"$done_line")
secs=$(awk '{print $5}' <<<"$done_line")
echo "fuzz_ops: ${runs:-?} runs in ${secs:-?} s, 0 failures"
