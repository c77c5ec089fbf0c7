#!/usr/bin/env bash
# ABI check: builds libfastrelu.so with debug info in build-abi/, describes its
# public ABI with libabigail's abidw (only what include/ declares and the
# library exports) and compares it with the baseline kept in the repository,
# abi/<SONAME>.abi.
#
#   scripts/check-abi.sh            compare; fails on any difference
#   scripts/check-abi.sh --update   rewrite the baseline (refuses an incompatible
#                                   change unless the SONAME changed too)
#
# Policy:
# - Incompatible: a function or variable removed, or changed in any way (its
#   parameters, its return type, an enumerator's value, a struct reachable from
#   it). Under the same SONAME this always fails, --update included. A new ABI
#   is started on purpose by raising FASTRELU_SOVERSION in CMakeLists.txt (with a
#   new version node in cmake/fastrelu.map), then running --update, which
#   records abi/<new SONAME>.abi and removes the old baseline. (Should the
#   baseline itself be wrong, delete it: --update then records a fresh one.)
# - Compatible: functions or enumerators added. The check fails until the
#   baseline is refreshed with --update, so that it never goes stale.
# - The description carries no locations or build paths, so a clone anywhere
#   produces the same file; even a renamed parameter asks for --update.
set -euo pipefail
cd "$(dirname "$0")/.."

update=0
for arg in "$@"; do
    case "$arg" in
        --update) update=1 ;;
        *) echo "usage: scripts/check-abi.sh [--update]" >&2; exit 2 ;;
    esac
done

bash scripts/install-deps.sh --checks

build=build-abi
mkdir -p "$build"

fail() {
    echo "abi: FAIL: $*"
    exit 1
}

# ---- build and describe the library ------------------------------------------

# -ffile-prefix-map makes the debug info's paths relative to the source tree.
maps="-ffile-prefix-map=$PWD/="
[[ $(pwd -P) == "$PWD" ]] || maps+=" -ffile-prefix-map=$(pwd -P)/="
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_C_FLAGS=$maps" \
    -DFASTRELU_BUILD_TESTS=OFF -DFASTRELU_BUILD_EXAMPLES=OFF -DFASTRELU_BUILD_BENCH=OFF \
    -DFASTRELU_SANITIZE= >"$build/configure.log" 2>&1 || { cat "$build/configure.log"; fail "configure"; }
cmake --build "$build" --target fastrelu -j2 >"$build/build.log" 2>&1 ||
    { cat "$build/build.log"; fail "build"; }

soname=$(readelf -d "$build/libfastrelu.so" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
[[ -n $soname ]] || fail "no SONAME in $build/libfastrelu.so"

# Public types only (--headers-dir, --drop-private-types), exported functions
# only, no undefined symbols; nothing that depends on the machine or the clone:
# no locations, paths, DT_NEEDED list or architecture.
current=$build/$soname.abi
abidw --headers-dir include --drop-private-types --exported-interfaces-only --drop-undefined-syms \
    --no-show-locs --no-corpus-path --no-comp-dir-path --no-elf-needed --no-architecture \
    "$build/$soname" --out-file "$current"
grep -q '<function-decl' "$current" || fail "abidw found no debug info in $build/$soname"

record() {
    mkdir -p abi
    cp "$current" "abi/$soname.abi"
    echo "abi: $1"
    exit 0
}

# ---- the baseline ---------------------------------------------------------------

shopt -s nullglob
baselines=(abi/libfastrelu.so.*.abi)
shopt -u nullglob
if ((${#baselines[@]} == 0)); then
    ((update)) && record "recorded abi/$soname.abi (new baseline)"
    fail "no baseline abi/libfastrelu.so.*.abi; create it with scripts/check-abi.sh --update"
fi
((${#baselines[@]} == 1)) || fail "more than one baseline: ${baselines[*]}"
baseline=${baselines[0]}
base_soname=$(sed -n "1s/.*soname='\([^']*\)'.*/\1/p" "$baseline")

# abidiff's exit status is a bit field: 1 error, 2 usage error, 4 ABI change,
# 8 incompatible change (libabigail 2.2 sets 8 only for removals).
diff_abi() {
    local rc=0
    abidiff --no-architecture "$@" "$baseline" "$current" >"$build/abidiff.txt" 2>&1 || rc=$?
    if ((rc & 3)); then
        cat "$build/abidiff.txt"
        fail "abidiff could not compare $baseline with $current (status $rc)"
    fi
    return "$rc"
}

# "<removed> <changed> <added>" summed over abidiff's summary lines; the
# changes it filters out as harmless are not counted.
count() {
    local kind
    for kind in Removed Changed Added; do
        { grep 'changes summary:' "$build/abidiff.txt" || true; } |
            { grep -oE "[0-9]+ $kind" || true; } | awk '{ s += $1 } END { printf "%d ", s }'
    done
    echo
}

if [[ $base_soname != "$soname" ]]; then
    diff_abi || true
    cat "$build/abidiff.txt"
    if ((update)); then
        rm "$baseline"
        record "recorded abi/$soname.abi for the new SONAME (removed $baseline)"
    fi
    echo "The library's SONAME is $soname; the baseline describes $base_soname."
    echo "If FASTRELU_SOVERSION was raised on purpose, record the new ABI:"
    echo "    scripts/check-abi.sh --update   # then commit abi/"
    fail "SONAME $soname differs from the baseline's $base_soname"
fi

if cmp -s "$baseline" "$current"; then
    ((update)) && echo "abi: $baseline is already up to date" && exit 0
    echo "abi: compatible with $baseline (identical)"
    exit 0
fi

rc=0
diff_abi || rc=$?
read -r removed changed added < <(count)
if ((rc & 8 || removed > 0 || changed > 0)); then
    cat "$build/abidiff.txt"
    echo "This breaks programs built against $soname. Undo it, or start a new ABI"
    echo "version on purpose: raise FASTRELU_SOVERSION in CMakeLists.txt, add a version"
    echo "node to cmake/fastrelu.map, then run scripts/check-abi.sh --update."
    ((update)) && echo "(--update refuses to record it under the same SONAME.)"
    fail "incompatible change to $soname: $removed removed, $changed changed (functions and variables)"
fi

if ((rc & 4)); then
    what="$added added"
else
    # Nothing harmful: show what abidiff calls harmless (an enumerator appended,
    # say), or else the raw difference (a renamed parameter).
    rc=0
    diff_abi --harmless || rc=$?
    if ((rc & 4)); then
        what="harmless changes only"
    else
        diff -u "$baseline" "$current" >"$build/abidiff.txt" || true
        what="no ABI change, the description differs"
    fi
fi
cat "$build/abidiff.txt"
((update)) && record "updated $baseline (compatible: $what)"
echo "The change is compatible; record it so that the baseline stays current:"
echo "    scripts/check-abi.sh --update   # then commit $baseline"
fail "$baseline is out of date (compatible: $what)"
