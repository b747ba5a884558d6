#!/bin/sh
# check-symbols.sh: libsluice.so must export sluice_* and nothing else
# (STYLE.md, symbol tiers). Usage: check-symbols.sh path/to/libsluice.so
set -eu
lib=$1
syms=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVWi]$/ {sub(/@.*/, "", $3); print $3}')
[ -n "$syms" ] || { echo "no exported symbols in $lib"; exit 1; }
bad=$(printf '%s\n' "$syms" | grep -v '^sluice_' | grep -v '^SLUICE_' || true)
if [ -n "$bad" ]; then
    echo "symbols exported outside sluice_*:"
    printf '%s\n' "$bad"
    exit 1
fi
echo "$(printf '%s\n' "$syms" | wc -l) exported symbols, all sluice_*"
for need in sluice_open sluice_close sluice_exec sluice_errmsg sluice_libversion; do
    printf '%s\n' "$syms" | grep -qx "$need" || { echo "missing $need"; exit 1; }
done
