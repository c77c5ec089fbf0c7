#!/usr/bin/env bash
# Static analysis: clang-tidy (.clang-tidy) and cppcheck (.cppcheck-suppressions.xml)
# over every C and C++ file that the build compiles, each with its own flags:
# the library, every ISA's kernels, the tests, the example and fastrelu-bench;
# then tests/fuzz from a clang configuration with FASTRELU_FUZZ=ON. On x86-64
# the AArch64 cross build is analysed too, for the NEON kernels and the
# aarch64 branches of the CPU detection, dispatch and tests.
#
#   scripts/lint.sh               both builds (installs the AArch64 cross packages)
#   scripts/lint.sh --native-only this machine's build only
#
# Any finding fails. The last line is the summary; the findings are printed
# above it, and the full logs are kept in build-lint/.
set -euo pipefail
cd "$(dirname "$0")/.."

cross=1
for arg in "$@"; do
    case "$arg" in
        --native-only) cross=0 ;;
        *) echo "lint: unknown option $arg" >&2; exit 2 ;;
    esac
done
[[ $(uname -m) == x86_64 ]] || cross=0

deps=(--checks)
((cross)) && deps+=(--aarch64)
bash scripts/install-deps.sh "${deps[@]}"

jobs=2
logs=build-lint/logs
tidy_findings=0 cppcheck_findings=0 failed=0

# The findings of a log, one per line (file:line:col: error: message [check];
# a few analyzer messages run on over more lines, which are left out). A header
# included by several files is reported once. ANSI colours are dropped.
tidy_list() {
    sed 's/\x1b\[[0-9;]*m//g' "$1" | grep -E '^[^ :]+:[0-9]+:[0-9]+: (warning|error): ' |
        sort -u || true
}

# configure DIR [cmake args...]: a build tree with compile_commands.json, not built.
configure() {
    local dir=$1
    shift
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_EXPORT_COMPILE_COMMANDS=ON "$@" \
        >"$logs/configure-$(basename "$dir").log" 2>&1 || {
        cat "$logs/configure-$(basename "$dir").log"
        echo "lint: FAIL: configuring $dir failed"
        exit 1
    }
}

# run_tidy NAME DIR [REGEX]: clang-tidy over the files of DIR's
# compile_commands.json (those whose path matches REGEX, if given).
run_tidy() {
    local name=$1 dir=$2 only=${3:-.} log=$logs/clang-tidy-$1.log rc=0
    if command -v run-clang-tidy >/dev/null; then
        run-clang-tidy -p "$dir" -j "$jobs" -quiet "$only" >"$log" 2>&1 || rc=$?
    else
        python3 -c 'import json,sys; [print(e["file"]) for e in json.load(open(sys.argv[1]))]' \
            "$dir/compile_commands.json" | grep -E "$only" |
            xargs -P "$jobs" -n 1 clang-tidy -p "$dir" --quiet >"$log" 2>&1 || rc=$?
    fi
    local found
    found=$(tidy_list "$log")
    local n=0
    [[ -z $found ]] || n=$(wc -l <<<"$found")
    if ((n > 0)); then
        echo "$found" | sed "s|^$PWD/||"
    elif ((rc != 0)); then
        sed 's/\x1b\[[0-9;]*m//g' "$log" | tail -n 30
        echo "lint: clang-tidy ($name) exited with $rc and no finding; log: $log"
        failed=1
    fi
    tidy_findings=$((tidy_findings + n))
}

# run_cppcheck NAME DIR ARCH_MACRO [GLOB]: cppcheck over DIR's compile_commands.json
# (the files that match GLOB, if given).
# cppcheck does not know the compiler's predefined macros, so the target
# architecture is passed, or the #if __x86_64__ / __aarch64__ code would go
# unchecked. One job: the whole run takes seconds, and cppcheck 2.10 applies
# symbol suppressions to its exit status but not to its output under -j.
run_cppcheck() {
    local name=$1 dir=$2 arch=$3 only=${4:-*} log=$logs/cppcheck-$1.log rc=0
    cppcheck --project="$dir/compile_commands.json" --file-filter="$only" -D"$arch" \
        --enable=warning,style,performance,portability \
        --suppress-xml=.cppcheck-suppressions.xml --inline-suppr \
        --error-exitcode=1 --quiet \
        --template='{file}:{line}:{column}: {severity}: {message} [{id}]' >"$log" 2>&1 || rc=$?
    local found n=0
    found=$(grep -E '^[^ ]+:[0-9]+:[0-9]+: [a-z]+: .*\[[A-Za-z0-9_]+\]$' "$log" | sort -u || true)
    [[ -z $found ]] || n=$(wc -l <<<"$found")
    if ((n > 0)); then
        echo "$found" | sed "s|^$PWD/||"
    elif ((rc != 0)); then
        tail -n 30 "$log"
        echo "lint: cppcheck ($name) exited with $rc and no finding; log: $log"
        failed=1
    fi
    cppcheck_findings=$((cppcheck_findings + n))
}

start=$SECONDS
mkdir -p "$logs"

# Everything but the fuzzer, as the default build compiles it. clang parses C++
# as gnu++14 unless told otherwise, while g++ 12 defaults to gnu++17 and CMake
# then adds no -std for fastrelu-bench's cxx_std_17: say it.
all_on=(-DFASTRELU_BUILD_TESTS=ON -DFASTRELU_BUILD_EXAMPLES=ON -DFASTRELU_SANITIZE= -DFASTRELU_FUZZ=OFF)
configure build-lint "${all_on[@]}" -DFASTRELU_BUILD_BENCH=ON -DCMAKE_CXX_FLAGS=-std=gnu++17
native_arch=$(uname -m | sed 's/^arm64$/aarch64/')
run_tidy native build-lint
run_cppcheck native build-lint "__${native_arch}__"

# The libFuzzer target exists only in a clang build with FASTRELU_FUZZ=ON.
configure build-lint-fuzz -DCMAKE_C_COMPILER=clang -DFASTRELU_FUZZ=ON -DFASTRELU_SANITIZE= \
    -DFASTRELU_BUILD_TESTS=OFF -DFASTRELU_BUILD_EXAMPLES=OFF -DFASTRELU_BUILD_BENCH=OFF
run_tidy fuzz build-lint-fuzz '/tests/fuzz/'
run_cppcheck fuzz build-lint-fuzz "__${native_arch}__" '*tests/fuzz/*'

if ((cross)); then
    configure build-lint-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake \
        "${all_on[@]}" -DFASTRELU_BUILD_BENCH=OFF
    run_tidy aarch64 build-lint-aarch64
    run_cppcheck aarch64 build-lint-aarch64 __aarch64__
fi

scope=$(uname -m)
((cross)) && scope+=" + aarch64"
summary="clang-tidy $tidy_findings findings, cppcheck $cppcheck_findings findings"
((failed == 0)) || summary+=", and a tool failed (see above)"
echo "lint: $summary ($scope, $((SECONDS - start)) s)"
((tidy_findings == 0 && cppcheck_findings == 0 && failed == 0))
