#!/usr/bin/env bash
# Installs, from Debian 12's archive, whatever the build, tests and benchmarks
# need and this machine lacks. Run as root (or with sudo available).
#   scripts/install-deps.sh            native build, tests, fastrelu-bench, oneDNN and
#                                      XNNPACK side by side
#   scripts/install-deps.sh --aarch64  also the AArch64 cross compiler, arm64 libraries, qemu
#   scripts/install-deps.sh --pytorch  also PyTorch's C++ library (libtorch-dev, about 150 MB
#                                      with what it pulls in) for fastrelu-bench's pytorch rows
#   scripts/install-deps.sh --checks   also the hardening tools: clang with libFuzzer,
#                                      ThreadSanitizer and libomp (Archer), clang-tidy,
#                                      cppcheck, valgrind, libabigail
set -euo pipefail

native=(cmake make gcc g++ pkg-config python3 python3-matplotlib
        libcpu-features-dev libcmocka-dev libbenchmark-dev libbenchmark-tools python3-scipy libdnnl-dev
        libxnnpack-dev libpthreadpool-dev)
cross=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user libc6:arm64 libgomp1:arm64
       libcmocka-dev:arm64 libcpu-features-dev:arm64)
checks=(clang libclang-rt-14-dev libomp-14-dev clang-tidy cppcheck valgrind abigail-tools)
pytorch=(libtorch-dev)

want=("${native[@]}")
for arg in "$@"; do
    case "$arg" in
        --aarch64) want+=("${cross[@]}") ;;
        --checks) want+=("${checks[@]}") ;;
        --pytorch) want+=("${pytorch[@]}") ;;
        *) echo "install-deps: unknown option $arg" >&2; exit 2 ;;
    esac
done

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "install-deps: installing ${missing[*]}"
if [[ " $* " == *" --aarch64 "* ]] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
    as_root dpkg --add-architecture arm64
fi
export DEBIAN_FRONTEND=noninteractive
as_root apt-get update -qq
as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
