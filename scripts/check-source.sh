#!/bin/sh
# check-source.sh: bans unsafe or ambiguous libc calls (STYLE.md habit 10)
# and checks that every source file opens with a purpose comment.
# Raw malloc/free belong to util/alloc.c alone; a line may opt out with a
# trailing "/* sl: allow */" when a library hands us memory to free().
set -eu
cd "$(dirname "$0")/.."
status=0
files=$(git ls-files '*.c' '*.h' | grep -v '^tests/' || true)
for f in $files; do
    out=$(grep -nE '\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|atof|gets)\s*\(' "$f" | grep -v 'sl: allow' || true)
    if [ -n "$out" ]; then
        echo "$f: banned call:"; echo "$out"; status=1
    fi
    case "$f" in util/alloc.c|cli/*) ;; *)
        out=$(grep -nE '(^|[^_a-z])(malloc|calloc|realloc|free)\s*\(' "$f" | grep -v 'sl: allow' || true)
        if [ -n "$out" ]; then
            echo "$f: raw allocation (use sl_malloc/sl_free):"; echo "$out"; status=1
        fi
    esac
    head -c 3 "$f" | grep -q '^/\*' || { echo "$f: missing purpose comment"; status=1; }
done
[ $status -eq 0 ] && echo "source check: $(echo "$files" | wc -l) files clean"
exit $status
