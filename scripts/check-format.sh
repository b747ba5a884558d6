#!/bin/sh
# check-format.sh: every tracked C file is formatted by .clang-format.
# `--fix` rewrites the files instead of reporting.
set -eu
cd "$(dirname "$0")/.."
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
[ -n "$files" ] || exit 0
if [ "${1:-}" = "--fix" ]; then
    # shellcheck disable=SC2086
    clang-format -i $files
    exit 0
fi
# shellcheck disable=SC2086
if ! clang-format --dry-run -Werror $files 2>/tmp/sluice-format.$$; then
    grep 'error:' /tmp/sluice-format.$$ | head -20
    rm -f /tmp/sluice-format.$$
    echo "format check failed: run scripts/check-format.sh --fix"
    exit 1
fi
rm -f /tmp/sluice-format.$$
echo "format check: $(echo "$files" | wc -l) files formatted"
