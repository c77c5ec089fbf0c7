#!/usr/bin/env bash
# Checks that each kernel table's slots point at that ISA's kernels, by name:
# a line "<isa> <op>_<dir> <offset>" (isa nt_avx2 for a streaming twin's kernel)
# says that slot must be the function fr_f32_<op>_<dir>__<isa>.
# The names are local symbols of each ISA's object, kept in the linked program.
#
# usage: table_symbols.sh NM PROGRAM [EMULATOR...]
#   PROGRAM is tests/table_addresses.c, built against the static library;
#   EMULATOR (e.g. qemu-aarch64) runs it when cross-compiling.
set -euo pipefail
nm_tool=$1 prog=$2
shift 2

# address -> the function names there, space-separated (identical code may share one).
# GCC may suffix a local symbol (foo.lto_priv.0); the name proper is before the dot.
declare -A names_at
base=
while read -r addr type name; do
    case $type in
    t | T) names_at[$((16#$addr))]+=" ${name%%.*}" ;;
    *) [[ $name == fr_kernels_scalar ]] && base=$((16#$addr)) ;;
    esac
done < <("$nm_tool" --defined-only "$prog")
# A stripped program has no names left to check: skipped (ctest SKIP_RETURN_CODE).
[[ -n $base ]] || { echo "no symbols for fr_kernels_scalar in $prog: skipped"; exit 77; }

table=$("$@" "$prog")
lines=0 bad=0
while read -r isa slot offset; do
    [[ -n $isa ]] || continue
    want=fr_f32_${slot}__${isa}
    got=${names_at[$((base + offset))]-}
    if [[ " $got " != *" $want "* ]]; then
        echo "$slot: points at '${got# }', want $want" >&2
        bad=$((bad + 1))
    fi
    lines=$((lines + 1))
done <<<"$table"

[[ $lines -gt 0 ]] || { echo "$prog printed no tables" >&2; exit 1; }
echo "$lines slots checked, $bad wrong"
[[ $bad -eq 0 ]]
