#!/usr/bin/env bash
# Runs the test suite with AddressSanitizer and UndefinedBehaviorSanitizer in
# every target: out-of-bounds access, use after free, leaks, and undefined
# behaviour such as signed overflow or misaligned access all fail a test.
# The install test is left out: its consumer is built without the sanitizers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DFASTRELU_SANITIZE=address,undefined -DFASTRELU_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j"$(nproc)"
ctest --test-dir build-asan --output-on-failure -j"$(nproc)" -LE 'exhaustive|install'
