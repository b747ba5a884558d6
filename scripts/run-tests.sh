#!/bin/sh
# run-tests.sh: the whole suite, as `make test` and CI run it.
#   1. source checks (format, banned calls, purpose comments)
#   2. release build + ctest (Criterion unit tests, golden SQL, symbols)
#   3. ASan+UBSan build + the same ctest
#   4. valgrind over the golden SQL suite (no leaks, no memory errors)
#   5. a short libFuzzer run of every fuzz target (clang)
# Prints each Criterion synthesis line and a closing "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
JOBS=$(nproc 2>/dev/null || echo 2)
fail=0
total_pass=0
total_fail=0

note() { printf '\n==== %s\n' "$*"; }

tally() { # $1: ctest log
    # Criterion prints "[====] Synthesis: Tested: N | Passing: N | Failing: N | Crashing: N"
    grep -h 'Synthesis:' "$1" | sed 's/\x1b\[[0-9;]*m//g' > "$1.synth" || true
    cat "$1.synth"
    p=$(awk -F'|' '{ split($2,a,":"); s+=a[2] } END { print s+0 }' "$1.synth")
    f=$(awk -F'|' '{ split($3,a,":"); split($4,b,":"); s+=a[2]+b[2] } END { print s+0 }' "$1.synth")
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
}

run_suite() { # $1: build dir, $2..: cmake args
    dir=$1; shift
    note "build $dir ($*)"
    cmake -S . -B "$dir" "$@" >"$dir.cmake.log" 2>&1 || { cat "$dir.cmake.log"; return 1; }
    cmake --build "$dir" -j"$JOBS" >"$dir.build.log" 2>&1 || { tail -50 "$dir.build.log"; return 1; }
    note "ctest $dir"
    ctest --test-dir "$dir" --output-on-failure -j"$JOBS" -V >"$dir.ctest.log" 2>&1
    rc=$?
    grep -E '^[0-9]+/[0-9]+ Test|tests passed|tests failed|The following tests FAILED|^\s+[0-9]+ - ' "$dir.ctest.log" | sed 's/^/  /'
    if [ $rc -ne 0 ]; then
        # show the failing tests' output
        grep -nE '\[(FAIL|----)\]|Assertion|ERROR|Sanitizer|runtime error' "$dir.ctest.log" | head -60
    fi
    tally "$dir.ctest.log"
    return $rc
}

note "source checks"
sh scripts/check-format.sh || fail=1
sh scripts/check-source.sh || fail=1

mkdir -p build build-asan
run_suite build -DCMAKE_BUILD_TYPE=RelWithDebInfo || fail=1
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
LSAN_OPTIONS=suppressions=$(pwd)/tests/lsan.supp \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=ON || fail=1

if command -v valgrind >/dev/null 2>&1 && [ -x build/tests/test_golden ]; then
    note "valgrind over the golden SQL suite (leaks and memory errors)"
    if valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
           --show-leak-kinds=definite,indirect --trace-children=yes \
           --error-exitcode=9 ./build/tests/test_golden --jobs=2 \
           >build/valgrind-golden.log 2>&1; then
        grep 'Synthesis' build/valgrind-golden.log | sed 's/^/  valgrind: /'
    else
        echo "  valgrind found errors:"; grep -v '^\[----\] Warning' build/valgrind-golden.log | tail -40
        fail=1
    fi
fi

if command -v clang >/dev/null 2>&1 && ls tests/fuzz/fuzz_*.c >/dev/null 2>&1; then
    note "fuzz (short run; see docs/fuzzing.md for the long one)"
    mkdir -p build-fuzz
    if CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DSLUICE_FUZZ=ON \
            -DSLUICE_SANITIZE=ON >build-fuzz.cmake.log 2>&1 &&
       cmake --build build-fuzz -j"$JOBS" >build-fuzz.build.log 2>&1; then
        for t in build-fuzz/tests/fuzz_*; do
            [ -x "$t" ] || continue
            name=$(basename "$t")
            corpus=tests/fuzz/corpus/${name#fuzz_}
            mkdir -p "build-fuzz/corpus-$name"
            if "$t" -max_total_time="${SLUICE_FUZZ_SECONDS:-20}" -max_len=65536 \
                   "build-fuzz/corpus-$name" $( [ -d "$corpus" ] && echo "$corpus" ) \
                   >"build-fuzz/$name.log" 2>&1; then
                echo "  $name: $(grep -o 'Done [0-9]* runs' "build-fuzz/$name.log" | tail -1), no crash"
                total_pass=$((total_pass + 1))
            else
                echo "  $name: FAILED"; tail -40 "build-fuzz/$name.log"
                total_fail=$((total_fail + 1)); fail=1
            fi
        done
    else
        tail -n 30 build-fuzz.cmake.log; tail -n 30 build-fuzz.build.log; fail=1
    fi
fi

note "summary"
echo "Criterion: Tested: $((total_pass + total_fail)) | Passing: $total_pass | Failing: $total_fail"
[ $fail -eq 0 ] || [ $total_fail -gt 0 ] || total_fail=1
echo "$total_pass passed, $total_fail failed"
exit $fail
