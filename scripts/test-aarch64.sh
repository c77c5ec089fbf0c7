#!/usr/bin/env bash
# Cross-builds libfastrelu for AArch64 and runs the test suite under
# qemu-aarch64, which exercises the scalar and NEON kernels.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --aarch64
cmake -S . -B build-aarch64 -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake \
      -DFASTRELU_BUILD_BENCH=OFF >/dev/null
cmake --build build-aarch64 -j"$(nproc)"
ctest --test-dir build-aarch64 --output-on-failure -j"$(nproc)" -LE exhaustive
