#!/usr/bin/env bash
# Installs the current build tree into a fresh prefix and checks what a user
# gets there: a shared library with SONAME libfastrelu.so.0 that exports the
# public fastrelu_* functions and nothing else, and a tiny consumer that
# builds and runs once through pkg-config and once through find_package.
#
# usage: run.sh BUILD_DIR WORK_DIR VERSION C_COMPILER CMAKE GENERATOR
set -euo pipefail

build=$1 work=$2 version=$3 cc=$4 cmake=$5 generator=$6
here=$(cd "$(dirname "$0")" && pwd)
prefix=$work/prefix

fail() {
    echo "install test: $*" >&2
    exit 1
}

# Runs a command with its output in a log that is shown only if it fails.
logged() {
    local log=$work/$1
    shift
    "$@" >"$log" 2>&1 || { cat "$log" >&2; fail "failed: $*"; }
}

# The path a binary loads libfastrelu from must be inside the prefix, not a
# copy installed elsewhere on the system or left in the build tree.
expect_loads_installed() {
    local found
    found=$(ldd "$1" | awk '/libfastrelu\.so/ {print $3}')
    [ "$(realpath "$found")" = "$(realpath "$libdir/libfastrelu.so.0")" ] ||
        fail "$1 loads libfastrelu from '$found', not from $libdir"
}

rm -rf "$work"
mkdir -p "$work"
logged install.log "$cmake" --install "$build" --prefix "$prefix"

# ---- the installed files ------------------------------------------------------
pc=$(find "$prefix" -path '*/pkgconfig/fastrelu.pc' | head -n 1)
[ -n "$pc" ] || fail "no fastrelu.pc under $prefix"
libdir=$(dirname "$(dirname "$pc")")
header=$(find "$prefix" -name fastrelu.h | head -n 1)
[ -n "$header" ] || fail "no fastrelu.h under $prefix"
for f in libfastrelu.so libfastrelu.so.0 libfastrelu.a cmake/fastrelu/fastreluConfig.cmake \
    cmake/fastrelu/fastreluConfigVersion.cmake; do
    [ -e "$libdir/$f" ] || fail "$libdir/$f is not installed"
done
so=$libdir/libfastrelu.so.0

# ---- SONAME and exported symbols -------------------------------------------------
soname=$(readelf -d "$so" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
[ "$soname" = libfastrelu.so.0 ] || fail "SONAME is '$soname', want libfastrelu.so.0"

# nm prints "ADDR TYPE name@@VERSION"; the version node itself is an absolute (A) symbol.
nm -D --defined-only "$so" >"$work/symbols.txt"
stray=$(awk '!($2 == "A" && $3 ~ /^FASTRELU_[0-9]+$/) && $3 !~ /^fastrelu_[a-z0-9_]+@@FASTRELU_0$/' \
    "$work/symbols.txt")
[ -z "$stray" ] || fail "exported besides fastrelu_*@@FASTRELU_0: $stray"
# Exactly the functions the installed header declares, no more and no fewer.
grep 'FASTRELU_API' "$header" | grep -o 'fastrelu_[a-z0-9_]*(' | tr -d '(' | sort >"$work/declared.txt"
awk '$3 ~ /^fastrelu_/ {sub(/@.*/, "", $3); print $3}' "$work/symbols.txt" | sort >"$work/exported.txt"
[ -s "$work/declared.txt" ] || fail "found no FASTRELU_API functions in $header"
diff "$work/declared.txt" "$work/exported.txt" >&2 ||
    fail "exported functions differ from those declared in fastrelu.h (< declared, > exported)"

# ---- a consumer through pkg-config ----------------------------------------------
export PKG_CONFIG_PATH=$libdir/pkgconfig
for var in includedir libdir; do
    got=$(pkg-config --variable="$var" fastrelu)
    want=$([ "$var" = libdir ] && echo "$libdir" || dirname "$header")
    [ "$(realpath -m "$got")" = "$(realpath "$want")" ] ||
        fail "fastrelu.pc says $var=$got, but it is installed in $want"
done
# shellcheck disable=SC2046 # pkg-config's flags are meant to be split into words
logged pkg-config.log "$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror \
    -DEXPECTED_VERSION="\"$version\"" "$here/consumer/main.c" -o "$work/app_pkgconfig" \
    $(pkg-config --cflags --libs fastrelu)
LD_LIBRARY_PATH=$libdir expect_loads_installed "$work/app_pkgconfig"
LD_LIBRARY_PATH=$libdir "$work/app_pkgconfig"

# ---- a consumer through find_package ------------------------------------------
logged cmake-configure.log "$cmake" -S "$here/consumer" -B "$work/consumer" -G "$generator" \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_PREFIX_PATH="$prefix" -DEXPECTED_VERSION="$version"
found=$(sed -n 's/^fastrelu_DIR:PATH=//p' "$work/consumer/CMakeCache.txt")
[ "$(realpath "$found")" = "$(realpath "$libdir/cmake/fastrelu")" ] ||
    fail "find_package found fastrelu in $found, not in the prefix"
logged cmake-build.log "$cmake" --build "$work/consumer"
expect_loads_installed "$work/consumer/app"
"$work/consumer/app"
"$work/consumer/app_static"
echo "install test: ok ($prefix)"
